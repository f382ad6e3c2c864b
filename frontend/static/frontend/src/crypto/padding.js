/**
 * Length-hiding padding to power-of-two buckets.
 *
 *     padded = u32(len(data)) || data || zero bytes, to the smallest bucket 2^k
 *              (8 <= k <= 20) with 4 + len(data) <= 2^k
 *
 * So the server learns a message's size only to within a power of two (256 B to 1 MiB).
 *
 * @module
 */

import { requireBytes, u32 } from './_fields.js';
import { FormatError } from './errors.js';

export const MIN_PADDED = 2 ** 8;
export const MAX_PADDED = 2 ** 20;
export const BUCKETS = Object.freeze(Array.from({ length: 13 }, (_, i) => 2 ** (i + 8)));
export const LENGTH_PREFIX = 4;
export const MAX_PLAINTEXT = MAX_PADDED - LENGTH_PREFIX; // 1048572

/**
 * The bucket that a plaintext of `length` bytes pads to.
 *
 * Throws FormatError if `length` is not an integer, is negative or is above
 * `MAX_PLAINTEXT`.
 * @param {number} length
 * @returns {number}
 */
export function paddedSize(length) {
  if (typeof length !== 'number' || !Number.isInteger(length)) {
    throw new FormatError(`A plaintext length must be an integer, not ${String(length)}`);
  }
  if (length < 0) throw new FormatError(`A plaintext length cannot be negative (${length})`);
  for (const bucket of BUCKETS) {
    if (LENGTH_PREFIX + length <= bucket) return bucket;
  }
  throw new FormatError(
    `The plaintext is ${length} bytes long; at most ${MAX_PLAINTEXT} bytes fit in a message`,
  );
}

/**
 * Pad `data` to its bucket; throws FormatError if it is too long.
 * @param {Uint8Array} data
 * @returns {Uint8Array}
 */
export function pad(data) {
  const raw = requireBytes(data, 'The plaintext');
  const padded = new Uint8Array(paddedSize(raw.length));
  padded.set(u32(raw.length), 0);
  padded.set(raw, LENGTH_PREFIX);
  raw.fill(0);
  return padded;
}

/**
 * Remove padding added by {@link pad}.
 *
 * Throws FormatError, in this order, if the size is not a bucket, the declared length does
 * not fit in the buffer, or any padding byte is not zero (each is a non-conforming
 * sender). Data padded to a larger bucket than necessary is accepted.
 * @param {Uint8Array} padded
 * @returns {Uint8Array}
 */
export function unpad(padded) {
  const raw = requireBytes(padded, 'The padded plaintext');
  if (!BUCKETS.includes(raw.length)) {
    throw new FormatError(
      `The padded plaintext is ${raw.length} bytes long, which is not a padding bucket ` +
        `(a power of two from ${MIN_PADDED} to ${MAX_PADDED})`,
    );
  }
  const length = new DataView(raw.buffer, raw.byteOffset, LENGTH_PREFIX).getUint32(0, false);
  const room = raw.length - LENGTH_PREFIX;
  if (length > room) {
    throw new FormatError(
      `The padded plaintext declares ${length} bytes of data but has room for ${room}`,
    );
  }
  const end = LENGTH_PREFIX + length;
  let nonZero = 0;
  for (let i = end; i < raw.length; i += 1) nonZero |= raw[i];
  if (nonZero !== 0) {
    throw new FormatError('The padding after the plaintext is not all zero bytes');
  }
  return raw.slice(LENGTH_PREFIX, end);
}
