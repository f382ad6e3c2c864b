// The web client's QR codes (src/app/qr.js, on the vendored `qr` library) hold payloads
// of any size the screens need, with the version the data needs, the standard's finder
// and timing patterns and format information naming level M. That each one decodes to
// its payload is checked by an independent decoder (zxing-cpp) in
// tests/frontend/test_the_web_clients_qr_codes_decode_to_their_payload.py.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { qrModules } from '../../frontend/static/frontend/src/app/qr.js';

function bytes(n) {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
}

/** The version of a symbol of `size` modules a side. */
const version = (size) => (size - 17) / 4;

test('the version follows the data: the safety payload, past 106 bytes, and text', () => {
  assert.equal(version(qrModules(bytes(1)).length), 1);
  assert.equal(version(qrModules(bytes(14)).length), 1);
  assert.equal(version(qrModules(bytes(15)).length), 2);
  assert.equal(version(qrModules(bytes(65)).length), 5);
  assert.equal(version(qrModules(bytes(106)).length), 6);
  assert.equal(version(qrModules(bytes(107)).length), 7);
  assert.equal(version(qrModules(bytes(200)).length), 10);
  assert.equal(version(qrModules(bytes(2331)).length), 40);
  assert.throws(() => qrModules(bytes(2332)));
  const uri = 'otpauth://totp/Confide:theo%40practice.invalid?secret=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567&issuer=Confide';
  assert.equal(qrModules(uri).length, qrModules(new TextEncoder().encode(uri)).length);
});

for (const n of [65, 200]) {
  test(`finder and timing patterns are where the standard puts them (${n} bytes)`, () => {
    const m = qrModules(bytes(n));
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

  test(`both copies of the format information agree and name level M (${n} bytes)`, () => {
    const m = qrModules(bytes(n));
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
}

test('the same data always gives the same symbol, and other data another', () => {
  assert.deepEqual(qrModules(bytes(200)), qrModules(bytes(200)));
  const other = bytes(200);
  other[100] ^= 1;
  assert.notDeepEqual(qrModules(other), qrModules(bytes(200)));
});
