/**
 * Long-term identities: an Ed25519 signing key certifying an X25519 encryption key.
 *
 * A user is named in every format by their Ed25519 public key (32 bytes), which is
 * self-verifying: the public identity carries the X25519 key signed by it.
 *
 * Public identity, 129 bytes:
 *
 *     0x01 || sign_pk(32) || enc_pk(32) || sig(64)
 *     sig = Ed25519-Sign(sign_sk, "confide/v1/identity" || 0x01 || sign_pk || enc_pk)
 *
 * @module
 */

import sodium from './_sodium.js';
import * as labels from './_labels.js';
import { checkVersion, concat, equalBytes, requireBytes, requireLength } from './_fields.js';
import {
  PUBLIC_KEY_SIZE,
  SEED_SIZE,
  SIGNATURE_SIZE,
  hUnkeyed,
  signDetached,
  signSeedKeypair,
  verifyDetached,
  wipeBytes,
  x25519,
  x25519Base,
} from './_primitives.js';
import { randomBytes } from './random.js';
import { Secret, fieldsOf } from './_secret.js';
import { FormatError } from './errors.js';

export const IDENTITY_VERSION = 0x01;
export const PUBLIC_IDENTITY_SIZE = 1 + PUBLIC_KEY_SIZE + PUBLIC_KEY_SIZE + SIGNATURE_SIZE; // 129
export const IDENTITY_SECRET_SIZE = SEED_SIZE + 32; // sign_seed || enc_sk

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Any clamped scalar maps every low-order point (and only those) to zero. */
const LOW_ORDER_PROBE = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

/**
 * @param {Uint8Array} signKey
 * @param {Uint8Array} encKey
 */
function signedPart(signKey, encKey) {
  return concat(Uint8Array.of(IDENTITY_VERSION), signKey, encKey);
}

/**
 * A verified public identity: Ed25519 signing key and certified X25519 key.
 *
 * The constructor (and {@link PublicIdentity.fromBytes}) checks the 129-byte format, the
 * version, the self-signature and that the X25519 key is not a low-order point, so an
 * instance is always valid. Accessors return copies.
 */
export class PublicIdentity {
  /** @type {Uint8Array} */
  #encoded;
  /** @type {Uint8Array} */
  #signKey;
  /** @type {Uint8Array} */
  #encKey;

  /**
   * Parse and verify. Throws, in this order: FormatError for empty input,
   * UnsupportedVersionError for a version other than 0x01, FormatError for a length other
   * than 129, SignatureError if the self-signature does not verify and WeakKeyError for a
   * low-order X25519 key.
   * @param {Uint8Array} encoded
   */
  constructor(encoded) {
    const data = requireBytes(encoded, 'A public identity');
    checkVersion(data, IDENTITY_VERSION, 'public identity');
    requireLength(data, PUBLIC_IDENTITY_SIZE, 'A public identity');
    const signKey = data.slice(1, 33);
    const encKey = data.slice(33, 65);
    verifyDetached(
      signKey,
      concat(labels.IDENTITY, data.subarray(0, 65)),
      data.subarray(65),
      "The public identity's self-signature does not verify: its encryption key is not " +
        'certified by its signing key',
    );
    x25519(LOW_ORDER_PROBE, encKey, "public identity's encryption key");
    this.#encoded = data;
    this.#signKey = signKey;
    this.#encKey = encKey;
    Object.freeze(this);
  }

  /**
   * Parse and verify a 129-byte public identity (see the constructor for errors).
   * @param {Uint8Array} encoded
   * @returns {PublicIdentity}
   */
  static fromBytes(encoded) {
    return new PublicIdentity(encoded);
  }

  /** The Ed25519 public key (32 bytes) that names this user in every format. */
  get signKey() {
    return this.#signKey.slice();
  }

  /** The X25519 public key (32 bytes) that conversation keys are wrapped to. */
  get encKey() {
    return this.#encKey.slice();
  }

  /** The 129-byte encoding. */
  toBytes() {
    return this.#encoded.slice();
  }

  /** BLAKE2b-256 of `"confide/v1/fingerprint" || sign_pk || enc_pk` (32 bytes). */
  fingerprint() {
    return hUnkeyed(concat(labels.FINGERPRINT, this.#signKey, this.#encKey));
  }

  /**
   * Equality of the encoded bytes.
   * @param {unknown} other
   * @returns {boolean}
   */
  equals(other) {
    return other instanceof PublicIdentity && equalBytes(this.#encoded, other.#encoded);
  }

  toString() {
    return `PublicIdentity(sign_key=${sodium.to_hex(this.#signKey.subarray(0, 4))}…)`;
  }

  /** The base64url transport form of the 129 bytes (public, so safe to serialise). */
  toJSON() {
    return sodium.to_base64(this.#encoded, sodium.base64_variants.URLSAFE_NO_PADDING);
  }

  [INSPECT]() {
    return this.toString();
  }
}

/**
 * A user's private identity: an Ed25519 seed and an X25519 secret key.
 *
 * Create one with {@link IdentityKeyPair.generate}; get one back from a key bundle with
 * `unwrapIdentity`. The private keys are never exported except as the plaintext of a key
 * bundle. The constructor takes the 64-byte private form `sign_seed(32) || enc_sk(32)`
 * (the key-bundle plaintext, copied) and throws FormatError for any other length.
 */
export class IdentityKeyPair extends Secret {
  /** @type {PublicIdentity} */
  #public;

  /** @param {Uint8Array} secret */
  constructor(secret) {
    const data = requireLength(secret, IDENTITY_SECRET_SIZE, 'The identity secret');
    const signSeed = data.slice(0, SEED_SIZE);
    const encSecret = data.slice(SEED_SIZE);
    wipeBytes(data);
    const { publicKey: signKey, secretKey: signSecret } = signSeedKeypair(signSeed);
    super({ signSeed, encSecret, signSecret }, { material: ['signSeed', 'encSecret'] });
    const encKey = x25519Base(encSecret);
    const signed = signedPart(signKey, encKey);
    const signature = signDetached(signSecret, concat(labels.IDENTITY, signed));
    this.#public = new PublicIdentity(concat(signed, signature));
    Object.freeze(this);
  }

  /** A new identity: a random 32-byte Ed25519 seed, then a random X25519 secret. */
  static generate() {
    const signSeed = randomBytes(SEED_SIZE);
    const encSecret = randomBytes(32);
    const secret = concat(signSeed, encSecret);
    try {
      return new IdentityKeyPair(secret);
    } finally {
      wipeBytes(signSeed, encSecret, secret);
    }
  }

  /** The signed public identity to publish. */
  get public() {
    return this.#public;
  }

  /** The Ed25519 public key (32 bytes). */
  get signKey() {
    return this.#public.signKey;
  }

  /** The X25519 public key (32 bytes). */
  get encKey() {
    return this.#public.encKey;
  }

  /** @protected */
  _publicRepr() {
    return `sign_public=${sodium.to_hex(this.#public.signKey.subarray(0, 2))}…`;
  }
}

/**
 * Ed25519 detached signature (64 bytes) by `identity`; the message carries its own label.
 * @param {IdentityKeyPair} identity
 * @param {Uint8Array} message
 * @returns {Uint8Array}
 */
export function _sign(identity, message) {
  return signDetached(fieldsOf(identity).signSecret, message);
}

/**
 * X25519 with the identity's secret; throws WeakKeyError for a low-order point.
 * @param {IdentityKeyPair} identity
 * @param {Uint8Array} peerPublic
 * @param {string} what
 * @returns {Uint8Array}
 */
export function _sharedSecret(identity, peerPublic, what) {
  if (peerPublic.length !== PUBLIC_KEY_SIZE) {
    throw new FormatError(`The ${what} must be exactly 32 bytes long`);
  }
  return x25519(fieldsOf(identity).encSecret, peerPublic, what);
}
