// A flipped byte in any region of any format is rejected with the error of the first check
// that catches it (SPEC.md's order: version, length, signature, binding, decryption); the
// same flips re-signed by an insider who holds the signing key are still caught, by the
// binding checks or by the AEAD. Every byte is flipped, not only one per region.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { _sign, concat, confide, exactly, flip, replace, sodium, utf8 } from './_support.mjs';

const { BundleKind, ConversationKey, IdentityKeyPair, WrappingKey } = confide;

// Version-1 identities for the formats of version 1; version 2 further down.
const client = IdentityKeyPair.generate(null);
const therapist = IdentityKeyPair.generate(null);
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
  const body = data.subarray(0, data.length - 64);
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
  const other = IdentityKeyPair.generate(null);
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

// Version-2 identities (X-Wing) and version-3 envelopes.

const SINCE = Date.UTC(2026, 10, 1);
const clientV2 = client.upgraded(SINCE);
const CREATED_AT = SINCE + 60_000;

/** [region, first offset, end offset] of a version-3 envelope. */
const ENVELOPE_V3_REGIONS = [
  ['version', 0, 1],
  ['conversation-id', 1, 17],
  ['epoch', 17, 21],
  ['created-at-top-byte', 21, 22],
  ['created-at', 22, 29],
  ['commitment', 29, 61],
  ['recipient-enc-pk', 61, 93],
  ['wrapper-sign-pk', 93, 125],
  ['xwing-ct', 125, 1245],
  ['nonce', 1245, 1269],
  ['ciphertext', 1269, 1301],
  ['tag', 1301, 1317],
  ['signature', 1317, 1381],
];
const IDENTITY_V2_REGIONS = [
  ['version', 0, 1],
  ['sign-pk', 1, 33],
  ['enc-pk', 33, 65],
  ['xwing-pk', 65, 1281],
  ['since', 1281, 1289],
  ['signature', 1289, 1353],
];

const envelopeV3 = confide.wrapConversationKey(
  key,
  conversation,
  EPOCH,
  clientV2.public,
  therapist,
  CREATED_AT,
);
const openEnvelopeV3 = (data) =>
  confide.unwrapConversationKey(data, clientV2, therapist.public, conversation, EPOCH);

/** A public identity with `part` written at `offset` and signed again by its owner. */
function resignIdentity(identity, offset, part) {
  const body = replace(identity.public.toBytes(), offset, part).subarray(0, -64);
  return concat(body, _sign(identity, concat(utf8('confide/v1/identity'), body)));
}

test('the untouched version-2 formats open', () => {
  assert.equal(envelopeV3.length, 1381);
  assert.ok(openEnvelopeV3(envelopeV3).equals(key));
  assert.ok(confide.PublicIdentity.fromBytes(clientV2.public.toBytes()).equals(clientV2.public));
  assert.ok(confide.PublicIdentity.fromBytes(resignIdentity(clientV2, 0, [2])).equals(clientV2.public));
});

// The version byte 0x03 flips to 0x02, a known version of another length; a flip in the
// top byte of the time puts it above 2^53 - 1, which the shape check refuses.
everyByte(
  'version-3 envelope',
  envelopeV3,
  ENVELOPE_V3_REGIONS,
  openEnvelopeV3,
  (region) =>
    ({ version: 'FormatError', 'created-at-top-byte': 'FormatError' })[region] ?? 'SignatureError',
);
// The version byte 0x02 flips to 0x03, an unknown one.
everyByte(
  'version-2 public identity',
  clientV2.public.toBytes(),
  IDENTITY_V2_REGIONS,
  confide.PublicIdentity.fromBytes,
  (region) => (region === 'version' ? 'UnsupportedVersionError' : 'SignatureError'),
);

const RESIGNED_ENVELOPE_V3 = {
  'conversation-id': 'BindingError',
  epoch: 'BindingError',
  'created-at': 'DecryptionError',
  commitment: 'DecryptionError',
  'recipient-enc-pk': 'BindingError',
  'wrapper-sign-pk': 'BindingError',
  'xwing-ct': 'DecryptionError',
  nonce: 'DecryptionError',
  ciphertext: 'DecryptionError',
  tag: 'DecryptionError',
};
for (const [region, start, end] of ENVELOPE_V3_REGIONS) {
  if (!(region in RESIGNED_ENVELOPE_V3)) continue;
  test(`version-3 envelope: a flipped ${region} byte re-signed by the wrapper fails with ${RESIGNED_ENVELOPE_V3[region]}`, () => {
    // Both ends of each region, and for the X-Wing ciphertext both ends of its two parts.
    const offsets = region === 'xwing-ct' ? [start, start + 1087, start + 1088, end - 1] : [start, end - 1];
    for (const offset of offsets) {
      const altered = resignEnvelope(flip(envelopeV3, offset));
      assert.throws(() => openEnvelopeV3(altered), exactly(RESIGNED_ENVELOPE_V3[region]), `offset ${offset}`);
    }
  });
}

test("version-3 envelope: a low-order X25519 part of the X-Wing ciphertext (u = 0, u = 1) re-signed by the wrapper is a WeakKeyError", () => {
  for (const point of [new Uint8Array(32), replace(new Uint8Array(32), 0, [1])]) {
    assert.throws(
      () => openEnvelopeV3(resignEnvelope(replace(envelopeV3, 1245 - 32, point))),
      exactly('WeakKeyError'),
    );
  }
});

test('version-3 envelope: a version-2 envelope of the same epoch, signed by the wrapper, is a DowngradeError', () => {
  const late = SINCE + confide.DOWNGRADE_GRACE_MS;
  const downgraded = confide.wrapConversationKey(key, conversation, EPOCH, client.public, therapist, late);
  assert.throws(() => openEnvelopeV3(downgraded), exactly('DowngradeError'));
  // Re-dated before the recipient's since by the wrapper: the commitment and the AEAD hold.
  const redated = resignEnvelope(replace(downgraded, 21, confide.b64decode('AAAAAAAAAAA')));
  assert.throws(() => openEnvelopeV3(redated), exactly('DecryptionError'));
});

test('version-2 public identity: weak keys and times re-signed by the owner are refused', () => {
  const u64 = (value) => {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, value);
    return out;
  };
  // The X25519 part of the X-Wing key, then the identity's own X25519 key, at low order.
  for (const offset of [1281 - 32, 33]) {
    for (const point of [new Uint8Array(32), replace(new Uint8Array(32), 0, [1])]) {
      assert.throws(
        () => confide.PublicIdentity.fromBytes(resignIdentity(clientV2, offset, point)),
        exactly('WeakKeyError'),
        `offset ${offset}`,
      );
    }
  }
  assert.throws(
    () => confide.PublicIdentity.fromBytes(resignIdentity(clientV2, 1281, u64(2n ** 53n))),
    exactly('FormatError'),
  );
  const latest = confide.PublicIdentity.fromBytes(resignIdentity(clientV2, 1281, u64(2n ** 53n - 1n)));
  assert.equal(latest.since, Number.MAX_SAFE_INTEGER);
});

test("version-2 public identity: an ML-KEM coefficient of q = 3329 or more is refused, 3328 is not (FIPS 203's modulus check)", () => {
  const mlkem = clientV2.public.toBytes().subarray(65, 65 + 1184);
  // The first two bytes of ByteEncode12 hold the first coefficient in 12 bits, low byte first.
  const withFirst = (coefficient) =>
    Uint8Array.of(coefficient & 0xff, (mlkem[1] & 0xf0) | (coefficient >> 8));
  for (const coefficient of [3329, 3330, 4095]) {
    assert.throws(
      () => confide.PublicIdentity.fromBytes(resignIdentity(clientV2, 65, withFirst(coefficient))),
      exactly('WeakKeyError'),
      String(coefficient),
    );
  }
  for (const coefficient of [0, 3328]) {
    const parsed = confide.PublicIdentity.fromBytes(resignIdentity(clientV2, 65, withFirst(coefficient)));
    assert.equal(parsed.version, 2, String(coefficient));
  }
  // The last coefficient of the last polynomial (bytes 1150 and 1151 of the key).
  const last = Uint8Array.of((mlkem[1150] & 0x0f) | 0x10, 0xd0); // 3329 = 0xd01
  assert.throws(
    () => confide.PublicIdentity.fromBytes(resignIdentity(clientV2, 65 + 1150, last)),
    exactly('WeakKeyError'),
  );
});
