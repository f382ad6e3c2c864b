// The admin console's audit log: every kind of event the server records has a name people
// read, the filters become the query string of the page and of the CSV download, and an
// event's details are written as a short line.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { appModule } from './_app_support.mjs';

const { KINDS, auditQuery, detailsLine } = await appModule('views/console-audit.js');

test('every kind in protocol/audit.py has a name, and no other', () => {
  const source = readFileSync(new URL('../../protocol/audit.py', import.meta.url), 'utf8');
  const enumBody = source.split('class AuditKind')[1].split('\nclass ')[0].split('\nDetailValue')[0];
  const kinds = [...enumBody.matchAll(/^\s+[A-Z_0-9]+ = "([a-z_0-9]+)"/gm)].map((m) => m[1]);
  assert.ok(kinds.length > 30, `found ${kinds.length} kinds`);
  assert.deepEqual(Object.keys(KINDS).sort(), kinds.sort());
});

test('only the filters that are set go in the query, the page last', () => {
  assert.equal(auditQuery({ person: '', kind: '', since: '', until: '' }), '');
  assert.equal(
    auditQuery({ person: '12', kind: 'signin_failed', since: '2026-12-01', until: '' }, 480),
    '?person=12&kind=signin_failed&since=2026-12-01&before=480',
  );
});

test('details are a short line, with nothing for empty values', () => {
  assert.equal(detailsLine({ epoch: 4, envelopes: 2, reason: null, extended: false }), 'epoch: 4, envelopes: 2, extended: false');
  assert.equal(detailsLine({ through_seq: 9 }), 'through seq: 9');
  assert.equal(detailsLine({}), '');
});
