/**
 * Safety numbers: a fingerprint of both identities, compared by the two people in person.
 *
 *     fp(id)         = BLAKE2b-256("confide/v1/fingerprint" || sign_pk || enc_pk)   (unkeyed)
 *     digits(fp)     = for i in 0..5: int(fp[5i : 5i+5]) mod 100000, as 5 zero-padded digits
 *     safety_number  = the two 30-digit strings, sorted, concatenated (60 digits)
 *     qr_payload     = 0x01 || min(fp_a, fp_b) || max(fp_a, fp_b)                 (65 bytes)
 *
 * Both sides compute the same number and payload, whichever of the two they are.
 *
 * One identity alone has an identity number, for an assisted recovery (crypto/SPEC.md,
 * "Assisted recovery"), where the client's new browser knows no peer yet:
 *
 *     identity_number = digits(fp)                                                (30 digits)
 *     identity_qr     = 0x01 || fp                                                (33 bytes)
 *
 * An invitation link carries its therapist's fingerprint, so the client's new browser can
 * refuse a therapist identity the server substitutes (crypto/SPEC.md, "Invitation links"):
 *
 *     fragment        = token || "." || b64url(fp(therapist))        (token: 16..128 base64url
 *                                                                     characters)
 *
 * @module
 */

import {
  checkVersion,
  concat,
  equalBytes,
  requireBytes,
  requireLength,
  requireType,
  typeName,
} from './_fields.js';
import { HASH_SIZE } from './_primitives.js';
import { b64decode, b64encode } from './encoding.js';
import { BindingError, FormatError } from './errors.js';
import { PublicIdentity } from './identity.js';

export const SAFETY_NUMBER_DIGITS = 60;
export const SAFETY_QR_VERSION = 0x01;
export const SAFETY_QR_SIZE = 1 + 2 * HASH_SIZE; // 65
export const IDENTITY_NUMBER_DIGITS = 30;
export const IDENTITY_QR_VERSION = 0x01;
export const IDENTITY_QR_SIZE = 1 + HASH_SIZE; // 33
export const INVITATION_TOKEN_MIN = 16;
export const INVITATION_TOKEN_MAX = 128;
const TOKEN = /^[A-Za-z0-9_-]+$/;
const CHUNKS = 6;
const CHUNK_BYTES = 5;
const GROUP = 5;

/**
 * The identity's 32-byte fingerprint (same as `identity.fingerprint()`).
 * @param {PublicIdentity} identity
 * @returns {Uint8Array}
 */
export function fingerprint(identity) {
  return requireType(identity, PublicIdentity, 'The identity').fingerprint();
}

/**
 * @param {Uint8Array} fp
 * @returns {string}
 */
function digits(fp) {
  let text = '';
  for (let i = 0; i < CHUNKS; i += 1) {
    let value = 0;
    // 40-bit big-endian integer: exact in a double (below 2^53).
    for (const byte of fp.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES))
      value = value * 256 + byte;
    text += String(value % 100000).padStart(5, '0');
  }
  return text;
}

/**
 * Lexicographic byte order.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {number}
 */
function compareBytes(a, b) {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/**
 * The 60-digit safety number of two identities; symmetric in `a` and `b`.
 * @param {PublicIdentity} a
 * @param {PublicIdentity} b
 * @returns {string}
 */
export function safetyNumber(a, b) {
  const halves = [digits(fingerprint(a)), digits(fingerprint(b))].sort();
  return halves[0] + halves[1];
}

/**
 * Group a 60-digit safety number into 12 groups of 5 digits separated by spaces.
 *
 * Throws FormatError unless `number` is exactly 60 ASCII digits.
 * @param {string} number
 * @returns {string}
 */
export function formatSafetyNumber(number) {
  return grouped(number, SAFETY_NUMBER_DIGITS, 'safety number');
}

/**
 * @param {unknown} number
 * @param {number} size
 * @param {string} what
 * @returns {string}
 */
function grouped(number, size, what) {
  if (typeof number !== 'string') {
    throw new FormatError(`The ${what} must be a string, not ${typeName(number)}`);
  }
  if (number.length !== size || !/^[0-9]+$/.test(number)) {
    throw new FormatError(`A ${what} is exactly ${size} digits`);
  }
  const groups = [];
  for (let i = 0; i < number.length; i += GROUP) groups.push(number.slice(i, i + GROUP));
  return groups.join(' ');
}

/**
 * The 65-byte QR code payload of two identities; symmetric in `a` and `b`.
 * @param {PublicIdentity} a
 * @param {PublicIdentity} b
 * @returns {Uint8Array}
 */
export function safetyQrPayload(a, b) {
  const [low, high] = [fingerprint(a), fingerprint(b)].sort(compareBytes);
  return concat(Uint8Array.of(SAFETY_QR_VERSION), low, high);
}

/**
 * Check a scanned QR payload against the two identities this device holds.
 *
 * Returns nothing on a match. Throws FormatError for empty input, UnsupportedVersionError
 * for a version other than 0x01, FormatError for a length other than 65 bytes, and
 * BindingError if the payload is for other keys (a key was substituted or changed: the
 * two people must not trust the conversation until this is resolved).
 * @param {Uint8Array} payload
 * @param {PublicIdentity} a
 * @param {PublicIdentity} b
 */
export function verifySafetyQr(payload, a, b) {
  const data = requireBytes(payload, 'The safety QR payload');
  checkVersion(data, SAFETY_QR_VERSION, 'safety QR payload');
  requireLength(data, SAFETY_QR_SIZE, 'The safety QR payload');
  if (!equalBytes(data, safetyQrPayload(a, b))) {
    throw new BindingError(
      'The scanned safety code does not match these two identities: a key has changed ' +
        'or was substituted',
    );
  }
}

/**
 * The 30-digit number of one identity: the half a safety number takes from it.
 *
 * For an assisted recovery: the client's new browser shows it, their therapist's shows the
 * number of the identity the server holds for the request, and the two compare them.
 * @param {PublicIdentity} identity
 * @returns {string}
 */
export function identityNumber(identity) {
  return digits(fingerprint(identity));
}

/**
 * Group a 30-digit identity number into 6 groups of 5 digits separated by spaces.
 *
 * Throws FormatError unless `number` is exactly 30 ASCII digits.
 * @param {string} number
 * @returns {string}
 */
export function formatIdentityNumber(number) {
  return grouped(number, IDENTITY_NUMBER_DIGITS, 'identity number');
}

/**
 * The 33-byte QR code payload of one identity: 0x01 || its fingerprint.
 * @param {PublicIdentity} identity
 * @returns {Uint8Array}
 */
export function identityQrPayload(identity) {
  return concat(Uint8Array.of(IDENTITY_QR_VERSION), fingerprint(identity));
}

/**
 * Check a scanned identity QR payload against the identity this device holds.
 *
 * Returns nothing on a match. Throws FormatError for empty input, UnsupportedVersionError
 * for a version other than 0x01, FormatError for a length other than 33 bytes (a safety
 * code of two identities is 65), and BindingError if the payload is another identity's
 * (the request to confirm is not the one this person made).
 * @param {Uint8Array} payload
 * @param {PublicIdentity} identity
 */
export function verifyIdentityQr(payload, identity) {
  const data = requireBytes(payload, 'The identity QR payload');
  checkVersion(data, IDENTITY_QR_VERSION, 'identity QR payload');
  requireLength(data, IDENTITY_QR_SIZE, 'The identity QR payload');
  if (!equalBytes(data, identityQrPayload(identity))) {
    throw new BindingError(
      "The scanned code is not this identity's: the keys compared are not the same",
    );
  }
}

/**
 * The fragment of an invitation link: the server's token, `.`, and the base64url
 * fingerprint of the inviting therapist's identity, as the therapist's own client holds it.
 * Throws FormatError for a token that is not 16 to 128 base64url characters.
 * @param {string} token
 * @param {PublicIdentity} therapist
 * @returns {string}
 */
export function invitationFragment(token, therapist) {
  return `${checkToken(token)}.${b64encode(fingerprint(therapist))}`;
}

/**
 * The token and the therapist's 32-byte fingerprint of an invitation link's fragment.
 * Throws FormatError for anything but `token.fingerprint`: a fragment without the
 * fingerprint (a link from before version 2, or cut short), a token that is not 16 to 128
 * base64url characters, or a fingerprint that is not 32 bytes in base64url.
 * @param {string} fragment
 * @returns {{token: string, fingerprint: Uint8Array}}
 */
export function parseInvitationFragment(fragment) {
  if (typeof fragment !== 'string') {
    throw new FormatError(`The invitation fragment must be a string, not ${typeName(fragment)}`);
  }
  const dot = fragment.lastIndexOf('.');
  if (dot < 0) {
    throw new FormatError(
      "The invitation link has no fingerprint of the therapist's key after its token",
    );
  }
  const fp = b64decode(fragment.slice(dot + 1));
  requireLength(fp, HASH_SIZE, "The therapist's fingerprint in the invitation link");
  return { token: checkToken(fragment.slice(0, dot)), fingerprint: fp };
}

/**
 * Check the therapist identity the server serves for an invitation against the
 * fingerprint its link carries. Returns nothing on a match; throws BindingError otherwise
 * (the server, or someone who changed its answer, put another key in the therapist's
 * place: nothing may be wrapped to it) and FormatError for a fingerprint that is not 32
 * bytes.
 * @param {Uint8Array} expectedFingerprint
 * @param {PublicIdentity} therapist
 */
export function checkInvitationTherapist(expectedFingerprint, therapist) {
  const expected = requireLength(expectedFingerprint, HASH_SIZE, 'The expected fingerprint');
  if (!equalBytes(expected, fingerprint(therapist))) {
    throw new BindingError(
      "The therapist's key the server gave does not match the fingerprint in the " +
        'invitation link',
    );
  }
}

/** @param {unknown} token */
function checkToken(token) {
  if (typeof token !== 'string') {
    throw new FormatError(`The invitation token must be a string, not ${typeName(token)}`);
  }
  if (token.length < INVITATION_TOKEN_MIN || token.length > INVITATION_TOKEN_MAX || !TOKEN.test(token)) {
    throw new FormatError(
      `An invitation token is ${INVITATION_TOKEN_MIN} to ${INVITATION_TOKEN_MAX} ` +
        'base64url characters (A-Z, a-z, 0-9, - and _)',
    );
  }
  return token;
}
