// The QR encoder makes structurally valid symbols: the right version for the data, finder
// and timing patterns in place, and format information that decodes to level M with a
// valid BCH code. (The browser tests' screenshots were also checked with a decoder.)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { encodeQr } from '../../frontend/static/frontend/src/app/qr.js';

function bytes(n) {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
}

test('the size follows the version the data needs; the 65-byte safety payload is version 5', () => {
  assert.equal(encodeQr(bytes(1)).length, 21);
  assert.equal(encodeQr(bytes(14)).length, 21);
  assert.equal(encodeQr(bytes(15)).length, 25);
  assert.equal(encodeQr(bytes(65)).length, 37);
  assert.equal(encodeQr(bytes(106)).length, 41);
  assert.throws(() => encodeQr(bytes(107)), RangeError);
});

test('finder and timing patterns are where the standard puts them', () => {
  const m = encodeQr(bytes(65));
  const size = m.length;
  for (const [x0, y0] of [[0, 0], [size - 7, 0], [0, size - 7]]) {
    for (let y = 0; y < 7; y += 1) {
      for (let x = 0; x < 7; x += 1) {
        const ring = Math.max(Math.abs(x - 3), Math.abs(y - 3));
        assert.equal(m[y0 + y][x0 + x], ring !== 2, `finder at ${x0},${y0}`);
      }
    }
  }
  for (let i = 8; i < size - 8; i += 1) {
    assert.equal(m[6][i], i % 2 === 0);
    assert.equal(m[i][6], i % 2 === 0);
  }
  assert.equal(m[size - 8][8], true, 'the dark module');
});

test('both copies of the format information agree and name level M', () => {
  const m = encodeQr(bytes(65));
  const size = m.length;
  let first = 0;
  let second = 0;
  const firstCells = [[8, 0], [8, 1], [8, 2], [8, 3], [8, 4], [8, 5], [8, 7], [8, 8], [7, 8],
    [5, 8], [4, 8], [3, 8], [2, 8], [1, 8], [0, 8]];
  firstCells.forEach(([x, y], i) => {
    if (m[y][x]) first |= 1 << i;
  });
  for (let i = 0; i < 8; i += 1) if (m[8][size - 1 - i]) second |= 1 << i;
  for (let i = 8; i < 15; i += 1) if (m[size - 15 + i][8]) second |= 1 << i;
  assert.equal(first, second);
  const unmasked = first ^ 0x5412;
  assert.equal(unmasked >>> 13, 0b00, 'error correction level M');
  let remainder = unmasked;
  for (let bit = 14; bit >= 10; bit -= 1) {
    if (remainder & (1 << bit)) remainder ^= 0x537 << (bit - 10);
  }
  assert.equal(remainder, 0, 'the BCH code checks');
});

test('the same data always gives the same symbol', () => {
  assert.deepEqual(encodeQr(bytes(65)), encodeQr(bytes(65)));
});
