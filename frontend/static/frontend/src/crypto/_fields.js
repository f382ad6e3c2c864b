/**
 * Helpers for fixed-layout binary formats: argument checks, ids, `u32` and a reader.
 *
 * Byte arguments are copied on the way in: a caller that later changes or wipes its own
 * buffer cannot change what was checked, and wiping a secret object never zeroes a
 * caller's buffer.
 *
 * @module
 */

import sodium from './_sodium.js';
import { FormatError, UnsupportedVersionError } from './errors.js';

export const ID_SIZE = 16;
export const U32_MAX = 0xffffffff;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A short name of a value's type, for error messages.
 * @param {unknown} value
 * @returns {string}
 */
export function typeName(value) {
  if (value === null) return 'null';
  if (typeof value === 'object' || typeof value === 'function') {
    return value.constructor?.name ?? 'object';
  }
  return typeof value;
}

/**
 * A copy of `value` if it is a Uint8Array (a Node Buffer is one); FormatError otherwise.
 * @param {unknown} value
 * @param {string} what
 * @returns {Uint8Array}
 */
export function requireBytes(value, what) {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  throw new FormatError(`${what} must be a Uint8Array, not ${typeName(value)}`);
}

/**
 * `value` if it is an instance of `cls`; FormatError otherwise.
 * @template T
 * @param {unknown} value
 * @param {new (...args: any[]) => T} cls
 * @param {string} what
 * @returns {T}
 */
export function requireType(value, cls, what) {
  if (!(value instanceof cls)) {
    throw new FormatError(`${what} must be a ${cls.name}, not ${typeName(value)}`);
  }
  return value;
}

/**
 * A copy of `value` if it is a Uint8Array of exactly `size` bytes; FormatError otherwise.
 * @param {unknown} value
 * @param {number} size
 * @param {string} what
 * @returns {Uint8Array}
 */
export function requireLength(value, size, what) {
  const data = requireBytes(value, what);
  if (data.length !== size) {
    throw new FormatError(`${what} must be exactly ${size} bytes long (got ${data.length})`);
  }
  return data;
}

/**
 * A 16-byte id from a UUID string (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, either case) or
 * exactly 16 bytes. The bytes are the UUID's 32 hex digits in order (RFC 4122 order).
 * @param {unknown} value
 * @param {string} what
 * @returns {Uint8Array}
 */
export function coerceId(value, what) {
  if (typeof value === 'string') {
    if (!UUID_PATTERN.test(value)) {
      // The value is not echoed: a mistaken argument could be anything, a secret included.
      throw new FormatError(`${what} must be a UUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`);
    }
    return sodium.from_hex(value.replaceAll('-', '').toLowerCase());
  }
  if (value instanceof Uint8Array) {
    if (value.length !== ID_SIZE) {
      throw new FormatError(
        `${what} must be a UUID or exactly ${ID_SIZE} bytes long (got ${value.length})`,
      );
    }
    return new Uint8Array(value);
  }
  throw new FormatError(`${what} must be a UUID or 16 bytes, not ${typeName(value)}`);
}

/**
 * The UUID text form (lower case, with dashes) of a 16-byte id.
 * @param {Uint8Array} id
 * @returns {string}
 */
export function idToUuid(id) {
  const hex = sodium.to_hex(requireLength(id, ID_SIZE, 'An id'));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * `epoch` if it is an integer from 0 to 2^32-1; FormatError otherwise.
 * @param {unknown} epoch
 * @returns {number}
 */
export function checkEpoch(epoch) {
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0 || epoch > U32_MAX) {
    throw new FormatError(
      `The epoch must be an integer from 0 to ${U32_MAX}, not ${String(epoch)}`,
    );
  }
  return epoch;
}

/**
 * `u32(x)`: 4 bytes, big-endian unsigned.
 * @param {number} value
 * @returns {Uint8Array}
 */
export function u32(value) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

/**
 * `u64(x)`: 8 bytes, big-endian unsigned (`x` at most 2^53 - 1).
 * @param {number} value
 * @returns {Uint8Array}
 */
export function u64(value) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false);
  return out;
}

/**
 * The 8 bytes at `offset` of `data` as a big-endian unsigned integer: a number when it is
 * at most 2^53 - 1, Infinity above (which no range check lets through).
 * @param {Uint8Array} data
 * @param {number} [offset]
 * @returns {number}
 */
export function readU64(data, offset = 0) {
  const value = new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(offset, false);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value);
}

/**
 * FormatError if `data` is empty, UnsupportedVersionError if byte 0 is not `version` (or
 * one of `versions`, a Set or Map's keys, for a format with several); returns byte 0.
 * @param {Uint8Array} data
 * @param {number | {has: (version: number) => boolean}} version
 * @param {string} what
 * @returns {number}
 */
export function checkVersion(data, version, what) {
  if (data.length === 0) throw new FormatError(`The ${what} is empty`);
  const known = typeof version === 'number' ? data[0] === version : version.has(data[0]);
  if (!known) {
    const found = data[0].toString(16).padStart(2, '0');
    throw new UnsupportedVersionError(`Unsupported ${what} format version 0x${found}`);
  }
  return data[0];
}

/**
 * The concatenation of byte strings, as a new array.
 * @param {...Uint8Array} parts
 * @returns {Uint8Array}
 */
export function concat(...parts) {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/**
 * Lowercase hex of public bytes (for keys in maps; never of a secret). Plain JavaScript:
 * the order check keys thousands of references this way per reading.
 * @param {Uint8Array} data
 * @returns {string}
 */
export function toHex(data) {
  let text = '';
  for (const byte of data) text += HEX[byte];
  return text;
}

/**
 * Constant-time equality of two byte strings (the lengths are not secret).
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {boolean}
 */
export function equalBytes(a, b) {
  return a.length === b.length && sodium.memcmp(a, b);
}

/** Consumes a byte string field by field; the caller has already checked its length. */
export class Reader {
  #data;
  #offset = 0;

  /** @param {Uint8Array} data */
  constructor(data) {
    this.#data = data;
  }

  /**
   * The next `size` bytes, as a copy.
   * @param {number} size
   * @returns {Uint8Array}
   */
  take(size) {
    const field = this.#data.slice(this.#offset, this.#offset + size);
    if (field.length !== size) throw new FormatError('The input is truncated');
    this.#offset += size;
    return field;
  }

  /** The next 4 bytes as a big-endian unsigned integer. */
  takeU32() {
    const field = this.take(4);
    return new DataView(field.buffer).getUint32(0, false);
  }
  /** The next 8 bytes as a big-endian unsigned integer (Infinity above 2^53 - 1). */
  takeU64() {
    return readU64(this.take(8));
  }


  /** Everything not yet consumed, as a copy. */
  rest() {
    const field = this.#data.slice(this.#offset);
    this.#offset = this.#data.length;
    return field;
  }
}
