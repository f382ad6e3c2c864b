// A disclosure record opens only as the therapist sealed it (crypto/SPEC.md, "Disclosure
// records"): every flipped byte is refused, as are another conversation, epoch or id, a
// date or basis the server changed, a record signed by the client, and a message in its
// place; and a record never opens as a message. Every byte is flipped, not one per region.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { _sign, concat, confide, exactly, flip, sodium, utf8 } from './_support.mjs';

const { ConversationKey, DisclosureDescription, IdentityKeyPair } = confide;

const client = IdentityKeyPair.generate(null);
const therapist = IdentityKeyPair.generate(null);
const key = ConversationKey.generate();
const conversation = sodium.randombytes_buf(16);
const disclosureId = sodium.randombytes_buf(16);
const EPOCH = 3;
const description = new DisclosureDescription({
  disclosedOn: '2026-11-26',
  legalBasis: 'mandated_report',
  recipient: 'County child protective services',
  information: 'What the client said on 24 November\nand the family’s address',
  purpose: 'A report the law requires',
});
const record = confide.sealDisclosure(description, key, conversation, EPOCH, therapist, disclosureId);

const open = (data, changes = {}) => {
  const args = {
    key,
    recorder: therapist.public,
    conversation,
    epoch: EPOCH,
    id: disclosureId,
    day: '2026-11-26',
    basis: 'mandated_report',
    ...changes,
  };
  return confide.openDisclosure(
    data,
    args.key,
    args.recorder,
    args.conversation,
    args.epoch,
    args.id,
    args.day,
    args.basis,
  );
};

test('the client reads what the therapist sealed, and printing it shows no text', () => {
  const opened = open(record);
  assert.deepEqual({ ...opened }, { ...description });
  const shown = `${opened} ${String(opened)}`;
  assert.ok(shown.includes('mandated_report'));
  for (const word of ['County', 'November', 'requires']) assert.ok(!shown.includes(word), word);
});

test('every flipped byte is refused', () => {
  for (let offset = 0; offset < record.length; offset += 1) {
    assert.throws(
      () => open(flip(record, offset)),
      exactly(offset === 0 ? 'UnsupportedVersionError' : 'SignatureError'),
      `offset ${offset}`,
    );
  }
});

test('another conversation, epoch or id, or a date or basis the server changed, is refused', () => {
  for (const changes of [
    { conversation: sodium.randombytes_buf(16) },
    { epoch: EPOCH + 1 },
    { id: sodium.randombytes_buf(16) },
    { day: '2026-11-25' },
    { basis: 'court_order' },
  ]) {
    assert.throws(() => open(record, changes), exactly('BindingError'), JSON.stringify(changes));
  }
  assert.throws(() => open(record, { key: ConversationKey.generate() }), exactly('DecryptionError'));
});

test('a record signed by the client is refused', () => {
  const forged = confide.sealDisclosure(description, key, conversation, EPOCH, client, disclosureId);
  assert.throws(() => confide.verifyDisclosure(forged, therapist.public), exactly('SignatureError'));
  assert.throws(() => open(forged), exactly('SignatureError'));
});

test('a message is never a disclosure, nor a disclosure a message', () => {
  const wire = confide.sealMessage(utf8('x'.repeat(200)), key, conversation, EPOCH, therapist, disclosureId);
  assert.throws(() => open(wire), exactly('SignatureError'));
  const signed = wire.slice(0, -64);
  const resigned = concat(signed, _sign(therapist, concat(utf8('confide/v1/disclosure-sig'), signed)));
  assert.throws(() => open(resigned), exactly('DecryptionError'));

  const asMessage = () =>
    confide.openMessage(record, key, therapist.public, conversation, EPOCH, disclosureId);
  assert.throws(asMessage, exactly('SignatureError'));
  const body = record.slice(0, -64);
  const relabelled = concat(body, _sign(therapist, concat(utf8('confide/v1/message-sig'), body)));
  assert.throws(
    () => confide.openMessage(relabelled, key, therapist.public, conversation, EPOCH, disclosureId),
    exactly('DecryptionError'),
  );
});

test('a malformed description is refused when written', () => {
  const fields = {
    disclosedOn: '2026-11-26',
    legalBasis: 'court_order',
    recipient: 'Court',
    information: 'Dates',
    purpose: 'Order',
  };
  for (const changes of [
    { recipient: '' },
    { purpose: 'a\tb' },
    { information: 'a\ud800' },
    { legalBasis: 'because' },
    { disclosedOn: '2025-02-29' },
    { disclosedOn: new Date() },
  ]) {
    assert.throws(
      () => new DisclosureDescription({ ...fields, ...changes }),
      exactly('FormatError'),
      JSON.stringify(changes),
    );
  }
});
