// The admin console's records: every erasure reason the server accepts has a name people
// read, and a record's state cell says where the conversation is in its retention.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { appModule } from './_app_support.mjs';

const { REASONS, recordState } = await appModule('views/console-records.js');

test('every reason in protocol/practice.py has a name, and no other', () => {
  const source = readFileSync(new URL('../../protocol/practice.py', import.meta.url), 'utf8');
  const literal = source.split('ErasureReason = Literal[')[1].split(']')[0];
  const reasons = [...literal.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(reasons.length >= 4, `found ${reasons.length} reasons`);
  assert.deepEqual(Object.keys(REASONS).sort(), reasons.sort());
});

test('a record says whether it is kept, requested, being erased or erased', () => {
  const base = { erase_after: '2033-01-02T10:00:00Z', erasure_requested_at: null, erased_at: null };
  assert.match(recordState({ ...base, status: 'discharged' }), /^Kept until .*2033/);
  assert.match(
    recordState({ ...base, status: 'discharged', erasure_requested_at: '2026-12-06T10:00:00Z' }),
    /^Erasure requested .*2026/,
  );
  assert.equal(recordState({ ...base, status: 'erasing', erasure_requested_at: '2026-12-06T10:00:00Z' }), 'Being erased');
  assert.match(recordState({ ...base, status: 'erased', erased_at: '2026-12-07T10:00:00Z' }), /^Erased .*2026/);
});
