/**
 * Domain-separation labels.
 *
 * Every label is ASCII, has no terminator and starts with `confide/v1/`. Each one is used
 * for exactly one purpose, so a value computed for one purpose is never valid for another.
 * Same list as crypto/_labels.py.
 *
 * @module
 */

const encoder = new TextEncoder();

/** @param {string} text @returns {Uint8Array} */
const label = (text) => encoder.encode(text);

export const IDENTITY = label('confide/v1/identity');
export const AUTH = label('confide/v1/auth');
export const KEY_WRAP = label('confide/v1/key-wrap');
export const KEY_BUNDLE = label('confide/v1/key-bundle');
export const RECOVERY_WRAP = label('confide/v1/recovery-wrap');
export const RECOVERY_CHECK = label('confide/v1/recovery-check');
export const ENVELOPE = label('confide/v1/envelope');
export const ENVELOPE_SIG = label('confide/v1/envelope-sig');
export const MESSAGE_KEY = label('confide/v1/message-key');
export const MESSAGE = label('confide/v1/message');
export const MESSAGE_SIG = label('confide/v1/message-sig');
export const FINGERPRINT = label('confide/v1/fingerprint');
export const RECOVERY_PROOF = label('confide/v1/recovery-proof');
export const IDENTITY_SUCCESSION = label('confide/v1/identity-succession');
export const MESSAGE_REFERENCE = label('confide/v1/message-reference');
export const PINS = label('confide/v1/pins');
export const KEY_COMMITMENT = label('confide/v1/key-commitment');
export const XWING_SEED = label('confide/v1/xwing-seed');
export const ENVELOPE_XWING = label('confide/v1/envelope-xwing');
export const DISCLOSURE_KEY = label('confide/v1/disclosure-key');
export const DISCLOSURE = label('confide/v1/disclosure');
export const DISCLOSURE_SIG = label('confide/v1/disclosure-sig');
export const EXPORT = label('confide/v1/export');
export const EXPORT_MESSAGE = label('confide/v1/export-message');
export const ATTACHMENT = label('confide/v1/attachment');
export const ATTACHMENT_DIGEST = label('confide/v1/attachment-digest');

/** Every label, in the order of the Python module. */
export const ALL_LABELS = Object.freeze([
  IDENTITY,
  AUTH,
  KEY_WRAP,
  KEY_BUNDLE,
  RECOVERY_WRAP,
  RECOVERY_CHECK,
  ENVELOPE,
  ENVELOPE_SIG,
  MESSAGE_KEY,
  MESSAGE,
  MESSAGE_SIG,
  FINGERPRINT,
  RECOVERY_PROOF,
  IDENTITY_SUCCESSION,
  MESSAGE_REFERENCE,
  PINS,
  KEY_COMMITMENT,
  XWING_SEED,
  ENVELOPE_XWING,
  DISCLOSURE_KEY,
  DISCLOSURE,
  DISCLOSURE_SIG,
  EXPORT,
  EXPORT_MESSAGE,
  ATTACHMENT,
  ATTACHMENT_DIGEST,
]);
