// An export verifies as made, and any change to it is refused, naming what changed
// (crypto/SPEC.md, "Exports"); the twin of tests/crypto/test_exports_refuse_any_change.py.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { confide, utf8 } from './_support.mjs';

const { ExportMember, ExportMessage, IdentityKeyPair, makeExport, verifyExport } = confide;
const CONVERSATION = '6f1c7a3e-2d5b-4c8e-9a0b-1c2d3e4f5a6b';
const T0 = 1_796_300_000_000;
const people = {
  client: IdentityKeyPair.generate(),
  therapist: IdentityKeyPair.generate(),
  stranger: IdentityKeyPair.generate(),
};

function exportOf(exporter = 'client', therapistName = 'therapist') {
  const client = people.client;
  const therapist = people[therapistName];
  return makeExport(people[exporter], CONVERSATION, {
    client: new ExportMember({ name: 'Clara', identity: client.public }),
    therapist: new ExportMember({ name: 'Theo', identity: therapist.public }),
    messages: [
      new ExportMessage({ seq: 1, sender: 'client', time: T0, signer: client.public.signKey, text: "I'm not sleeping <again>." }),
      new ExportMessage({ seq: 2, sender: 'therapist', time: T0 + 60_000, signer: therapist.public.signKey, text: 'Thank you.' }),
      new ExportMessage({ seq: 3, sender: 'client', time: T0 + 120_000, signer: client.public.signKey, text: 'See you & bye' }),
    ],
    exportedAt: T0 + 180_000,
  });
}

const text = (bytes) => new TextDecoder().decode(bytes);
const element = (file, seq) => new RegExp(`<li[^>]*id="m${seq}"[\\s\\S]*?</li>\\n`).exec(text(file))[0];
const trusted = { trusted: [people.client.public] };

test('an export verifies as made, and its HTML is text', () => {
  const file = exportOf();
  const verified = verifyExport(file, trusted);
  assert.equal(verified.exporter, 'client');
  assert.equal(verified.conversationId, CONVERSATION);
  assert.deepEqual(
    verified.messages.map((m) => m.text),
    ["I'm not sleeping <again>.", 'Thank you.', 'See you & bye'],
  );
  assert.ok(text(file).includes('&lt;again&gt;') && !text(file).includes('<again>'));
  assert.ok(!/<script|src=|href=/.test(text(file)));
  const number = confide.safetyNumber(people.client.public, people.therapist.public);
  assert.ok(verifyExport(file, { safetyNumbers: [confide.formatSafetyNumber(number)] }));
});

test('one byte changed anywhere is refused', () => {
  const file = exportOf();
  for (let offset = 0; offset < file.length; offset += 1) {
    const changed = new Uint8Array(file);
    changed[offset] ^= 0x01;
    assert.throws(() => verifyExport(changed, trusted), confide.CryptoError, `offset ${offset}`);
  }
});

test('a changed, a removed and an added message are named', () => {
  const file = exportOf();
  const changed = utf8(text(file).replace('Thank you.', 'Thank yov.'));
  assert.throws(() => verifyExport(changed, trusted), { name: 'BindingError', message: /message 2 was changed$/ });
  const removed = utf8(text(file).replace(element(file, 2), ''));
  assert.throws(() => verifyExport(removed, trusted), { name: 'BindingError', message: /message 2 is missing$/ });
  const third = element(file, 3);
  const fourth = third.replace('"m3"', '"m4"').replace('"3"', '"4"').replace('#3', '#4');
  const added = utf8(text(file).replace(third, third + fourth));
  assert.throws(() => verifyExport(added, trusted), { name: 'BindingError', message: /message 4 was added$/ });
});

test('a manifest signed by someone else is refused, and one changed unsigned too', () => {
  const forged = exportOf('stranger', 'stranger');
  assert.throws(
    () => verifyExport(forged, { trusted: [people.client.public, people.therapist.public] }),
    { name: 'BindingError', message: /signed by an identity you do not know/ },
  );
  assert.equal(verifyExport(forged, { trusted: [people.stranger.public] }).exporter, 'therapist');
  const changed = utf8(text(exportOf()).replace('"exporter":"client"', '"exporter":"therapist"'));
  assert.throws(() => verifyExport(changed, { trusted: [people.therapist.public] }), { name: 'SignatureError' });
});

test('only a member can make one', () => {
  assert.throws(() => exportOf('stranger'), { name: 'FormatError', message: /neither member/ });
});
