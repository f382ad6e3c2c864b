/**
 * The single source of randomness of the crypto modules.
 *
 * Every nonce, ephemeral key and fresh secret comes from {@link randomBytes}, which reads
 * libsodium's `randombytes_buf` (the browser's or Node's CSPRNG, `crypto.getRandomValues`).
 * {@link substituteRandomSource} exists so that the known-answer tests can replay the
 * values recorded in crypto/vectors; index.js does not export it.
 *
 * Warning: substituting the source anywhere but in tests destroys every security property
 * of the protocol.
 *
 * @module
 */

import sodium from './_sodium.js';
import { FormatError } from './errors.js';

/** @typedef {(n: number) => Uint8Array} RandomSource */

/** @type {RandomSource} */
const systemSource = (n) => sodium.randombytes_buf(n);

/** @type {RandomSource} */
let source = systemSource;

/**
 * `n` bytes from the CSPRNG, as a new array.
 *
 * Throws FormatError if `n` is not a positive integer.
 * @param {number} n
 * @returns {Uint8Array}
 */
export function randomBytes(n) {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw new FormatError(
      `The number of random bytes must be a positive integer, not ${String(n)}`,
    );
  }
  const output = source(n);
  if (!(output instanceof Uint8Array) || output.length !== n) {
    throw new FormatError(`The randomness source did not return ${n} bytes`);
  }
  return new Uint8Array(output);
}

/**
 * Replace the randomness source until the returned function is called. For tests only.
 *
 * Warning: everything made while a substitute is active is as predictable as the
 * substitute.
 * @param {RandomSource} substitute
 * @returns {() => void} a function that restores the previous source
 */
export function substituteRandomSource(substitute) {
  if (typeof substitute !== 'function') {
    throw new FormatError('The substitute randomness source must be a function');
  }
  const previous = source;
  source = substitute;
  return () => {
    source = previous;
  };
}
