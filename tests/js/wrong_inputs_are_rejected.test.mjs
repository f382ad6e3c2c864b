// Wrong lengths, wrong types, bad ids and out-of-range numbers are FormatErrors, raised
// before any cryptography, in the order SPEC.md gives: empty input and version first,
// then length.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { confide, exactly, sodium, utf8 } from './_support.mjs';

const { BundleKind, ConversationKey, IdentityKeyPair, KdfParams, RecoveryKey, WrappingKey } =
  confide;

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
const envelope = confide.wrapConversationKey(key, conversation, 1, client.public, client);
const password = new WrappingKey(sodium.randombytes_buf(32));
const bundle = confide.wrapIdentity(client, password, BundleKind.PASSWORD);

const PARSERS = {
  'public identity': [client.public.toBytes(), (data) => confide.PublicIdentity.fromBytes(data)],
  'key bundle': [bundle, (data) => confide.unwrapIdentity(data, password, client.public)],
  envelope: [
    envelope,
    (data) => confide.unwrapConversationKey(data, client, client.public, conversation, 1),
  ],
  message: [wire, (data) => confide.openMessage(data, key, client.public, conversation, 1)],
  'safety QR payload': [
    confide.safetyQrPayload(client.public, client.public),
    (data) => confide.verifySafetyQr(data, client.public, client.public),
  ],
};

function withLength(data, length) {
  const out = new Uint8Array(length);
  out.set(data.subarray(0, length));
  return out;
}

for (const [format, [good, parse]] of Object.entries(PARSERS)) {
  test(`${format}: empty, truncated and over-long input are FormatErrors`, () => {
    for (const length of [0, 1, good.length - 1, good.length + 1, good.length * 2]) {
      assert.throws(
        () => parse(withLength(good, length)),
        exactly('FormatError'),
        `length ${length}`,
      );
    }
  });

  test(`${format}: an unknown version is an UnsupportedVersionError even at a wrong length`, () => {
    // Envelopes have versions 2 and 3, messages and identities a version 2 (crypto/SPEC.md);
    // 0x04 is unknown to every format.
    for (const version of [0x00, 0x04, 0xff]) {
      for (const length of [1, good.length, good.length + 1]) {
        const data = withLength(good, length);
        data[0] = version;
        assert.throws(() => parse(data), exactly('UnsupportedVersionError'));
      }
    }
  });

  test(`${format}: input that is not a Uint8Array is a FormatError`, () => {
    for (const value of [
      null,
      undefined,
      'AQ',
      Array.from(good),
      good.buffer,
      new DataView(good.buffer),
    ]) {
      assert.throws(() => parse(value), exactly('FormatError'));
    }
  });
}

test('a message of a length between buckets is a FormatError', () => {
  for (const padded of [255, 257, 300, 511, 2 ** 21]) {
    const data = new Uint8Array(padded + 173);
    data[0] = 1;
    assert.throws(() => confide.parseMessage(data), exactly('FormatError'), `padded ${padded}`);
  }
});

test('ids must be 16 bytes or a UUID string', () => {
  const seal = (id) =>
    confide.sealMessage(utf8('x'), key, id, 1, client, sodium.randombytes_buf(16));
  for (const id of [
    new Uint8Array(15),
    new Uint8Array(17),
    '6f1c7a3e2d5b4c8e9a0b1c2d3e4f5a6b',
    '{6f1c7a3e-2d5b-4c8e-9a0b-1c2d3e4f5a6b}',
    '6f1c7a3e-2d5b-4c8e-9a0b-1c2d3e4f5a6',
    ' 6f1c7a3e-2d5b-4c8e-9a0b-1c2d3e4f5a6b',
    'g f1c7a3e-2d5b-4c8e-9a0b-1c2d3e4f5a6b',
    null,
    42,
  ]) {
    assert.throws(() => seal(id), exactly('FormatError'), String(id));
  }
});

test('epochs must be integers from 0 to 2^32-1', () => {
  const seal = (epoch) =>
    confide.sealMessage(utf8('x'), key, conversation, epoch, client, conversation);
  for (const epoch of [-1, 2 ** 32, 1.5, NaN, Infinity, '1', 1n, true, null]) {
    assert.throws(() => seal(epoch), exactly('FormatError'), String(epoch));
  }
  for (const epoch of [0, 2 ** 32 - 1]) {
    const sealed = seal(epoch);
    assert.equal(confide.parseMessage(sealed).epoch, epoch);
  }
});

test('a bundle kind must be one of BundleKind', () => {
  for (const kind of [0, 3, 1.5, '1', true, null]) {
    assert.throws(
      () => confide.wrapIdentity(client, password, kind),
      exactly('FormatError'),
      String(kind),
    );
  }
});

test('keys of the wrong length or type are FormatErrors', () => {
  for (const cls of [ConversationKey, WrappingKey, RecoveryKey]) {
    for (const value of [new Uint8Array(31), new Uint8Array(33), 'k'.repeat(32), null]) {
      assert.throws(() => new cls(value), exactly('FormatError'));
    }
  }
  for (const value of [new Uint8Array(63), new Uint8Array(65), null]) {
    assert.throws(() => new IdentityKeyPair(value), exactly('FormatError'));
  }
});

test('arguments of the wrong class are FormatErrors, never another error', () => {
  const other = client.public;
  assert.throws(
    () => confide.sealMessage(utf8('x'), password, conversation, 1, client, conversation),
    exactly('FormatError'),
  );
  assert.throws(
    () => confide.sealMessage(utf8('x'), key, conversation, 1, other, conversation),
    exactly('FormatError'),
  );
  assert.throws(
    () => confide.sealMessage('text', key, conversation, 1, client, conversation),
    exactly('FormatError'),
  );
  assert.throws(
    () => confide.openMessage(wire, key, client, conversation, 1),
    exactly('FormatError'),
  );
  assert.throws(() => confide.wrapIdentity(other, password, 1), exactly('FormatError'));
  assert.throws(() => confide.unwrapIdentity(bundle, password, client), exactly('FormatError'));
  assert.throws(
    () => confide.wrapConversationKey(key, conversation, 1, client, client),
    exactly('FormatError'),
  );
  assert.throws(
    () => confide.unwrapConversationKey(envelope, client.public, client.public, conversation, 1),
    exactly('FormatError'),
  );
  assert.throws(() => confide.safetyNumber(client, client.public), exactly('FormatError'));
  assert.throws(
    () => confide.sealText(utf8('x'), key, conversation, 1, client, conversation),
    exactly('FormatError'),
  );
});

test('text with a lone surrogate is refused rather than silently replaced', () => {
  for (const text of ['\uD800', 'a\uDC00b', '\uDBFF\uDBFF\uDC00'.slice(0, 1)]) {
    assert.throws(
      () => confide.sealText(text, key, conversation, 1, client, conversation),
      exactly('FormatError'),
    );
  }
  const small = new KdfParams({ opslimit: 2, memlimit: 32 * 1024 * 1024 });
  assert.throws(
    () => confide.derivePasswordKeys('pass\uD800word', new Uint8Array(16), small),
    exactly('FormatError'),
  );
});

test('KDF parameters outside the bounds, including from a hostile server, are refused', () => {
  const mib = 1024 * 1024;
  for (const [opslimit, memlimit] of [
    [1, 32 * mib],
    [11, 32 * mib],
    [2, 32 * mib - 1024],
    [2, 256 * mib + 1024],
    [2, 32 * mib + 1],
    [2.5, 32 * mib],
    ['3', 64 * mib],
    [3, undefined],
  ]) {
    assert.throws(
      () => new KdfParams({ opslimit, memlimit }),
      exactly('FormatError'),
      `${opslimit} ${memlimit}`,
    );
  }
  assert.throws(
    () => confide.derivePasswordKeys('pw', new Uint8Array(16), { opslimit: 3, memlimit: 64 * mib }),
    exactly('FormatError'),
  );
  assert.throws(
    () => confide.derivePasswordKeys('', new Uint8Array(16), confide.DEFAULT_KDF_PARAMS),
    exactly('FormatError'),
  );
  assert.throws(
    () => confide.derivePasswordKeys(null, new Uint8Array(16), confide.DEFAULT_KDF_PARAMS),
    exactly('FormatError'),
  );
});

test('the rotation policy refuses counts and ages it cannot trust', () => {
  for (const [count, age, changed] of [
    [-1, 0, false],
    [1.5, 0, false],
    ['1', 0, false],
    [0, -1, false],
    [0, NaN, false],
    [0, Infinity, false],
    [0, '0', false],
    [0, 0, 'yes'],
    [0, 0, undefined],
  ]) {
    assert.throws(() => confide.epochNeedsRotation(count, age, changed), exactly('FormatError'));
  }
});

test('a recovery key with a character outside the alphabet is refused before its length', () => {
  const display = RecoveryKey.generate().display();
  assert.throws(
    () => RecoveryKey.fromDisplay(`${display.slice(0, -1)}ß`),
    /not one of its characters/,
  );
  // A look-alike of a dash that SPEC.md does not list is refused, not skipped.
  assert.throws(() => RecoveryKey.fromDisplay(`${display}\u2043`), /not one of its characters/);
  assert.throws(() => RecoveryKey.fromDisplay('0'), /not one of its characters/);
  assert.throws(() => RecoveryKey.fromDisplay('AAAA'), /56 letters and digits, not 4/);
  // Whitespace is what Python's str.isspace() calls whitespace, so both sides agree; a
  // byte-order mark and an em dash that a copy brings along are skipped too.
  assert.ok(
    RecoveryKey.fromDisplay(`\uFEFF\u001c${display.replace('-', '\u2014')}\u0085\u00a0`).equals(
      RecoveryKey.fromDisplay(display),
    ),
  );
});

test('a safety number to format must be exactly 60 ASCII digits', () => {
  for (const number of ['1'.repeat(59), '1'.repeat(61), '١'.repeat(60), `${'1'.repeat(59)}a`, 1]) {
    assert.throws(() => confide.formatSafetyNumber(number), exactly('FormatError'));
  }
});
