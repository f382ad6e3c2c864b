// Round trips over the size matrix (0, 1, 32, 1234 and 65536 bytes, empty and emoji text),
// asserting the exact overhead of every format.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { confide, cryptoModule, sodium, utf8 } from './_support.mjs';

const { BundleKind, ConversationKey, IdentityKeyPair, RecoveryKey, WrappingKey } = confide;

const SIZES = [0, 1, 32, 1234, 65536];
const TEXTS = { empty: '', emoji: 'Hello 🙂 ça va? 👩🏽‍⚕️ — 日本語' };

const client = IdentityKeyPair.generate();
const therapist = IdentityKeyPair.generate();
const key = ConversationKey.generate();
const conversation = randomUUID();
const EPOCH = 3;

const bytesOf = (size) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) % 256);

test('the protocol constants are the sizes of SPEC.md', () => {
  assert.equal(confide.PUBLIC_IDENTITY_SIZE, 129);
  assert.equal(confide.BUNDLE_SIZE, 106);
  assert.equal(confide.ENVELOPE_SIZE, 253);
  assert.equal(confide.HEADER_SIZE, 93);
  assert.equal(confide.MESSAGE_OVERHEAD, 173);
  assert.equal(confide.MAX_PLAINTEXT, 1048572);
  assert.equal(confide.ROTATE_AFTER_MESSAGES, 100);
  assert.equal(confide.ROTATE_AFTER_SECONDS, 604800);
  assert.deepEqual({ ...confide.DEFAULT_KDF_PARAMS }, { opslimit: 3, memlimit: 67108864 });
  assert.deepEqual({ ...BundleKind }, { PASSWORD: 1, RECOVERY: 2 });
});

test('a typed recovery key skips exactly the characters SPEC.md lists', async () => {
  const spec = readFileSync(new URL('../../crypto/SPEC.md', import.meta.url), 'utf8');
  const start = spec.indexOf('The skipped characters are exactly these');
  const section = spec.slice(start, spec.indexOf('An underscore, a full stop', start));
  const codes = [...section.matchAll(/U\+([0-9A-F]{4})\b/g)].map((match) => match[1]);
  const listed = new Set(codes.map((code) => String.fromCodePoint(parseInt(code, 16))));
  assert.equal(listed.size, 44);
  const { SKIPPED_IN_RECOVERY_KEY } = await cryptoModule('recovery.js');
  assert.deepEqual([...SKIPPED_IN_RECOVERY_KEY].sort(), [...listed].sort());
});

for (const size of SIZES) {
  test(`a ${size}-byte message opens to itself and is exactly its bucket plus 173 bytes`, () => {
    const plaintext = bytesOf(size);
    const messageId = randomUUID();
    const wire = confide.sealMessage(plaintext, key, conversation, EPOCH, client, messageId);
    const bucket = confide.paddedSize(size);
    assert.equal(wire.length, bucket + 173);
    assert.ok(bucket >= size + 4 && (bucket === 256 || bucket / 2 < size + 4));
    const opened = confide.openMessage(wire, key, client.public, conversation, EPOCH, messageId);
    assert.deepEqual(opened, plaintext);
    const info = confide.verifyMessage(wire, client.public);
    assert.equal(info.paddedSize, bucket);
    assert.equal(info.conversationUuid, conversation);
    assert.equal(info.clientMessageUuid, messageId);
  });

  test(`${size} bytes pad to their bucket and unpad to themselves`, () => {
    const data = bytesOf(size);
    const padded = confide.pad(data);
    assert.equal(padded.length, confide.paddedSize(size));
    assert.deepEqual(confide.unpad(padded), data);
  });

  test(`${size} bytes round-trip through base64url in exactly ceil(4n/3) characters`, () => {
    const data = bytesOf(size);
    const text = confide.b64encode(data);
    assert.equal(text.length, Math.ceil((size * 4) / 3));
    assert.match(text, /^[A-Za-z0-9_-]*$/);
    assert.deepEqual(confide.b64decode(text), data);
  });
}

for (const [name, text] of Object.entries(TEXTS)) {
  test(`${name} text opens to itself and is exactly its bucket plus 173 bytes`, () => {
    const messageId = sodium.randombytes_buf(16);
    const wire = confide.sealText(text, key, conversation, EPOCH, client, messageId);
    assert.equal(wire.length, confide.paddedSize(utf8(text).length) + 173);
    assert.equal(confide.openText(wire, key, client.public, conversation, EPOCH, messageId), text);
    assert.equal(confide.openText(wire, key, client.public, conversation, EPOCH), text);
  });
}

test('text keeps a leading byte-order mark and is not normalised', () => {
  const text = '\uFEFFcafe\u0301';
  const wire = confide.sealText(text, key, conversation, EPOCH, client, randomUUID());
  assert.equal(confide.openText(wire, key, client.public, conversation, EPOCH), text);
});

test('the largest plaintext fills the 1 MiB bucket; one byte more is refused', () => {
  const wire = confide.sealMessage(
    new Uint8Array(confide.MAX_PLAINTEXT),
    key,
    conversation,
    EPOCH,
    client,
    randomUUID(),
  );
  assert.equal(wire.length, 1048576 + 173);
  assert.equal(
    confide.openMessage(wire, key, client.public, conversation, EPOCH).length,
    confide.MAX_PLAINTEXT,
  );
  assert.throws(
    () =>
      confide.sealMessage(
        new Uint8Array(confide.MAX_PLAINTEXT + 1),
        key,
        conversation,
        EPOCH,
        client,
        randomUUID(),
      ),
    confide.FormatError,
  );
});

test('an envelope is 253 bytes and unwraps to the same key for each member', () => {
  for (const recipient of [client, therapist]) {
    const envelope = confide.wrapConversationKey(
      key,
      conversation,
      EPOCH,
      recipient.public,
      therapist,
    );
    assert.equal(envelope.length, 253);
    const unwrapped = confide.unwrapConversationKey(
      envelope,
      recipient,
      therapist.public,
      conversation,
      EPOCH,
    );
    assert.ok(unwrapped.equals(key));
    const info = confide.verifyEnvelope(envelope, therapist.public);
    assert.equal(info.conversationUuid, conversation);
    assert.equal(info.epoch, EPOCH);
    assert.deepEqual(info.recipientEncPk, recipient.encKey);
    assert.deepEqual(info.wrapperSignPk, therapist.signKey);
  }
});

test('two envelopes of the same key differ (fresh ephemeral key and nonce each time)', () => {
  const first = confide.wrapConversationKey(key, conversation, EPOCH, client.public, therapist);
  const second = confide.wrapConversationKey(key, conversation, EPOCH, client.public, therapist);
  assert.notDeepEqual(first, second);
});

test('a key bundle is 106 bytes and unwraps to the same identity, for both kinds', () => {
  const recovery = RecoveryKey.generate();
  const wrappingKeys = {
    [BundleKind.PASSWORD]: new WrappingKey(sodium.randombytes_buf(32)),
    [BundleKind.RECOVERY]: recovery.wrappingKey(),
  };
  for (const [kind, wrapping] of Object.entries(wrappingKeys)) {
    const blob = confide.wrapIdentity(client, wrapping, Number(kind));
    assert.equal(blob.length, 106);
    assert.equal(confide.parseBundle(blob), Number(kind));
    const identity = confide.unwrapIdentity(blob, wrapping, client.public);
    assert.ok(identity.equals(client));
    assert.ok(identity.public.equals(client.public));
  }
});

test('a recovery key survives its display form, in any spelling a person might type', () => {
  const recovery = RecoveryKey.generate();
  const display = recovery.display();
  assert.match(display, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){13}$/);
  assert.equal(display.length, 69);
  for (const typed of [
    display,
    display.toLowerCase(),
    display.replaceAll('-', ''),
    ` ${display.replaceAll('-', '\u3000')}\n`,
  ]) {
    assert.ok(RecoveryKey.fromDisplay(typed).equals(recovery));
  }
});

test('a public identity is 129 bytes and parses back to an equal identity', () => {
  const encoded = client.public.toBytes();
  assert.equal(encoded.length, 129);
  const parsed = confide.PublicIdentity.fromBytes(encoded);
  assert.ok(parsed.equals(client.public));
  assert.equal(JSON.stringify(parsed), JSON.stringify(confide.b64encode(encoded)));
  assert.deepEqual(confide.fingerprint(parsed), client.public.fingerprint());
});

test('the safety number and QR payload are the same from both sides', () => {
  const number = confide.safetyNumber(client.public, therapist.public);
  assert.match(number, /^[0-9]{60}$/);
  assert.equal(number, confide.safetyNumber(therapist.public, client.public));
  assert.match(confide.formatSafetyNumber(number), /^[0-9]{5}( [0-9]{5}){11}$/);
  const payload = confide.safetyQrPayload(client.public, therapist.public);
  assert.equal(payload.length, 65);
  confide.verifySafetyQr(payload, therapist.public, client.public);
});

test('password derivation is deterministic for a salt and NFC-insensitive', () => {
  const params = new confide.KdfParams({ opslimit: 2, memlimit: 32 * 1024 * 1024 });
  const salt = confide.newSalt();
  assert.equal(salt.length, 16);
  const composed = confide.derivePasswordKeys('caf\u00e9', salt, params);
  const decomposed = confide.derivePasswordKeys('cafe\u0301', salt, params);
  assert.ok(composed.equals(decomposed));
  assert.equal(composed.authSecretB64().length, 43);
  assert.equal(composed.authSecret.length, 32);
});

test('ids may be given as UUID strings or as the same 16 bytes', () => {
  const uuid = '6F1C7A3E-2D5B-4C8E-9A0B-1C2D3E4F5A6B';
  const bytes = sodium.from_hex('6f1c7a3e2d5b4c8e9a0b1c2d3e4f5a6b');
  const wire = confide.sealMessage(utf8('hi'), key, uuid, EPOCH, client, uuid.toLowerCase());
  assert.deepEqual(confide.parseMessage(wire).conversationId, bytes);
  assert.deepEqual(confide.openMessage(wire, key, client.public, bytes, EPOCH, bytes), utf8('hi'));
  assert.equal(confide.idToUuid(bytes), uuid.toLowerCase());
});
