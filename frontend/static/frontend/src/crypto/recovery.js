/**
 * Recovery keys: a random key shown once, which wraps a second copy of the identity.
 *
 *     wrapping key = H(recovery, "confide/v1/recovery-wrap")
 *     check        = H(recovery, "confide/v1/recovery-check")[0:3]
 *     display      = base32(recovery(32) || check(3)) in 14 groups of 4, joined by "-"
 *
 * base32 is RFC 4648 (`A-Z 2-7`), upper case, without padding: 35 bytes are exactly 56
 * characters. The 24-bit check lets a typing mistake be reported as a typo, before any
 * decryption is attempted, rather than as a wrong key.
 *
 * @module
 */

import * as labels from './_labels.js';
import { concat, equalBytes, requireLength, typeName } from './_fields.js';
import { KEY_SIZE, h, wipeBytes } from './_primitives.js';
import { randomBytes } from './random.js';
import { Secret, fieldsOf } from './_secret.js';
import { WrappingKey } from './bundle.js';
import { FormatError } from './errors.js';

export const RECOVERY_CHECK_SIZE = 3;
export const RECOVERY_DISPLAY_LENGTH = 56; // base32 characters, without separators
const GROUP = 4;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The characters skipped as whitespace when reading a typed key: exactly those for which
 * Python's `str.isspace()` is true, so that both implementations accept the same input
 * (JavaScript's `\s` differs: it lacks U+001C..U+001F and U+0085 and adds U+FEFF).
 */
const WHITESPACE = new Set(
  [
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001,
    0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f,
    0x205f, 0x3000,
  ].map((code) => String.fromCodePoint(code)),
);

/**
 * A 32-byte random recovery key.
 *
 * Warning: {@link RecoveryKey#display} returns the secret itself, for showing once to the
 * user; never log it or send it anywhere. The constructor copies the key and throws
 * FormatError if it is not exactly 32 bytes.
 */
export class RecoveryKey extends Secret {
  /** @param {Uint8Array} key */
  constructor(key) {
    super({ key: requireLength(key, KEY_SIZE, 'The recovery key') });
    Object.freeze(this);
  }

  /** A new recovery key of 32 random bytes. */
  static generate() {
    const key = randomBytes(KEY_SIZE);
    try {
      return new RecoveryKey(key);
    } finally {
      wipeBytes(key);
    }
  }

  /** The key that wraps the recovery copy of the identity (bundle kind 0x02). */
  wrappingKey() {
    const derived = h(fieldsOf(this).key, labels.RECOVERY_WRAP);
    try {
      return new WrappingKey(derived);
    } finally {
      wipeBytes(derived);
    }
  }

  /** The form shown to the user: 56 base32 characters in 14 groups of 4, dash-joined. */
  display() {
    const key = fieldsOf(this).key;
    const raw = concat(key, check(key));
    try {
      const text = base32Encode(raw);
      const groups = [];
      for (let i = 0; i < text.length; i += GROUP) groups.push(text.slice(i, i + GROUP));
      return groups.join('-');
    } finally {
      wipeBytes(raw);
    }
  }

  /**
   * Parse a recovery key as typed by the user.
   *
   * Accepts lower case and ignores dashes and whitespace. Throws FormatError, in this
   * order, for a character outside `A-Z 2-7`, a length other than 56 characters, or a
   * check that does not match (the key was mistyped).
   * @param {string} text
   * @returns {RecoveryKey}
   */
  static fromDisplay(text) {
    if (typeof text !== 'string') {
      throw new FormatError(`The recovery key must be a string, not ${typeName(text)}`);
    }
    let compact = '';
    for (const char of text) {
      if (char === '-' || WHITESPACE.has(char)) continue;
      // Only ASCII is upper-cased: "ß".toUpperCase() would turn one mistake into "SS".
      const upper = char.length === 1 && char.charCodeAt(0) < 0x80 ? char.toUpperCase() : char;
      if (!BASE32_ALPHABET.includes(upper) || upper.length !== 1) {
        throw new FormatError(
          `The recovery key contains ${JSON.stringify(char)}, which is not one of its ` +
            'characters (letters A-Z and digits 2-7)',
        );
      }
      compact += upper;
    }
    if (compact.length !== RECOVERY_DISPLAY_LENGTH) {
      throw new FormatError(
        `A recovery key has ${RECOVERY_DISPLAY_LENGTH} letters and digits, not ${compact.length}`,
      );
    }
    const raw = base32Decode(compact);
    const key = raw.slice(0, KEY_SIZE);
    const expected = check(key);
    try {
      if (!equalBytes(raw.subarray(KEY_SIZE), expected)) {
        throw new FormatError(
          'The recovery key checksum does not match: the key was probably mistyped',
        );
      }
      return new RecoveryKey(key);
    } finally {
      wipeBytes(raw, key, expected);
    }
  }
}

/**
 * @param {Uint8Array} key
 * @returns {Uint8Array}
 */
function check(key) {
  return h(key, labels.RECOVERY_CHECK).slice(0, RECOVERY_CHECK_SIZE);
}

/**
 * RFC 4648 base32, upper case, without `=` padding.
 * @param {Uint8Array} data
 * @returns {string}
 */
function base32Encode(data) {
  let text = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of data) {
    buffer = ((buffer << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += BASE32_ALPHABET[(buffer >> bits) & 0x1f];
    }
  }
  if (bits > 0) text += BASE32_ALPHABET[(buffer << (5 - bits)) & 0x1f];
  return text;
}

/**
 * Decode upper-case base32 whose length is a multiple of 8 (already validated).
 * @param {string} text
 * @returns {Uint8Array}
 */
function base32Decode(text) {
  const out = new Uint8Array((text.length * 5) / 8);
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const char of text) {
    buffer = ((buffer << 5) | BASE32_ALPHABET.indexOf(char)) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}
