/**
 * Identity successions: a therapist's signed word that a client's identity was replaced.
 *
 * After an assisted recovery (crypto/SPEC.md, "Assisted recovery") a client's earlier
 * messages and envelopes are signed by the identity that was replaced. A client accepts
 * that earlier identity only from a succession that verifies under the public identity of
 * the therapist who confirmed the recovery, as that client knows it; the server's word
 * alone never makes an identity acceptable:
 *
 *     body       = 0x01 || u64(user_id) || u64(confirmer_id) || u64(confirmed_at)
 *                  || previous_identity(129) || new_identity(129)
 *     sig        = Ed25519-Sign(confirmer_sign_sk, "confide/v1/identity-succession" || body)
 *     succession = body || sig(64)
 *
 * User ids and the confirmation time (seconds since 1970-01-01 UTC) are at most
 * `2**53 - 1` (Number.MAX_SAFE_INTEGER), so that they are read here as exact numbers.
 *
 * Version 2 is the same with either identity of version 2 (1,353 bytes): each identity's
 * own version byte gives its length, and the succession is exactly as long as the two:
 *
 *     body       = 0x02 || u64(user_id) || u64(confirmer_id) || u64(confirmed_at)
 *                  || previous_identity || new_identity
 *
 * A signer makes version 1 when both identities are of version 1, version 2 otherwise.
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
  typeName,
  u64,
} from './_fields.js';
import { SIGNATURE_SIZE, verifyDetached } from './_primitives.js';
import { BindingError, FormatError } from './errors.js';
import {
  IDENTITY_VERSION,
  IDENTITY_VERSION_2,
  IdentityKeyPair,
  PUBLIC_IDENTITY_SIZE,
  PublicIdentity,
  _sign,
  identitySize,
} from './identity.js';

export const SUCCESSION_VERSION = 0x01;
export const SUCCESSION_VERSION_2 = 0x02;
const HEAD_SIZE = 1 + 3 * 8; // 25
export const MAX_SUCCESSION_NUMBER = Number.MAX_SAFE_INTEGER; // 2**53 - 1
const BODY_SIZE = HEAD_SIZE + 2 * PUBLIC_IDENTITY_SIZE; // 283
export const SUCCESSION_SIZE = BODY_SIZE + SIGNATURE_SIZE; // 347

/**
 * What a verified succession states: `userId`'s identity `previousIdentity` was replaced by
 * `newIdentity`, as `confirmerId` confirmed at `confirmedAt` (seconds since 1970-01-01 UTC).
 */
export class Succession {
  /**
   * @param {number} userId
   * @param {number} confirmerId
   * @param {number} confirmedAt
   * @param {PublicIdentity} previousIdentity
   * @param {PublicIdentity} newIdentity
   */
  constructor(userId, confirmerId, confirmedAt, previousIdentity, newIdentity) {
    /** @readonly */ this.userId = userId;
    /** @readonly */ this.confirmerId = confirmerId;
    /** @readonly */ this.confirmedAt = confirmedAt;
    /** @readonly */ this.previousIdentity = previousIdentity;
    /** @readonly */ this.newIdentity = newIdentity;
    Object.freeze(this);
  }
}

/**
 * `value` if it is an integer from 0 to 2^53 - 1; FormatError otherwise.
 * @param {unknown} value
 * @param {string} what
 * @returns {number}
 */
function number(value, what) {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new FormatError(`${what} must be an integer, not ${typeName(value)}`);
  }
  if (value < 0 || value > MAX_SUCCESSION_NUMBER) {
    throw new FormatError(`${what} must be from 0 to ${MAX_SUCCESSION_NUMBER}, not ${value}`);
  }
  return value;
}

/**
 * The length of the identity whose version byte is at `offset` of a version-2 succession;
 * FormatError if the succession ends before it or the version is unknown.
 * @param {Uint8Array} data
 * @param {number} offset
 * @returns {number}
 */
function embeddedSize(data, offset) {
  if (offset >= data.length) throw new FormatError('The succession is truncated');
  const version = data[offset];
  if (version !== IDENTITY_VERSION && version !== IDENTITY_VERSION_2) {
    const found = version.toString(16).padStart(2, '0');
    throw new FormatError(`The succession holds an identity of unknown version 0x${found}`);
  }
  return identitySize(version);
}

/**
 * The succession, signed by `confirmer`: `userId`'s identity `previousIdentity` is
 * replaced by `newIdentity` (347 bytes when both identities are of version 1; version 2
 * otherwise).
 *
 * Throws FormatError for an id or a time that is not an integer from 0 to 2^53 - 1,
 * identities that are not PublicIdentity, or a previous identity equal to the new one.
 * @param {IdentityKeyPair} confirmer
 * @param {{userId: number, confirmerId: number, confirmedAt: number,
 *          previousIdentity: PublicIdentity, newIdentity: PublicIdentity}} fields
 * @returns {Uint8Array}
 */
export function signSuccession(confirmer, { userId, confirmerId, confirmedAt, previousIdentity, newIdentity }) {
  requireType(confirmer, IdentityKeyPair, 'The confirmer');
  const previous = requireType(previousIdentity, PublicIdentity, 'The previous identity');
  const next = requireType(newIdentity, PublicIdentity, 'The new identity');
  if (previous.equals(next)) throw new FormatError('The previous identity and the new one are the same');
  const bothVersion1 = previous.version === IDENTITY_VERSION && next.version === IDENTITY_VERSION;
  const body = concat(
    Uint8Array.of(bothVersion1 ? SUCCESSION_VERSION : SUCCESSION_VERSION_2),
    u64(number(userId, 'The user id')),
    u64(number(confirmerId, 'The confirmer id')),
    u64(number(confirmedAt, 'The confirmation time')),
    previous.toBytes(),
    next.toBytes(),
  );
  return concat(body, _sign(confirmer, concat(labels.IDENTITY_SUCCESSION, body)));
}

/**
 * Check a succession against the confirmer this reader knows, and what it expects it to
 * name; return what it states.
 *
 * Throws, in this order: FormatError for empty input, UnsupportedVersionError for a
 * version other than 0x01 or 0x02, FormatError for a length other than 347 bytes (version
 * 2: than the two identities' own versions give, each 0x01 or 0x02), SignatureError if it
 * does not verify under `confirmer`'s signing key, FormatError for an id or time
 * above 2^53 - 1, BindingError if it names another user, another confirmer or another new
 * identity, the errors of PublicIdentity for a previous identity that is not one, and
 * FormatError if the previous identity is the new one.
 * @param {Uint8Array} succession
 * @param {PublicIdentity} confirmer
 * @param {{userId: number, confirmerId: number, newIdentity: PublicIdentity}} expected
 * @returns {Succession}
 */
export function verifySuccession(succession, confirmer, { userId, confirmerId, newIdentity }) {
  number(userId, 'The expected user id');
  number(confirmerId, 'The expected confirmer id');
  const data = requireBytes(succession, 'A succession');
  const version = checkVersion(
    data,
    new Set([SUCCESSION_VERSION, SUCCESSION_VERSION_2]),
    'succession',
  );
  let previousSize = PUBLIC_IDENTITY_SIZE;
  let newSize = PUBLIC_IDENTITY_SIZE;
  if (version === SUCCESSION_VERSION) {
    requireLength(data, SUCCESSION_SIZE, 'A succession');
  } else {
    previousSize = embeddedSize(data, HEAD_SIZE);
    newSize = embeddedSize(data, HEAD_SIZE + previousSize);
    requireLength(
      data,
      HEAD_SIZE + previousSize + newSize + SIGNATURE_SIZE,
      'A version 2 succession',
    );
  }
  requireType(confirmer, PublicIdentity, 'The confirmer');
  const expectedNew = requireType(newIdentity, PublicIdentity, 'The new identity');
  const bodySize = data.length - SIGNATURE_SIZE;
  const body = data.subarray(0, bodySize);
  verifyDetached(
    confirmer.signKey,
    concat(labels.IDENTITY_SUCCESSION, body),
    data.subarray(bodySize),
    "The succession does not verify under the confirming therapist's signing key",
  );
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const numbers = [1, 9, 17].map((offset) => view.getBigUint64(offset, false));
  if (numbers.some((value) => value > BigInt(MAX_SUCCESSION_NUMBER))) {
    throw new FormatError(`An id or time of the succession is above ${MAX_SUCCESSION_NUMBER}`);
  }
  const [namedUser, namedConfirmer, confirmedAt] = numbers.map(Number);
  if (namedUser !== userId) throw new BindingError('The succession names another user than the expected one');
  if (namedConfirmer !== confirmerId) {
    throw new BindingError('The succession names another confirmer than the expected one');
  }
  const newStart = HEAD_SIZE + previousSize;
  const previousBytes = data.slice(HEAD_SIZE, newStart);
  if (!equalBytes(data.subarray(newStart, newStart + newSize), expectedNew.toBytes())) {
    throw new BindingError('The succession names another new identity than the expected one');
  }
  const previous = PublicIdentity.fromBytes(previousBytes);
  if (previous.equals(expectedNew)) throw new FormatError("The succession's previous identity is its new one");
  return new Succession(namedUser, namedConfirmer, confirmedAt, previous, expectedNew);
}
