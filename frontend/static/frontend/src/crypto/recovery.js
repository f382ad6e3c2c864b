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
 * A forgotten password is replaced with the recovery key (crypto/SPEC.md, "Recovery"): the
 * client opens the recovery copy, makes new password material, and proves to the server
 * that the holder of the identity asked for exactly that material:
 *
 *     statement = "confide/v1/recovery-proof" || 0x01 || challenge(32) || u32(len(e)) || e
 *                 || salt(16) || u32(opslimit) || u32(memlimit) || BLAKE2b-256(auth_secret)
 *                 || key_bundle(106)
 *     e         = UTF-8(email)
 *     proof     = Ed25519-Sign(sign_sk, statement)
 *
 * @module
 */

import * as labels from './_labels.js';
import { concat, equalBytes, requireLength, requireType, typeName, u32 } from './_fields.js';
import {
  KEY_SIZE,
  SIGNATURE_SIZE,
  h,
  hUnkeyed,
  verifyDetached,
  wipeBytes,
} from './_primitives.js';
import { randomBytes } from './random.js';
import { Secret, fieldsOf } from './_secret.js';
import { BundleKind, WrappingKey, parseBundle } from './bundle.js';
import { FormatError } from './errors.js';
import { IdentityKeyPair, PublicIdentity, _sign } from './identity.js';
import { KdfParams, SALT_SIZE } from './kdf.js';

export const RECOVERY_CHECK_SIZE = 3;
export const RECOVERY_DISPLAY_LENGTH = 56; // base32 characters, without separators
export const RECOVERY_CHALLENGE_SIZE = 32;
export const RECOVERY_PROOF_VERSION = 0x01;
// An email is at most 254 characters (RFC 5321), so at most 1016 bytes of UTF-8.
const MAX_EMAIL_BYTES = 1016;
/** Matches a UTF-16 surrogate that is not part of a pair. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const GROUP = 4;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * What a typed recovery key may hold besides its own characters, skipped wherever it occurs
 * (crypto/SPEC.md, "Recovery key"); an explicit list, the same in every implementation.
 * Whitespace: the 25 code points of Unicode's White_Space property and the information
 * separators U+001C..U+001F, 29 in all (JavaScript's `\s` differs: it lacks U+001C..U+001F
 * and U+0085 and adds U+FEFF). Dashes: phones and word processors turn a typed "-" into
 * these, and a copied key brings soft hyphens with it. Invisible characters a copy from a
 * document or an email carries.
 */
const WHITESPACE = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001,
  0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f,
  0x205f, 0x3000,
];
const DASHES = [
  0x2d, 0xad, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xfe58, 0xfe63, 0xff0d,
];
const INVISIBLE = [0x200b, 0x2060, 0xfeff];
export const SKIPPED_IN_RECOVERY_KEY = new Set(
  [...WHITESPACE, ...DASHES, ...INVISIBLE].map((code) => String.fromCodePoint(code)),
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
      if (SKIPPED_IN_RECOVERY_KEY.has(char)) continue;
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

/**
 * What a client recovering an account asks the server to store: new password material,
 * for the account of `email`, answering the server's `challenge`. `authSecret` is the new
 * authentication secret (32 bytes), kept out of `toString` and `toJSON`; `keyBundle` is the
 * identity wrapped under the new password (kind 0x01). The byte fields are copied in.
 */
export class RecoveryClaim {
  /** @type {Uint8Array} */
  #authSecret;

  /**
   * @param {{challenge: Uint8Array, email: string, salt: Uint8Array, params: KdfParams,
   *          authSecret: Uint8Array, keyBundle: Uint8Array}} fields
   */
  constructor({ challenge, email, salt, params, authSecret, keyBundle }) {
    /** @readonly */
    this.challenge = challenge instanceof Uint8Array ? new Uint8Array(challenge) : challenge;
    /** @readonly */
    this.email = email;
    /** @readonly */
    this.salt = salt instanceof Uint8Array ? new Uint8Array(salt) : salt;
    /** @readonly */
    this.params = params;
    this.#authSecret = authSecret instanceof Uint8Array ? new Uint8Array(authSecret) : authSecret;
    /** @readonly */
    this.keyBundle = keyBundle instanceof Uint8Array ? new Uint8Array(keyBundle) : keyBundle;
    Object.freeze(this);
  }

  /** The new authentication secret (a copy). Treat it as a password: never log it. */
  get authSecret() {
    return this.#authSecret instanceof Uint8Array ? this.#authSecret.slice() : this.#authSecret;
  }

  toString() {
    return 'RecoveryClaim(secret=<hidden>)';
  }

  toJSON() {
    return this.toString();
  }
}

/**
 * The bytes a recovery proof signs (crypto/SPEC.md, "Recovery").
 *
 * The authentication secret enters only as its BLAKE2b-256, so the statement can be shown
 * or logged without being a credential. Throws FormatError, in this order, for a challenge
 * other than 32 bytes, an empty email or one that is not valid Unicode text or longer than
 * 1016 bytes of UTF-8, a salt other than 16 bytes, `params` that are not a KdfParams, an
 * auth secret other than 32 bytes, or a key bundle that is not a well-formed password
 * bundle.
 * @param {RecoveryClaim} claim
 * @returns {Uint8Array}
 */
export function recoveryStatement(claim) {
  requireType(claim, RecoveryClaim, 'The recovery claim');
  const challenge = requireLength(claim.challenge, RECOVERY_CHALLENGE_SIZE, 'The recovery challenge');
  const email = emailBytes(claim.email);
  const salt = requireLength(claim.salt, SALT_SIZE, 'The salt');
  const params = requireType(claim.params, KdfParams, 'The KDF parameters');
  const authSecret = requireLength(claim.authSecret, KEY_SIZE, 'The auth secret');
  try {
    if (parseBundle(claim.keyBundle) !== BundleKind.PASSWORD) {
      throw new FormatError('The key bundle of a recovery must be a password bundle (kind 0x01)');
    }
    return concat(
      labels.RECOVERY_PROOF,
      Uint8Array.of(RECOVERY_PROOF_VERSION),
      challenge,
      u32(email.length),
      email,
      salt,
      u32(params.opslimit),
      u32(params.memlimit),
      hUnkeyed(authSecret),
      claim.keyBundle,
    );
  } finally {
    wipeBytes(authSecret);
  }
}

/**
 * The 64-byte Ed25519 proof, by `identity`, of {@link recoveryStatement}. Only the holder
 * of the private identity (whoever opened the recovery copy with the recovery key) can
 * make it. Throws FormatError as `recoveryStatement` does.
 * @param {IdentityKeyPair} identity
 * @param {RecoveryClaim} claim
 * @returns {Uint8Array}
 */
export function signRecovery(identity, claim) {
  requireType(identity, IdentityKeyPair, 'The identity');
  return _sign(identity, recoveryStatement(claim));
}

/**
 * Check a recovery proof against the account's published identity (as the server does).
 * Throws FormatError as `recoveryStatement` does or for a proof other than 64 bytes, then
 * SignatureError if the proof does not verify under `identity`'s signing key.
 * @param {PublicIdentity} identity
 * @param {RecoveryClaim} claim
 * @param {Uint8Array} proof
 */
export function verifyRecovery(identity, claim, proof) {
  requireType(identity, PublicIdentity, 'The identity');
  const statement = recoveryStatement(claim);
  const checked = requireLength(proof, SIGNATURE_SIZE, 'The recovery proof');
  verifyDetached(
    identity.signKey,
    statement,
    checked,
    "The recovery proof does not verify: it was not made by this account's identity, " +
      'or not for this material',
  );
}

/**
 * @param {unknown} email
 * @returns {Uint8Array}
 */
function emailBytes(email) {
  if (typeof email !== 'string') {
    throw new FormatError(`The email must be a string, not ${typeName(email)}`);
  }
  if (!email) throw new FormatError('The email must not be empty');
  if (LONE_SURROGATE.test(email)) throw new FormatError('The email is not valid Unicode text');
  const encoded = new TextEncoder().encode(email);
  if (encoded.length > MAX_EMAIL_BYTES) {
    throw new FormatError(`The email must be at most ${MAX_EMAIL_BYTES} bytes of UTF-8`);
  }
  return encoded;
}
