// Round trips over the size matrix (0, 1, 32, 1234 and 65536 bytes, empty and emoji text),
// asserting the exact overhead of every format.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  blake2b,
  confide,
  cryptoModule,
  exactly,
  fromHex,
  secretMaterial,
  substituteRandomSource,
  sodium,
  utf8,
  vectorFiles,
} from './_support.mjs';

const { BundleKind, ConversationKey, IdentityKeyPair, PublicIdentity, RecoveryKey, WrappingKey } =
  confide;

const SIZES = [0, 1, 32, 1234, 65536];
const TEXTS = { empty: '', emoji: 'Hello 🙂 ça va? 👩🏽‍⚕️ — 日本語' };

// Version-1 identities for the formats of version 1; version 2 further down.
const client = IdentityKeyPair.generate(null);
const therapist = IdentityKeyPair.generate(null);
const key = ConversationKey.generate();
const conversation = randomUUID();
const EPOCH = 3;

const bytesOf = (size) => Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) % 256);

test('the protocol constants are the sizes of SPEC.md', () => {
  assert.equal(confide.PUBLIC_IDENTITY_SIZE, 129);
  assert.equal(confide.PUBLIC_IDENTITY_SIZE_V2, 1353);
  assert.equal(confide.BUNDLE_SIZE, 106);
  assert.equal(confide.ENVELOPE_SIZE, 253);
  assert.equal(confide.ENVELOPE_SIZE_V2, 293);
  assert.equal(confide.ENVELOPE_SIZE_V3, 1381);
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

// Version-2 identities (X-Wing) and version-3 envelopes.

const SINCE = Date.UTC(2026, 10, 1);
const clientV2 = client.upgraded(SINCE);
const therapistV2 = IdentityKeyPair.generate(SINCE);

/** The number of draws from random.js while `body` runs, and its result. */
function countingDraws(body) {
  const draws = [];
  const restore = substituteRandomSource((n) => {
    draws.push(n);
    return sodium.randombytes_buf(n);
  });
  try {
    return { result: body(), draws };
  } finally {
    restore();
  }
}

test('a new identity is version 2 from now unless asked for version 1', () => {
  const before = Date.now();
  const identity = IdentityKeyPair.generate();
  assert.equal(identity.public.version, 2);
  assert.ok(identity.public.since >= before && identity.public.since <= Date.now());
  const old = IdentityKeyPair.generate(null);
  assert.equal(old.public.version, 1);
  assert.equal(old.public.xwingKey, null);
  assert.equal(old.public.since, null);
  assert.equal(IdentityKeyPair.generate(0).public.since, 0);
  assert.equal(IdentityKeyPair.generate(Number.MAX_SAFE_INTEGER).public.since, Number.MAX_SAFE_INTEGER);
});

test('a version-2 public identity is 1,353 bytes, parses back, and keeps the fingerprint of version 1', () => {
  const encoded = clientV2.public.toBytes();
  assert.equal(encoded.length, 1353);
  assert.equal(encoded[0], 2);
  const parsed = PublicIdentity.fromBytes(encoded);
  assert.ok(parsed.equals(clientV2.public));
  assert.ok(!parsed.equals(client.public));
  assert.equal(parsed.version, 2);
  assert.equal(parsed.since, SINCE);
  assert.equal(parsed.xwingKey.length, 1216);
  assert.deepEqual(parsed.signKey, client.signKey);
  assert.deepEqual(parsed.encKey, client.encKey);
  assert.deepEqual(parsed.fingerprint(), client.public.fingerprint());
  assert.equal(JSON.stringify(parsed), JSON.stringify(confide.b64encode(encoded)));
  // The X-Wing key is the one of the seed H(sign_seed, "confide/v1/xwing-seed"), never
  // of the X25519 secret, which a quantum computer recovers from enc_pk.
  const seed = blake2b(secretMaterial(client).subarray(0, 32), utf8("confide/v1/xwing-seed"));
  assert.deepEqual(parsed.xwingKey, sodium.crypto_kem_xwing_seed_keypair(seed).publicKey);
});

test('upgrading keeps the keys, and an identity is bound to a published form only of its own keys', () => {
  assert.ok(clientV2.equals(client));
  assert.equal(clientV2.upgraded(SINCE + 1), clientV2);
  assert.equal(client.asPublished(client.public), client);
  const published = client.asPublished(clientV2.public);
  assert.ok(published.public.equals(clientV2.public));
  assert.ok(clientV2.asPublished(client.public).public.equals(client.public));
  assert.throws(() => client.asPublished(therapistV2.public), exactly('BindingError'));
  assert.throws(() => client.asPublished(therapist.public), exactly('BindingError'));
  assert.throws(() => client.asPublished(client.public.toBytes()), exactly('FormatError'));
  for (const since of [-1, 2 ** 53, 1.5, '1', true, Number.NaN]) {
    assert.throws(() => IdentityKeyPair.generate(since), exactly('FormatError'), String(since));
    assert.throws(() => client.upgraded(since), exactly('FormatError'), String(since));
  }
});

test('a version-3 envelope is 1,381 bytes and unwraps to the same key for each version-2 member', () => {
  for (const recipient of [clientV2, therapistV2]) {
    const envelope = confide.wrapConversationKey(
      key,
      conversation,
      EPOCH,
      recipient.public,
      therapistV2,
      SINCE + 1000,
    );
    assert.equal(envelope.length, 1381);
    assert.equal(envelope[0], 3);
    const unwrapped = confide.unwrapConversationKey(
      envelope,
      recipient,
      therapistV2.public,
      conversation,
      EPOCH,
    );
    assert.ok(unwrapped.equals(key));
    const info = confide.verifyEnvelope(envelope, therapistV2.public);
    assert.equal(info.version, 3);
    assert.equal(info.conversationUuid, conversation);
    assert.equal(info.epoch, EPOCH);
    assert.equal(info.createdAt, SINCE + 1000);
    assert.deepEqual(info.commitment, key.commitment());
    assert.deepEqual(info.recipientEncPk, recipient.encKey);
    assert.deepEqual(info.wrapperSignPk, therapistV2.signKey);
  }
});

test('a version-3 envelope opens for the same keys in their version-1 form, and with a version-1 wrapper', () => {
  const envelope = confide.wrapConversationKey(key, conversation, EPOCH, clientV2.public, therapist, 5);
  assert.equal(envelope.length, 1381);
  assert.ok(confide.unwrapConversationKey(envelope, client, therapist.public, conversation, EPOCH).equals(key));
});

test('a version-3 wrap draws only its nonce through random.js; two envelopes of the same key differ', () => {
  const { result: first, draws } = countingDraws(() =>
    confide.wrapConversationKey(key, conversation, EPOCH, clientV2.public, therapist, SINCE),
  );
  assert.deepEqual(draws, [24]);
  const second = confide.wrapConversationKey(key, conversation, EPOCH, clientV2.public, therapist, SINCE);
  assert.notDeepEqual(first.subarray(125, 1245), second.subarray(125, 1245));
  assert.notDeepEqual(first.subarray(1245, 1269), second.subarray(1245, 1269));
});

test('wrapping to a version-2 identity without the epoch time is refused before anything is drawn', () => {
  const { draws } = countingDraws(() =>
    assert.throws(
      () => confide.wrapConversationKey(key, conversation, EPOCH, clientV2.public, therapist),
      exactly('FormatError'),
    ),
  );
  assert.deepEqual(draws, []);
});

test('a version-2 recipient refuses a version-2 envelope of an epoch begun 5 minutes or more after its since', () => {
  // The server hands the wrapper the recipient's old, version-1 identity.
  const grace = confide.DOWNGRADE_GRACE_MS;
  assert.equal(grace, 300_000);
  for (const createdAt of [SINCE + grace, SINCE + grace + 1, Number.MAX_SAFE_INTEGER]) {
    const envelope = confide.wrapConversationKey(key, conversation, EPOCH, client.public, therapist, createdAt);
    assert.equal(envelope.length, 293);
    assert.throws(
      () => confide.unwrapConversationKey(envelope, clientV2, therapist.public, conversation, EPOCH),
      (error) => exactly('DowngradeError')(error) && error instanceof confide.BindingError,
    );
    // Its version-1 form, which makes no promise, still opens it.
    assert.ok(confide.unwrapConversationKey(envelope, client, therapist.public, conversation, EPOCH).equals(key));
  }
});

test('history from before since opens for a version-2 recipient: version-2 envelopes made earlier, and version 1', () => {
  // And within the grace: the wrapper's clock may run ahead of the owner's.
  for (const createdAt of [0, SINCE - 1, SINCE, SINCE + confide.DOWNGRADE_GRACE_MS - 1]) {
    const envelope = confide.wrapConversationKey(key, conversation, EPOCH, client.public, therapist, createdAt);
    assert.ok(
      confide.unwrapConversationKey(envelope, clientV2, therapist.public, conversation, EPOCH).equals(key),
    );
  }
  const version1 = confide.wrapConversationKey(key, conversation, EPOCH, client.public, therapist);
  assert.equal(version1.length, 253);
  assert.ok(confide.unwrapConversationKey(version1, clientV2, therapist.public, conversation, EPOCH).equals(key));
});

test('a key bundle holds the same 64 bytes for both versions and unwraps to the published form', () => {
  const wrapping = new WrappingKey(sodium.randombytes_buf(32));
  for (const holder of [client, clientV2]) {
    const blob = confide.wrapIdentity(holder, wrapping, BundleKind.PASSWORD);
    assert.equal(blob.length, 106);
    for (const expected of [client.public, clientV2.public]) {
      const identity = confide.unwrapIdentity(blob, wrapping, expected);
      assert.ok(identity.equals(client));
      assert.ok(identity.public.equals(expected));
    }
    assert.throws(() => confide.unwrapIdentity(blob, wrapping, therapistV2.public), exactly('DecryptionError'));
  }
});

test('a succession is version 2, exactly as long as its two identities, when either is version 2', () => {
  const cases = [
    [client.public, therapist.public, 1, 347],
    [client.public, therapistV2.public, 2, 25 + 129 + 1353 + 64],
    [clientV2.public, therapist.public, 2, 25 + 1353 + 129 + 64],
    [clientV2.public, therapistV2.public, 2, 25 + 1353 + 1353 + 64],
  ];
  for (const [previousIdentity, newIdentity, version, size] of cases) {
    const succession = confide.signSuccession(therapistV2, {
      userId: 8,
      confirmerId: 7,
      confirmedAt: 1796400000,
      previousIdentity,
      newIdentity,
    });
    assert.equal(succession[0], version);
    assert.equal(succession.length, size);
    const stated = confide.verifySuccession(succession, therapistV2.public, {
      userId: 8,
      confirmerId: 7,
      newIdentity,
    });
    assert.ok(stated.previousIdentity.equals(previousIdentity));
    assert.ok(stated.newIdentity.equals(newIdentity));
    assert.equal(stated.confirmedAt, 1796400000);
  }
});

test("an envelope made here to a Python-made identity opens with that identity's secret", () => {
  const identities = vectorFiles().find(({ file }) => file === 'identity').document.vectors;
  for (const vector of identities.filter((each) => each.name.startsWith('generate-v2-'))) {
    const recipient = PublicIdentity.fromBytes(fromHex(vector.expected.public_identity));
    const envelope = confide.wrapConversationKey(key, conversation, EPOCH, recipient, therapistV2, SINCE);
    assert.equal(envelope.length, 1381);
    const holder = new IdentityKeyPair(fromHex(vector.expected.secret), vector.inputs.since);
    assert.ok(holder.public.equals(recipient));
    assert.ok(
      confide.unwrapConversationKey(envelope, holder, therapistV2.public, conversation, EPOCH).equals(key),
    );
  }
});
