// A flipped byte in any region of any format is rejected with the error of the first check
// that catches it (SPEC.md's order: version, length, signature, binding, decryption); the
// same flips re-signed by an insider who holds the signing key are still caught, by the
// binding checks or by the AEAD. Every byte is flipped, not only one per region.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { _sign, concat, confide, exactly, flip, replace, sodium, utf8 } from './_support.mjs';

const { BundleKind, ConversationKey, IdentityKeyPair, WrappingKey } = confide;

const client = IdentityKeyPair.generate();
const therapist = IdentityKeyPair.generate();
const key = ConversationKey.generate();
const conversation = sodium.randombytes_buf(16);
const messageId = sodium.randombytes_buf(16);
const EPOCH = 7;

/** [region, first offset, end offset] of each format, from SPEC.md's tables. */
const MESSAGE_REGIONS = (size) => [
  ['version', 0, 1],
  ['conversation-id', 1, 17],
  ['epoch', 17, 21],
  ['sender-sign-pk', 21, 53],
  ['client-message-id', 53, 69],
  ['nonce', 69, 93],
  ['ciphertext', 93, size - 80],
  ['tag', size - 80, size - 64],
  ['signature', size - 64, size],
];
const ENVELOPE_REGIONS = [
  ['version', 0, 1],
  ['conversation-id', 1, 17],
  ['epoch', 17, 21],
  ['recipient-enc-pk', 21, 53],
  ['wrapper-sign-pk', 53, 85],
  ['eph-pk', 85, 117],
  ['nonce', 117, 141],
  ['ciphertext', 141, 173],
  ['tag', 173, 189],
  ['signature', 189, 253],
];
const BUNDLE_REGIONS = [
  ['version', 0, 1],
  ['kind', 1, 2],
  ['nonce', 2, 26],
  ['ciphertext', 26, 90],
  ['tag', 90, 106],
];
const IDENTITY_REGIONS = [
  ['version', 0, 1],
  ['sign-pk', 1, 33],
  ['enc-pk', 33, 65],
  ['signature', 65, 129],
];

const wire = confide.sealMessage(
  utf8('a message to tamper with'),
  key,
  conversation,
  EPOCH,
  client,
  messageId,
);
const openWire = (data) =>
  confide.openMessage(data, key, client.public, conversation, EPOCH, messageId);

const envelope = confide.wrapConversationKey(key, conversation, EPOCH, client.public, therapist);
const openEnvelope = (data) =>
  confide.unwrapConversationKey(data, client, therapist.public, conversation, EPOCH);

const password = new WrappingKey(sodium.randombytes_buf(32));
const bundle = confide.wrapIdentity(client, password, BundleKind.PASSWORD);
const openBundle = (data) => confide.unwrapIdentity(data, password, client.public);

/** The data with the signature replaced by `signer`'s signature of the altered part. */
function resignMessage(data, signer = client) {
  const signed = data.subarray(0, data.length - 64);
  return concat(signed, _sign(signer, concat(utf8('confide/v1/message-sig'), signed)));
}
function resignEnvelope(data, signer = therapist) {
  const body = data.subarray(0, 189);
  return concat(body, _sign(signer, concat(utf8('confide/v1/envelope-sig'), body)));
}

/** Flip every byte of every region of a `format` and expect `errorFor(region)`. */
function everyByte(format, data, regions, open, errorFor) {
  for (const [region, start, end] of regions) {
    test(`${format}: a flipped byte anywhere in ${region} fails with ${errorFor(region)}`, () => {
      for (let offset = start; offset < end; offset += 1) {
        assert.throws(
          () => open(flip(data, offset)),
          exactly(errorFor(region)),
          `offset ${offset}`,
        );
      }
    });
  }
}

test('the untouched formats open', () => {
  assert.deepEqual(openWire(wire), utf8('a message to tamper with'));
  assert.ok(openEnvelope(envelope).equals(key));
  assert.ok(openBundle(bundle).equals(client));
  assert.ok(confide.PublicIdentity.fromBytes(client.public.toBytes()).equals(client.public));
});

everyByte('message', wire, MESSAGE_REGIONS(wire.length), openWire, (region) =>
  region === 'version' ? 'UnsupportedVersionError' : 'SignatureError',
);
everyByte('envelope', envelope, ENVELOPE_REGIONS, openEnvelope, (region) =>
  region === 'version' ? 'UnsupportedVersionError' : 'SignatureError',
);
// A bundle has no signature: the AEAD catches everything after the shape checks. Flipping
// the kind's low bit turns 0x01 into 0x00, an unknown kind.
everyByte(
  'key bundle',
  bundle,
  BUNDLE_REGIONS,
  openBundle,
  (region) =>
    ({ version: 'UnsupportedVersionError', kind: 'FormatError' })[region] ?? 'DecryptionError',
);
everyByte(
  'public identity',
  client.public.toBytes(),
  IDENTITY_REGIONS,
  confide.PublicIdentity.fromBytes,
  (region) => (region === 'version' ? 'UnsupportedVersionError' : 'SignatureError'),
);

const RESIGNED_MESSAGE = {
  'conversation-id': 'BindingError',
  epoch: 'BindingError',
  'sender-sign-pk': 'BindingError',
  'client-message-id': 'BindingError',
  nonce: 'DecryptionError',
  ciphertext: 'DecryptionError',
  tag: 'DecryptionError',
};
for (const [region, start, end] of MESSAGE_REGIONS(wire.length)) {
  if (!(region in RESIGNED_MESSAGE)) continue;
  test(`message: a flipped ${region} byte re-signed by the sender fails with ${RESIGNED_MESSAGE[region]}`, () => {
    for (const offset of [start, end - 1]) {
      assert.throws(
        () => openWire(resignMessage(flip(wire, offset))),
        exactly(RESIGNED_MESSAGE[region]),
      );
    }
  });
}

test('message: a re-signed change of the client message id is caught by the AEAD when the id is not checked', () => {
  const altered = resignMessage(flip(wire, 60));
  assert.throws(
    () => confide.openMessage(altered, key, client.public, conversation, EPOCH, null),
    exactly('DecryptionError'),
  );
});

const RESIGNED_ENVELOPE = {
  'conversation-id': 'BindingError',
  epoch: 'BindingError',
  'recipient-enc-pk': 'BindingError',
  'wrapper-sign-pk': 'BindingError',
  'eph-pk': 'DecryptionError',
  nonce: 'DecryptionError',
  ciphertext: 'DecryptionError',
  tag: 'DecryptionError',
};
for (const [region, start, end] of ENVELOPE_REGIONS) {
  if (!(region in RESIGNED_ENVELOPE)) continue;
  test(`envelope: a flipped ${region} byte re-signed by the wrapper fails with ${RESIGNED_ENVELOPE[region]}`, () => {
    for (const offset of [start, end - 1]) {
      const altered = resignEnvelope(flip(envelope, offset));
      assert.throws(() => openEnvelope(altered), exactly(RESIGNED_ENVELOPE[region]));
    }
  });
}

test('envelope: the body naming another wrapper, signed by the expected one, is a BindingError', () => {
  const other = IdentityKeyPair.generate();
  const altered = resignEnvelope(replace(envelope, 53, other.signKey));
  assert.throws(() => openEnvelope(altered), exactly('BindingError'));
});

test('envelope: a low-order ephemeral key (u = 0, u = 1) re-signed by the wrapper is a WeakKeyError', () => {
  for (const point of [new Uint8Array(32), replace(new Uint8Array(32), 0, [1])]) {
    assert.throws(
      () => openEnvelope(resignEnvelope(replace(envelope, 85, point))),
      exactly('WeakKeyError'),
    );
  }
});

test('message: the header naming another sender, signed by the expected one, is a BindingError', () => {
  const altered = resignMessage(replace(wire, 21, therapist.signKey));
  assert.throws(() => openWire(altered), exactly('BindingError'));
});

test('wrong expectations are binding errors, a wrong key a decryption error', () => {
  const other = sodium.randombytes_buf(16);
  assert.throws(
    () => confide.openMessage(wire, key, client.public, other, EPOCH),
    exactly('BindingError'),
  );
  assert.throws(
    () => confide.openMessage(wire, key, client.public, conversation, EPOCH + 1),
    exactly('BindingError'),
  );
  assert.throws(
    () => confide.openMessage(wire, key, client.public, conversation, EPOCH, other),
    exactly('BindingError'),
  );
  assert.throws(
    () => confide.openMessage(wire, key, therapist.public, conversation, EPOCH),
    exactly('SignatureError'),
  );
  assert.throws(
    () => confide.openMessage(wire, ConversationKey.generate(), client.public, conversation, EPOCH),
    exactly('DecryptionError'),
  );
  assert.throws(
    () => confide.unwrapConversationKey(envelope, therapist, therapist.public, conversation, EPOCH),
    exactly('BindingError'),
  );
  assert.throws(
    () => confide.unwrapConversationKey(envelope, client, client.public, conversation, EPOCH),
    exactly('SignatureError'),
  );
  assert.throws(
    () =>
      confide.unwrapIdentity(bundle, new WrappingKey(sodium.randombytes_buf(32)), client.public),
    exactly('DecryptionError'),
  );
  assert.throws(
    () => confide.unwrapIdentity(bundle, password, therapist.public),
    exactly('DecryptionError'),
  );
});

test('a safety QR payload with any byte flipped does not verify', () => {
  const payload = confide.safetyQrPayload(client.public, therapist.public);
  for (let offset = 0; offset < payload.length; offset += 1) {
    const expected = offset === 0 ? 'UnsupportedVersionError' : 'BindingError';
    assert.throws(
      () => confide.verifySafetyQr(flip(payload, offset), client.public, therapist.public),
      exactly(expected),
    );
  }
});
