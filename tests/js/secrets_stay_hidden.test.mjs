// Secret-holding objects never show their bytes through toString, JSON.stringify, Node's
// inspection (what console.log prints), structuredClone or property enumeration, and
// wipe() zeroes them and makes the object unusable.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { format, inspect } from 'node:util';

import { confide, fieldsOf, leaks, secretMaterial, sodium, utf8 } from './_support.mjs';

const { ConversationKey, IdentityKeyPair, KdfParams, RecoveryKey, WrappingKey } = confide;

const SMALL = new KdfParams({ opslimit: 2, memlimit: 32 * 1024 * 1024 });

const FACTORIES = {
  IdentityKeyPair: () => IdentityKeyPair.generate(),
  ConversationKey: () => ConversationKey.generate(),
  RecoveryKey: () => RecoveryKey.generate(),
  WrappingKey: () => RecoveryKey.generate().wrappingKey(),
  PasswordKeys: () => confide.derivePasswordKeys('correct horse', new Uint8Array(16), SMALL),
};

/** Every way an object is commonly turned into text. */
function renderings(obj) {
  return [
    String(obj),
    `${obj}`,
    `${[obj]}`,
    JSON.stringify(obj),
    JSON.stringify({ nested: { obj } }),
    JSON.stringify([obj]),
    inspect(obj),
    inspect(obj, { showHidden: true, depth: Infinity, getters: true }),
    inspect({ nested: [obj] }, { showHidden: true, depth: Infinity }),
    format('%s %o %O %j', obj, obj, obj, obj),
    inspect(structuredClone(obj), { showHidden: true, depth: Infinity }),
    JSON.stringify(Object.getOwnPropertyNames(obj).map((name) => obj[name])),
    JSON.stringify({ ...obj }),
  ];
}

/** Every secret array held by an object, including those of objects it owns. */
function secretParts(obj) {
  const parts = [secretMaterial(obj), ...Object.values(fieldsOf(obj))];
  if (obj instanceof confide.PasswordKeys) parts.push(...Object.values(fieldsOf(obj.kek)));
  return parts;
}

for (const [kind, make] of Object.entries(FACTORIES)) {
  test(`${kind} never renders its secret bytes as text`, () => {
    const obj = make();
    const parts = secretParts(obj);
    assert.ok(leaks(`x${sodium.to_hex(parts[0])}x`, parts[0]), 'the leak detector detects a leak');
    for (const text of renderings(obj)) {
      for (const part of parts) {
        assert.ok(!leaks(text, part), `${kind} leaked through: ${text}`);
        for (const half of [part.subarray(0, 32), part.subarray(32)]) {
          if (half.length)
            assert.ok(!leaks(text, half), `${kind} leaked part of a secret through: ${text}`);
        }
      }
    }
    assert.equal(String(obj).startsWith(`${kind}(`), true);
    assert.match(String(obj), /secret=<hidden>\)$/);
    assert.equal(JSON.stringify(obj), JSON.stringify(String(obj)));
    assert.equal(inspect(obj), String(obj));
    assert.deepEqual(Object.keys(obj), []);
  });

  test(`${kind}.wipe() zeroes the secret bytes and makes the object unusable`, () => {
    const obj = make();
    const held = Object.values(fieldsOf(obj));
    assert.ok(held.every((array) => !sodium.is_zero(array)));
    obj.wipe();
    assert.ok(held.every((array) => sodium.is_zero(array)));
    assert.equal(obj.wiped, true);
    assert.match(String(obj), /secret=<wiped>\)$/);
    assert.throws(() => secretMaterial(obj), confide.FormatError);
    obj.wipe(); // idempotent
  });
}

test('a wiped key cannot be used by any operation', () => {
  const client = IdentityKeyPair.generate(null);
  const key = ConversationKey.generate();
  const conversation = sodium.randombytes_buf(16);
  const wire = confide.sealMessage(
    utf8('hi'),
    key,
    conversation,
    1,
    client,
    sodium.randombytes_buf(16),
  );
  key.wipe();
  assert.throws(
    () => confide.openMessage(wire, key, client.public, conversation, 1),
    confide.FormatError,
  );
  assert.throws(
    () => confide.sealMessage(utf8('hi'), key, conversation, 1, client, sodium.randombytes_buf(16)),
    confide.FormatError,
  );
  const wrapping = new WrappingKey(sodium.randombytes_buf(32));
  wrapping.wipe();
  assert.throws(
    () => confide.wrapIdentity(client, wrapping, confide.BundleKind.PASSWORD),
    confide.FormatError,
  );
  const recipient = IdentityKeyPair.generate(null);
  client.wipe();
  assert.throws(
    () =>
      confide.wrapConversationKey(
        ConversationKey.generate(),
        conversation,
        1,
        recipient.public,
        client,
      ),
    confide.FormatError,
  );
  // The public half stays usable: it is not secret.
  assert.equal(client.public.toBytes().length, 129);
});

test('wiping PasswordKeys wipes the key-encryption key it owns', () => {
  const keys = FACTORIES.PasswordKeys();
  const { kek } = keys;
  keys.wipe();
  assert.equal(kek.wiped, true);
});

test("secret objects copy their input, so wiping one never zeroes the caller's buffer", () => {
  const raw = sodium.randombytes_buf(32);
  const copy = new Uint8Array(raw);
  const key = new ConversationKey(raw);
  raw.fill(0xff);
  assert.deepEqual(secretMaterial(key), copy);
  key.wipe();
  assert.ok(raw.every((byte) => byte === 0xff));
});

test('secret objects compare in constant time by value, never equal to another type', () => {
  const raw = sodium.randombytes_buf(32);
  assert.ok(new ConversationKey(raw).equals(new ConversationKey(raw)));
  assert.ok(!new ConversationKey(raw).equals(new WrappingKey(raw)));
  assert.ok(!new ConversationKey(raw).equals(ConversationKey.generate()));
  assert.ok(!new ConversationKey(raw).equals(raw));
});

test('an identity shows only a two-byte prefix of its public signing key', () => {
  const identity = IdentityKeyPair.generate();
  const prefix = sodium.to_hex(identity.signKey.subarray(0, 2));
  assert.equal(String(identity), `IdentityKeyPair(sign_public=${prefix}…, secret=<hidden>)`);
  assert.ok(!String(identity).includes(sodium.to_hex(identity.signKey.subarray(0, 3))));
});

test('accessors hand out copies: changing them changes nothing inside', () => {
  const identity = IdentityKeyPair.generate();
  const signKey = identity.signKey;
  signKey.fill(0);
  assert.ok(!sodium.is_zero(identity.signKey));
  const keys = FACTORIES.PasswordKeys();
  keys.authSecret.fill(0);
  assert.ok(!sodium.is_zero(keys.authSecret));
});

test('the auth secret is shown only when asked for by name', () => {
  const keys = FACTORIES.PasswordKeys();
  assert.ok(!leaks(JSON.stringify({ keys }), keys.authSecret));
  assert.equal(confide.b64decode(keys.authSecretB64()).length, 32);
});
