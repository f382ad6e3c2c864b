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
 * Version 2, 1,353 bytes, adds the X-Wing key that epoch keys are wrapped to (version-3
 * envelopes) and the time from which the identity holds it:
 *
 *     0x02 || sign_pk(32) || enc_pk(32) || xwing_pk(1216) || u64(since) || sig(64)
 *     xwing_seed = H(sign_seed, "confide/v1/xwing-seed")
 *
 * The X-Wing key is derived from the Ed25519 seed (never from the X25519 secret, which a
 * quantum computer recovers from enc_pk), so a key bundle holds the same 64 bytes for both
 * versions, and the fingerprint (of sign_pk and enc_pk) does not change when an
 * identity moves to version 2.
 *
 * @module
 */

import sodium from './_sodium.js';
import * as labels from './_labels.js';
import {
  checkVersion,
  concat,
  equalBytes,
  readU64,
  requireBytes,
  requireLength,
  requireType,
  typeName,
  u64,
} from './_fields.js';
import {
  LOW_ORDER_PROBE,
  PUBLIC_KEY_SIZE,
  SEED_SIZE,
  SIGNATURE_SIZE,
  XWING_CIPHERTEXT_SIZE,
  XWING_PUBLIC_KEY_SIZE,
  h,
  hUnkeyed,
  signDetached,
  signSeedKeypair,
  verifyDetached,
  wipeBytes,
  x25519,
  x25519Base,
  xwingCheckPublicKey,
  xwingDecapsulate,
  xwingPublicKey,
} from './_primitives.js';
import { randomBytes } from './random.js';
import { Secret, fieldsOf, secretMaterial } from './_secret.js';
import { BindingError, FormatError } from './errors.js';

export const IDENTITY_VERSION = 0x01;
export const IDENTITY_VERSION_2 = 0x02;
export const PUBLIC_IDENTITY_SIZE = 1 + PUBLIC_KEY_SIZE + PUBLIC_KEY_SIZE + SIGNATURE_SIZE; // 129
export const PUBLIC_IDENTITY_SIZE_V2 = PUBLIC_IDENTITY_SIZE + XWING_PUBLIC_KEY_SIZE + 8; // 1353
export const IDENTITY_SECRET_SIZE = SEED_SIZE + 32; // sign_seed || enc_sk
/** @type {Map<number, number>} */
const SIZES = new Map([
  [IDENTITY_VERSION, PUBLIC_IDENTITY_SIZE],
  [IDENTITY_VERSION_2, PUBLIC_IDENTITY_SIZE_V2],
]);
const XWING_KEY_END = 65 + XWING_PUBLIC_KEY_SIZE;

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * @param {Uint8Array} signKey
 * @param {Uint8Array} encKey
 * @param {Uint8Array | null} xwingKey
 * @param {number | null} since
 */
function signedPart(signKey, encKey, xwingKey, since) {
  if (xwingKey === null || since === null) {
    return concat(Uint8Array.of(IDENTITY_VERSION), signKey, encKey);
  }
  return concat(Uint8Array.of(IDENTITY_VERSION_2), signKey, encKey, xwingKey, u64(since));
}

/**
 * The length of a public identity of a known `version` (129 or 1,353 bytes).
 * @param {number} version
 * @returns {number}
 */
export function identitySize(version) {
  const size = SIZES.get(version);
  if (size === undefined) throw new FormatError(`Unknown public identity version ${version}`);
  return size;
}

/**
 * `since` if it is an integer from 0 to 2^53 - 1; FormatError otherwise.
 * @param {unknown} since
 * @returns {number}
 */
function checkSince(since) {
  if (
    typeof since !== 'number' ||
    !Number.isInteger(since) ||
    since < 0 ||
    since > Number.MAX_SAFE_INTEGER
  ) {
    throw new FormatError(
      'The time an identity holds its X-Wing key from must be an integer from 0 to ' +
        `2^53 - 1 (milliseconds since 1970), not ${typeof since === 'number' ? since : typeName(since)}`,
    );
  }
  return since;
}

/**
 * A verified public identity: Ed25519 signing key and certified X25519 key (and, for
 * version 2, the certified X-Wing key and the time from which it is held).
 *
 * The constructor (and {@link PublicIdentity.fromBytes}) checks the format (129 bytes for
 * version 1, 1,353 for version 2), the self-signature and that no key is weak, so an
 * instance is always valid. Accessors return copies.
 */
export class PublicIdentity {
  /** @type {Uint8Array} */
  #encoded;
  /** @type {Uint8Array} */
  #signKey;
  /** @type {Uint8Array} */
  #encKey;
  /** @type {Uint8Array | null} */
  #xwingKey = null;
  /** @type {number | null} */
  #since = null;

  /**
   * Parse and verify. Throws, in this order: FormatError for empty input,
   * UnsupportedVersionError for a version other than 0x01 or 0x02, FormatError for another
   * length than the version's, SignatureError if the self-signature does not verify,
   * WeakKeyError for a low-order X25519 key, and for version 2 FormatError for a time above
   * 2^53 - 1 and WeakKeyError for an X-Wing key whose ML-KEM part fails FIPS 203's modulus
   * check or whose X25519 part is a low-order point.
   * @param {Uint8Array} encoded
   */
  constructor(encoded) {
    const data = requireBytes(encoded, 'A public identity');
    const version = checkVersion(data, SIZES, 'public identity');
    requireLength(
      data,
      /** @type {number} */ (SIZES.get(version)),
      version === IDENTITY_VERSION ? 'A public identity' : 'A version 2 public identity',
    );
    const bodyEnd = data.length - SIGNATURE_SIZE;
    const signKey = data.slice(1, 33);
    const encKey = data.slice(33, 65);
    verifyDetached(
      signKey,
      concat(labels.IDENTITY, data.subarray(0, bodyEnd)),
      data.subarray(bodyEnd),
      "The public identity's self-signature does not verify: its encryption keys are not " +
        'certified by its signing key',
    );
    x25519(LOW_ORDER_PROBE, encKey, "public identity's encryption key");
    if (version === IDENTITY_VERSION_2) {
      const xwingKey = data.slice(65, XWING_KEY_END);
      const since = readU64(data, XWING_KEY_END);
      if (!Number.isFinite(since)) throw new FormatError("The identity's time is above 2^53 - 1");
      xwingCheckPublicKey(xwingKey, "public identity's X-Wing key");
      this.#xwingKey = xwingKey;
      this.#since = since;
    }
    this.#encoded = data;
    this.#signKey = signKey;
    this.#encKey = encKey;
    Object.freeze(this);
  }

  /**
   * Parse and verify a public identity (see the constructor for errors).
   * @param {Uint8Array} encoded
   * @returns {PublicIdentity}
   */
  static fromBytes(encoded) {
    return new PublicIdentity(encoded);
  }

  /** 1, or 2 for an identity that holds an X-Wing key. */
  get version() {
    return this.#encoded[0];
  }

  /** The Ed25519 public key (32 bytes) that names this user in every format. */
  get signKey() {
    return this.#signKey.slice();
  }

  /** The X25519 public key (32 bytes) that conversation keys are wrapped to. */
  get encKey() {
    return this.#encKey.slice();
  }

  /**
   * The X-Wing public key (1,216 bytes) of a version-2 identity, that conversation keys
   * are wrapped to in version-3 envelopes; null for version 1.
   * @returns {Uint8Array | null}
   */
  get xwingKey() {
    return this.#xwingKey === null ? null : this.#xwingKey.slice();
  }

  /**
   * When a version-2 identity began to hold its X-Wing key (milliseconds since 1970, by
   * its owner's clock, signed); null for version 1.
   * @returns {number | null}
   */
  get since() {
    return this.#since;
  }

  /** The encoding (129 or 1,353 bytes). */
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

  /** The base64url transport form of the encoding (public, so safe to serialise). */
  toJSON() {
    return sodium.to_base64(this.#encoded, sodium.base64_variants.URLSAFE_NO_PADDING);
  }

  [INSPECT]() {
    return this.toString();
  }
}

/**
 * A user's private identity: an Ed25519 seed and an X25519 secret key, and the X-Wing key
 * derived from the latter.
 *
 * Create one with {@link IdentityKeyPair.generate}; get one back from a key bundle with
 * `unwrapIdentity`. The private keys are never exported except as the plaintext of a key
 * bundle. The constructor takes the 64-byte private form `sign_seed(32) || enc_sk(32)`
 * (the key-bundle plaintext, copied) and throws FormatError for any other length. Its
 * public identity is of version 1, or with `since` (milliseconds since 1970, 0 to
 * 2^53 - 1; FormatError otherwise) of version 2.
 */
export class IdentityKeyPair extends Secret {
  /** @type {PublicIdentity} */
  #public;

  /**
   * @param {Uint8Array} secret
   * @param {number | null} [since] the time the X-Wing key is held from: version 2
   */
  constructor(secret, since = null) {
    const data = requireLength(secret, IDENTITY_SECRET_SIZE, 'The identity secret');
    if (since !== null) {
      try {
        checkSince(since);
      } catch (error) {
        wipeBytes(data);
        throw error;
      }
    }
    const signSeed = data.slice(0, SEED_SIZE);
    const encSecret = data.slice(SEED_SIZE);
    wipeBytes(data);
    const { publicKey: signKey, secretKey: signSecret } = signSeedKeypair(signSeed);
    // From the Ed25519 seed, not the X25519 secret: X25519 falls to a quantum computer,
    // and its secret would then give the X-Wing key too; the seed stays behind SHA-512.
    const xwingSeed = h(signSeed, labels.XWING_SEED);
    super({ signSeed, encSecret, signSecret, xwingSeed }, { material: ['signSeed', 'encSecret'] });
    const encKey = x25519Base(encSecret);
    const xwingKey = since === null ? null : xwingPublicKey(xwingSeed);
    const signed = signedPart(signKey, encKey, xwingKey, since);
    const signature = signDetached(signSecret, concat(labels.IDENTITY, signed));
    this.#public = new PublicIdentity(concat(signed, signature));
    Object.freeze(this);
  }

  /**
   * A new identity: a random 32-byte Ed25519 seed, then a random X25519 secret.
   *
   * Version 2, holding its X-Wing key from `since` (default: now, `Date.now()`); version 1
   * with `since` null (for the vectors of version 1). FormatError for another `since` than
   * an integer from 0 to 2^53 - 1, before anything is drawn.
   * @param {number | null} [since]
   * @returns {IdentityKeyPair}
   */
  static generate(since = undefined) {
    const at = since === undefined || since === null ? since : checkSince(since);
    const signSeed = randomBytes(SEED_SIZE);
    const encSecret = randomBytes(32);
    const secret = concat(signSeed, encSecret);
    try {
      return new IdentityKeyPair(secret, at === undefined ? Date.now() : at);
    } finally {
      wipeBytes(signSeed, encSecret, secret);
    }
  }

  /**
   * The same keys with a version-2 public identity holding the X-Wing key from `since`
   * (default, or null: now); this identity itself if it already is version 2.
   * @param {number | null} [since]
   * @returns {IdentityKeyPair}
   */
  upgraded(since = null) {
    if (this.#public.since !== null) return this;
    const secret = secretMaterial(this);
    try {
      return new IdentityKeyPair(secret, since ?? Date.now());
    } finally {
      wipeBytes(secret);
    }
  }

  /**
   * These keys with `published` as their public identity, if it certifies these very keys
   * (the version-2 identity another device published, say); this identity itself if it
   * already publishes it.
   *
   * Throws FormatError if `published` is not a PublicIdentity, BindingError if it names
   * other keys.
   * @param {PublicIdentity} published
   * @returns {IdentityKeyPair}
   */
  asPublished(published) {
    requireType(published, PublicIdentity, 'The published identity');
    if (published.equals(this.#public)) return this;
    const secret = secretMaterial(this);
    let candidate;
    try {
      candidate = new IdentityKeyPair(secret, published.since);
    } finally {
      wipeBytes(secret);
    }
    if (!candidate.public.equals(published)) {
      candidate.wipe();
      throw new BindingError('The published identity certifies other keys than these');
    }
    return candidate;
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

/**
 * X-Wing decapsulation with the identity's derived key (32-byte shared secret); throws
 * WeakKeyError if the ciphertext's X25519 part is a low-order point.
 * @param {IdentityKeyPair} identity
 * @param {Uint8Array} ciphertext 1120 bytes
 * @returns {Uint8Array}
 */
export function _xwingDecapsulate(identity, ciphertext) {
  if (ciphertext.length !== XWING_CIPHERTEXT_SIZE) {
    throw new FormatError(`The X-Wing ciphertext must be exactly ${XWING_CIPHERTEXT_SIZE} bytes long`);
  }
  return xwingDecapsulate(fieldsOf(identity).xwingSeed, ciphertext);
}
