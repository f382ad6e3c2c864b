// The transport decoder accepts exactly one text per byte string: the canonical unpadded
// base64url, whatever libsodium's own decoder would tolerate.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { confide, exactly } from './_support.mjs';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

test('every text of up to three characters decodes only if it is canonical', () => {
  const texts = [''];
  for (const a of ALPHABET) {
    texts.push(a);
    for (const b of ALPHABET) {
      texts.push(a + b);
      for (const c of 'AQgw-_') texts.push(a + b + c);
    }
  }
  let accepted = 0;
  for (const text of texts) {
    let data = null;
    try {
      data = confide.b64decode(text);
    } catch (error) {
      exactly('FormatError')(error);
    }
    const canonical = data !== null && confide.b64encode(data) === text;
    if (data !== null) {
      assert.ok(canonical, `${text} decoded but is not canonical`);
      accepted += 1;
    }
  }
  // The empty text; of the 64 * 64 two-character texts those whose last character has its
  // four low bits clear (A, Q, g, w); of the three-character ones those whose last has its
  // two low bits clear (A, Q, g, w again, of the six tried; not - or _).
  assert.equal(accepted, 1 + 64 * 4 + 64 * 64 * 4);
});

test('padding, whitespace and characters of other alphabets are refused anywhere', () => {
  const good = confide.b64encode(Uint8Array.from([1, 2, 3, 4, 5]));
  for (let position = 0; position <= good.length; position += 1) {
    for (const char of ['=', ' ', '\n', '\t', '+', '/', '.', '\u00e9', '\u0000', '\uFF21']) {
      const text = good.slice(0, position) + char + good.slice(position);
      assert.throws(() => confide.b64decode(text), exactly('FormatError'), JSON.stringify(text));
    }
  }
  assert.throws(() => confide.b64decode(`${good}==`), exactly('FormatError'));
});

test('a length of 4k+1 characters is refused', () => {
  for (const length of [1, 5, 9, 45]) {
    assert.throws(() => confide.b64decode('A'.repeat(length)), exactly('FormatError'));
  }
});

test('only strings are decoded and only byte arrays encoded', () => {
  for (const value of [null, undefined, 42, ['AA'], new Uint8Array(2)]) {
    assert.throws(() => confide.b64decode(value), exactly('FormatError'));
  }
  for (const value of [null, 'AA', [1, 2], new ArrayBuffer(2)]) {
    assert.throws(() => confide.b64encode(value), exactly('FormatError'));
  }
});
