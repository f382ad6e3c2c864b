// Shared helpers for the node --test files in this folder (not a test file itself: the
// runner only picks up *.test.mjs). Everything is located relative to this file, so the
// tests run from any working directory with `node --test tests/js/`.

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CRYPTO_URL = new URL('../../frontend/static/frontend/src/crypto/', import.meta.url);
export const VENDOR_URL = new URL(
  '../../frontend/static/frontend/vendor/libsodium/',
  import.meta.url,
);
export const VECTORS_URL = new URL('../../crypto/vectors/', import.meta.url);

/** Import one module of the browser crypto package by file name. */
export async function cryptoModule(name) {
  return import(new URL(name, CRYPTO_URL).href);
}

export const confide = await cryptoModule('index.js');
export const { substituteRandomSource } = await cryptoModule('random.js');
export const { secretMaterial, fieldsOf } = await cryptoModule('_secret.js');
export const { _sign } = await cryptoModule('identity.js');
export const { _sealPadded } = await cryptoModule('message.js');
export const { _deriveMaster } = await cryptoModule('kdf.js');
/** The vendored libsodium itself, for computing expected values independently. */
export const sodium = (await import(new URL('libsodium-wrappers.mjs', VENDOR_URL).href)).default;
await sodium.ready;

export const fromHex = (hex) => sodium.from_hex(hex);
export const toHex = (bytes) => sodium.to_hex(bytes);
export const utf8 = (text) => new TextEncoder().encode(text);

/** `data` with the byte at `offset` XORed with 0x01. */
export function flip(data, offset) {
  const out = new Uint8Array(data);
  out[offset] ^= 0x01;
  return out;
}

/** `data` with `part` written at `offset`. */
export function replace(data, offset, part) {
  const out = new Uint8Array(data);
  out.set(part, offset);
  return out;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The code under test drew randomness differently from what a vector recorded. */
export class ReplayError extends Error {}

/**
 * Run `body` with the randomness source handing out exactly `values` (hex) in order; fail
 * if a draw has another size, if there are more draws, or if a value is left unused.
 */
export function replayRandom(values, body) {
  const pending = values.map(fromHex);
  const restore = substituteRandomSource((n) => {
    if (pending.length === 0) {
      throw new ReplayError(`${n} random bytes were requested, but none were recorded`);
    }
    const value = pending.shift();
    if (value.length !== n) {
      throw new ReplayError(`${n} random bytes were requested, but ${value.length} were recorded`);
    }
    return value;
  });
  try {
    const result = body();
    if (pending.length)
      throw new ReplayError(`${pending.length} recorded random values were not used`);
    return result;
  } finally {
    restore();
  }
}

/** Every vector file: [{file: 'bundle', document}] in name order. */
export function vectorFiles() {
  const directory = fileURLToPath(VECTORS_URL);
  return readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({
      file: name.slice(0, -'.json'.length),
      document: JSON.parse(readFileSync(new URL(name, VECTORS_URL), 'utf8')),
    }));
}

/** Every way a secret could appear in text: hex, base64 variants and base32. */
export function secretSpellings(secret) {
  const b64 = Buffer.from(secret).toString('base64');
  return [
    toHex(secret),
    toHex(secret).toUpperCase(),
    b64,
    b64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''),
    base32(secret),
    Array.from(secret).join(','),
  ];
}

/** Whether `text` holds any 12-character window of any spelling of `secret`. */
export function leaks(text, secret) {
  for (const spelling of secretSpellings(secret)) {
    for (let start = 0; start + 12 <= spelling.length; start += 1) {
      if (text.includes(spelling.slice(start, start + 12))) return true;
    }
  }
  return false;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (an independent implementation for the tests). */
export function base32(data) {
  let bits = '';
  for (const byte of data) bits += byte.toString(2).padStart(8, '0');
  let text = '';
  for (let i = 0; i < bits.length; i += 5)
    text += BASE32[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return text;
}

/** Decode RFC 4648 base32 without padding whose bit length is a whole number of bytes. */
export function unbase32(text) {
  let bits = '';
  for (const char of text) bits += BASE32.indexOf(char).toString(2).padStart(5, '0');
  const out = new Uint8Array(Math.floor(bits.length / 8));
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  return out;
}

/** BLAKE2b-256, keyed, computed directly with libsodium. */
export const blake2b = (key, message) => sodium.crypto_generichash(32, message, key);

/** An assert.throws validator: exactly the error class named `name`, nothing else. */
export function exactly(name) {
  return (error) => {
    if (!(error instanceof confide.CryptoError)) {
      throw new Error(`expected ${name}, got a non-CryptoError: ${error?.stack ?? error}`);
    }
    if (error.constructor !== confide[name] || error.name !== name) {
      throw new Error(`expected ${name}, got ${error.name}: ${error.message}`);
    }
    return true;
  };
}
