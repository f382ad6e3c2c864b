/**
 * Key bundles: the private identity wrapped under a password- or recovery-derived key.
 *
 * The server stores the bundles, so that any browser with the password (or the recovery
 * key) gets the identity back, and with it the whole history. The server cannot open them.
 *
 * Bundle, 106 bytes:
 *
 *     0x01 || kind(1) || nonce(24) || AEAD(key, nonce, sign_seed(32) || enc_sk(32), ad)
 *     ad = "confide/v1/key-bundle" || 0x01 || kind || sign_pk(32)
 *
 * `kind` is 0x01 for a password-derived key, 0x02 for a recovery key.
 *
 * @module
 */

import * as labels from './_labels.js';
import {
  checkVersion,
  concat,
  equalBytes,
  requireBytes,
  requireLength,
  requireType,
} from './_fields.js';
import {
  KEY_SIZE,
  NONCE_SIZE,
  TAG_SIZE,
  aeadDecrypt,
  aeadEncrypt,
  newNonce,
  wipeBytes,
} from './_primitives.js';
import { Secret, fieldsOf, secretMaterial } from './_secret.js';
import { BindingError, FormatError } from './errors.js';
import {
  IDENTITY_SECRET_SIZE,
  IDENTITY_VERSION,
  IdentityKeyPair,
  PublicIdentity,
} from './identity.js';

export const BUNDLE_VERSION = 0x01;
export const BUNDLE_SIZE = 1 + 1 + NONCE_SIZE + IDENTITY_SECRET_SIZE + TAG_SIZE; // 106

/** Which secret the bundle's wrapping key comes from. */
export const BundleKind = Object.freeze({ PASSWORD: 0x01, RECOVERY: 0x02 });

/** @type {Set<number>} */
const KINDS = new Set(Object.values(BundleKind));

/**
 * A 32-byte XChaCha20-Poly1305 key that wraps a private identity.
 *
 * Obtained from `derivePasswordKeys(...).kek` or `RecoveryKey#wrappingKey()`. The
 * constructor copies the key and throws FormatError if it is not exactly 32 bytes.
 */
export class WrappingKey extends Secret {
  /** @param {Uint8Array} key */
  constructor(key) {
    super({ key: requireLength(key, KEY_SIZE, 'The wrapping key') });
    Object.freeze(this);
  }
}

/**
 * @param {Uint8Array} header
 * @param {Uint8Array} signKey
 */
function bundleAd(header, signKey) {
  return concat(labels.KEY_BUNDLE, header, signKey);
}

/**
 * @param {unknown} kind
 * @returns {number}
 */
function checkKind(kind) {
  if (typeof kind !== 'number' || !Number.isInteger(kind)) {
    throw new FormatError(`The key bundle kind must be a BundleKind, not ${String(kind)}`);
  }
  if (!KINDS.has(kind)) {
    throw new FormatError(`Unknown key bundle kind 0x${kind.toString(16).padStart(2, '0')}`);
  }
  return kind;
}

/**
 * Wrap `identity` under `key` with XChaCha20-Poly1305 and a random 24-byte nonce.
 *
 * Returns the 106-byte bundle. The identity's signing public key is bound in the
 * associated data, so the bundle opens only for that identity. Throws FormatError for
 * arguments of the wrong type or an unknown `kind`.
 * @param {IdentityKeyPair} identity
 * @param {WrappingKey} key
 * @param {number} kind a {@link BundleKind} value
 * @returns {Uint8Array}
 */
export function wrapIdentity(identity, key, kind) {
  requireType(identity, IdentityKeyPair, 'The identity');
  requireType(key, WrappingKey, 'The wrapping key');
  const header = Uint8Array.of(BUNDLE_VERSION, checkKind(kind));
  const wrapping = fieldsOf(key).key;
  const plaintext = secretMaterial(identity);
  try {
    const nonce = newNonce();
    const ciphertext = aeadEncrypt(wrapping, nonce, plaintext, bundleAd(header, identity.signKey));
    return concat(header, nonce, ciphertext);
  } finally {
    wipeBytes(plaintext);
  }
}

/**
 * Check a bundle's shape without any key (for the server) and return its kind.
 *
 * Throws FormatError for empty input, UnsupportedVersionError for a version other than
 * 0x01, FormatError for a length other than 106 bytes or an unknown kind.
 * @param {Uint8Array} blob
 * @returns {number} a {@link BundleKind} value
 */
export function parseBundle(blob) {
  const data = requireBytes(blob, 'A key bundle');
  checkVersion(data, BUNDLE_VERSION, 'key bundle');
  requireLength(data, BUNDLE_SIZE, 'A key bundle');
  return checkKind(data[1]);
}

/** An identity's keys without the identity, `sign_pk || enc_pk`. */
export const IDENTITY_KEYS_SIZE = 64;

/**
 * `sign_pk || enc_pk` (64 bytes): what a key bundle must hold, without the rest of the
 * identity (its version and time).
 * @param {PublicIdentity} identity
 */
export function identityKeys(identity) {
  requireType(identity, PublicIdentity, 'The identity');
  return concat(identity.signKey, identity.encKey);
}

/**
 * Open a bundle made by {@link wrapIdentity} and return the private identity.
 *
 * `expected` is the user's published public identity, or only its keys, `sign_pk ||
 * enc_pk` (64 bytes: what a password recovery is told, crypto/SPEC.md, "Recovery"); given
 * keys only, the returned identity publishes their version-1 form (bind it to the
 * published identity with `asPublished`). Throws, in this order:
 * UnsupportedVersionError/FormatError for a bad shape; DecryptionError for a wrong
 * password or recovery key, an altered bundle, or a bundle of another identity (the
 * causes are indistinguishable); BindingError if it decrypts to keys other than
 * `expected`. The returned identity publishes `expected` itself (version 1 or 2).
 * @param {Uint8Array} blob
 * @param {WrappingKey} key
 * @param {PublicIdentity|Uint8Array} expected
 * @returns {IdentityKeyPair}
 */
export function unwrapIdentity(blob, key, expected) {
  const data = requireBytes(blob, 'A key bundle');
  parseBundle(data);
  requireType(key, WrappingKey, 'The wrapping key');
  /** @type {{signKey: Uint8Array, encKey: Uint8Array, version: number}} */
  let wanted;
  if (expected instanceof Uint8Array) {
    requireLength(expected, IDENTITY_KEYS_SIZE, 'The expected keys');
    wanted = {
      signKey: expected.subarray(0, 32),
      encKey: expected.subarray(32),
      version: IDENTITY_VERSION,
    };
  } else {
    requireType(expected, PublicIdentity, 'The expected identity');
    wanted = expected;
  }
  const header = data.subarray(0, 2);
  const nonce = data.subarray(2, 2 + NONCE_SIZE);
  const ciphertext = data.subarray(2 + NONCE_SIZE);
  const plaintext = aeadDecrypt(
    fieldsOf(key).key,
    nonce,
    ciphertext,
    bundleAd(header, wanted.signKey),
    'The key bundle could not be decrypted: the password or recovery key is wrong, or ' +
      'the bundle belongs to another identity or was altered',
  );
  let identity;
  try {
    identity = new IdentityKeyPair(plaintext);
  } finally {
    wipeBytes(plaintext);
  }
  // Compare the keys, not the encoded identities: the signature is not what is at stake.
  if (!(
    equalBytes(identity.signKey, wanted.signKey) && equalBytes(identity.encKey, wanted.encKey)
  )) {
    identity.wipe();
    throw new BindingError(
      'The key bundle decrypts to keys that do not match the expected identity',
    );
  }
  if (wanted.version === IDENTITY_VERSION) return identity;
  // A version-2 identity's X-Wing key is derived from these keys; it must be that one.
  let published;
  try {
    published = identity.asPublished(/** @type {PublicIdentity} */ (expected));
  } catch (error) {
    identity.wipe();
    throw error;
  }
  if (published !== identity) identity.wipe();
  return published;
}
