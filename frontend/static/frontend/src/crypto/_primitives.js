/**
 * Thin, exact wrappers over the libsodium primitives the protocol uses.
 *
 * The same primitives as crypto/_primitives.py, so that both implementations produce the
 * same bytes: BLAKE2b (`crypto_generichash`), XChaCha20-Poly1305-IETF, Ed25519 detached
 * signatures, X25519 and X-Wing (`crypto_kem_xwing`, draft-connolly-cfrg-xwing-kem: X25519
 * with ML-KEM-768). Every libsodium failure is translated into the package's own errors
 * here, and nowhere else. Every argument is a Uint8Array: libsodium.js would
 * silently UTF-8-encode a string, so the callers check types first.
 *
 * @module
 */

import sodium from './_sodium.js';
import { DecryptionError, SignatureError, WeakKeyError } from './errors.js';
import { randomBytes } from './random.js';

export const KEY_SIZE = 32;
export const NONCE_SIZE = 24;
export const TAG_SIZE = 16;
export const SIGNATURE_SIZE = 64;
export const PUBLIC_KEY_SIZE = 32;
export const SEED_SIZE = 32;
export const HASH_SIZE = 32;
export const XWING_SEED_SIZE = 32;
export const XWING_PUBLIC_KEY_SIZE = 1216;
export const XWING_CIPHERTEXT_SIZE = 1120;
const MLKEM_PUBLIC_KEY_SIZE = 1184;
const MLKEM_CIPHERTEXT_SIZE = 1088;

/** Any clamped scalar maps every low-order point (and only those) to zero. */
export const LOW_ORDER_PROBE = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

/**
 * The encapsulation seed of the ML-KEM key check: public and fixed, as nothing of that
 * encapsulation is kept.
 */
const MLKEM_CHECK_SEED = new Uint8Array(32);

/**
 * `H(key, message)`: keyed BLAKE2b with a 32-byte output (`crypto_generichash`).
 * @param {Uint8Array} key
 * @param {Uint8Array} message
 * @returns {Uint8Array}
 */
export function h(key, message) {
  return sodium.crypto_generichash(HASH_SIZE, message, key);
}

/**
 * Unkeyed BLAKE2b with a 32-byte output (`crypto_generichash` with no key).
 * @param {Uint8Array} message
 * @returns {Uint8Array}
 */
export function hUnkeyed(message) {
  return sodium.crypto_generichash(HASH_SIZE, message, null);
}

/** A fresh random 24-byte XChaCha20-Poly1305 nonce. */
export function newNonce() {
  return randomBytes(NONCE_SIZE);
}

/**
 * XChaCha20-Poly1305-IETF encryption; returns the ciphertext with the 16-byte tag appended.
 * @param {Uint8Array} key
 * @param {Uint8Array} nonce
 * @param {Uint8Array} plaintext
 * @param {Uint8Array} ad
 * @returns {Uint8Array}
 */
export function aeadEncrypt(key, nonce, plaintext, ad) {
  return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
}

/**
 * XChaCha20-Poly1305-IETF decryption.
 *
 * Throws DecryptionError with the message `failure` if authentication fails; never returns
 * unauthenticated plaintext.
 * @param {Uint8Array} key
 * @param {Uint8Array} nonce
 * @param {Uint8Array} ciphertext
 * @param {Uint8Array} ad
 * @param {string} failure
 * @returns {Uint8Array}
 */
export function aeadDecrypt(key, nonce, ciphertext, ad, failure) {
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    throw new DecryptionError(failure);
  }
}

/**
 * Ed25519 key pair from a 32-byte seed.
 * @param {Uint8Array} seed
 * @returns {{publicKey: Uint8Array, secretKey: Uint8Array}} 32 and 64 bytes
 */
export function signSeedKeypair(seed) {
  const pair = sodium.crypto_sign_seed_keypair(seed);
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
}

/**
 * Ed25519 detached signature (64 bytes) of `message` under a 64-byte secret key.
 * @param {Uint8Array} secretKey
 * @param {Uint8Array} message
 * @returns {Uint8Array}
 */
export function signDetached(secretKey, message) {
  return sodium.crypto_sign_detached(message, secretKey);
}

/**
 * Verify an Ed25519 detached signature; throw SignatureError with `failure` if it fails.
 *
 * libsodium's verification rejects non-canonical signatures and small-order public keys.
 * @param {Uint8Array} publicKey
 * @param {Uint8Array} message
 * @param {Uint8Array} signature
 * @param {string} failure
 */
export function verifyDetached(publicKey, message, signature, failure) {
  let valid = false;
  try {
    valid = sodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    valid = false;
  }
  if (valid !== true) throw new SignatureError(failure);
}

/**
 * X25519 public key of a 32-byte secret (clamped by libsodium).
 * @param {Uint8Array} secretKey
 * @returns {Uint8Array}
 */
export function x25519Base(secretKey) {
  return sodium.crypto_scalarmult_base(secretKey);
}

/**
 * X25519 shared secret; throw WeakKeyError if it is all zeros.
 *
 * An all-zero result means `publicKey` is a low-order point and the "shared" secret would
 * be known to anyone; libsodium.js throws for it ("weak public key"), which is translated
 * here, and the result is checked again in case a build does not.
 * @param {Uint8Array} secretKey
 * @param {Uint8Array} publicKey
 * @param {string} what
 * @returns {Uint8Array}
 */
export function x25519(secretKey, publicKey, what) {
  /** @type {Uint8Array | null} */
  let shared = null;
  try {
    shared = sodium.crypto_scalarmult(secretKey, publicKey);
  } catch {
    shared = null;
  }
  if (shared === null || sodium.is_zero(shared)) {
    throw new WeakKeyError(
      `The ${what} is a low-order X25519 point: the shared secret would be all zeros`,
    );
  }
  return shared;
}

/**
 * The 1216-byte X-Wing public key of a 32-byte decapsulation seed.
 * @param {Uint8Array} seed
 * @returns {Uint8Array}
 */
export function xwingPublicKey(seed) {
  const pair = sodium.crypto_kem_xwing_seed_keypair(seed);
  wipeBytes(pair.privateKey);
  return pair.publicKey;
}

/**
 * Refuse an X-Wing public key whose ML-KEM part fails FIPS 203's modulus check or whose
 * X25519 part is a low-order point (WeakKeyError).
 *
 * libsodium has no separate check of an ML-KEM-768 key: its encapsulation runs FIPS 203's
 * modulus check first and refuses a key that fails it, so a deterministic encapsulation
 * with a fixed seed (its output is discarded) is the check.
 * @param {Uint8Array} publicKey 1216 bytes
 * @param {string} what
 */
export function xwingCheckPublicKey(publicKey, what) {
  let valid = false;
  try {
    sodium.crypto_kem_mlkem768_enc_deterministic(
      publicKey.subarray(0, MLKEM_PUBLIC_KEY_SIZE),
      MLKEM_CHECK_SEED,
    );
    valid = true;
  } catch {
    valid = false;
  }
  if (!valid) throw new WeakKeyError(`The ${what} is not a valid ML-KEM-768 key`);
  x25519(LOW_ORDER_PROBE, publicKey.subarray(MLKEM_PUBLIC_KEY_SIZE), what);
}

/**
 * X-Wing encapsulation to a checked public key: a 32-byte shared secret and its 1120-byte
 * ciphertext.
 *
 * libsodium draws the randomness of the encapsulation itself, from the same CSPRNG as
 * random.js but not through it, so an encapsulation cannot be replayed. Throws WeakKeyError
 * if libsodium refuses the key (a verified PublicIdentity never holds such a key).
 * @param {Uint8Array} publicKey
 * @param {string} what
 * @returns {{sharedSecret: Uint8Array, ciphertext: Uint8Array}}
 */
export function xwingEncapsulate(publicKey, what) {
  /** @type {{sharedSecret: Uint8Array, ciphertext: Uint8Array} | null} */
  let encapsulated = null;
  try {
    encapsulated = sodium.crypto_kem_xwing_enc(publicKey);
  } catch {
    encapsulated = null;
  }
  if (encapsulated === null) {
    throw new WeakKeyError(`The ${what} is not a valid X-Wing key`);
  }
  return { sharedSecret: encapsulated.sharedSecret, ciphertext: encapsulated.ciphertext };
}

/**
 * X-Wing decapsulation of a 1120-byte ciphertext with a 32-byte seed (32-byte secret).
 *
 * ML-KEM rejects implicitly (an altered ciphertext yields an unrelated secret); the X25519
 * part of the ciphertext must not be a low-order point (WeakKeyError), which is checked
 * here with a probe scalar before libsodium decapsulates, whether or not it checks too.
 * @param {Uint8Array} seed
 * @param {Uint8Array} ciphertext
 * @returns {Uint8Array}
 */
export function xwingDecapsulate(seed, ciphertext) {
  const what = "X-Wing ciphertext's X25519 part";
  x25519(LOW_ORDER_PROBE, ciphertext.subarray(MLKEM_CIPHERTEXT_SIZE), what);
  /** @type {Uint8Array | null} */
  let shared = null;
  try {
    shared = sodium.crypto_kem_xwing_dec(ciphertext, seed);
  } catch {
    shared = null;
  }
  if (shared === null) {
    throw new WeakKeyError(
      `The ${what} is a low-order X25519 point: the shared secret would be all zeros`,
    );
  }
  return shared;
}

/**
 * Zero every given array in place (`sodium_memzero`).
 * @param {...(Uint8Array | null | undefined)} arrays
 */
export function wipeBytes(...arrays) {
  for (const array of arrays) {
    if (array instanceof Uint8Array) sodium.memzero(array);
  }
}

/**
 * SHA-256 (`crypto_hash_sha256`), for exports, whose hashes anyone can check with common
 * tools.
 * @param {Uint8Array} message
 * @returns {Uint8Array}
 */
export function sha256(message) {
  return sodium.crypto_hash_sha256(message);
}
