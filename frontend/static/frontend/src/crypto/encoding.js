/**
 * Transport encoding: base64url without padding (libsodium's `URLSAFE_NO_PADDING`).
 *
 * Every binary format of the protocol travels inside JSON in this encoding. Decoding is
 * strict so that each byte string has exactly one text form: a server or client comparing
 * encoded values, or using them as keys, never sees two spellings of the same bytes.
 * The checks are made here, before libsodium's decoder runs, so that strictness does not
 * depend on the version of the library; the result is also re-encoded and compared.
 *
 * @module
 */

import sodium from './_sodium.js';
import { requireBytes } from './_fields.js';
import { FormatError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALID = /^[A-Za-z0-9_-]*$/;
/** Bits of the last character that carry no data, by input length modulo 4. */
const UNUSED_BITS_MASK = /** @type {Record<number, number>} */ ({ 2: 0x0f, 3: 0x03 });

/**
 * Encode bytes as base64url (RFC 4648 section 5) without `=` padding.
 *
 * Throws FormatError if `data` is not a Uint8Array.
 * @param {Uint8Array} data
 * @returns {string}
 */
export function b64encode(data) {
  const raw = requireBytes(data, 'The data to encode');
  return sodium.to_base64(raw, sodium.base64_variants.URLSAFE_NO_PADDING);
}

/**
 * Decode unpadded base64url, strictly.
 *
 * Throws FormatError for anything but the canonical encoding of some bytes: a non-string,
 * `=` padding, whitespace or any character outside `A-Z a-z 0-9 - _` (including `+` and
 * `/` of standard base64), a length of `4k+1` characters, or non-zero unused bits in the
 * last character. The empty string decodes to an empty array.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function b64decode(text) {
  if (typeof text !== 'string') {
    throw new FormatError(
      `Base64url input must be a string, not ${text === null ? 'null' : typeof text}`,
    );
  }
  if (!VALID.test(text)) {
    let position = 0;
    for (const char of text) {
      if (!ALPHABET.includes(char)) {
        if (char === '=') {
          throw new FormatError(`Base64url input must not be padded: '=' at position ${position}`);
        }
        throw new FormatError(
          `Base64url input contains ${JSON.stringify(char)} at position ${position}, which is ` +
            'not in the URL-safe alphabet (A-Z a-z 0-9 - _)',
        );
      }
      position += 1;
    }
  }
  const remainder = text.length % 4;
  if (remainder === 1) {
    throw new FormatError(
      `Base64url input has an impossible length of ${text.length} characters (4k+1)`,
    );
  }
  if (remainder && ALPHABET.indexOf(text[text.length - 1]) & UNUSED_BITS_MASK[remainder]) {
    throw new FormatError(
      'Base64url input is not canonical: the unused bits of its last character are not zero',
    );
  }
  let data;
  try {
    data = sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);
  } catch {
    throw new FormatError('Base64url input could not be decoded');
  }
  if (sodium.to_base64(data, sodium.base64_variants.URLSAFE_NO_PADDING) !== text) {
    throw new FormatError('Base64url input is not the canonical encoding of its bytes');
  }
  return data;
}
