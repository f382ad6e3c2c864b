/**
 * Pins: a person's record of the peer identities they have seen and verified, kept by the
 * server but readable and writable only with their own identity (crypto/SPEC.md, "Pins");
 * the twin of crypto/pins.py.
 *
 *     pins_key = H(sign_seed || enc_sk, "confide/v1/pins")
 *     header   = 0x01 || sign_pk(32) || u64(counter)
 *     body     = u32(n) || n entries, by user id: u64(user_id) || fingerprint(32) || state(1)
 *                || u64(at)
 *     record   = header || nonce(24) || AEAD(pins_key, nonce, body, "confide/v1/pins" || header)
 *
 * `state` is 1 (seen) or 2 (verified).
 *
 * @module
 */

import * as labels from './_labels.js';
import {
  checkVersion,
  concat,
  equalBytes,
  readU64,
  requireBytes,
  requireType,
  u32,
  u64,
} from './_fields.js';
import {
  HASH_SIZE,
  NONCE_SIZE,
  PUBLIC_KEY_SIZE,
  TAG_SIZE,
  aeadDecrypt,
  aeadEncrypt,
  h,
  newNonce,
  wipeBytes,
} from './_primitives.js';
import { secretMaterial } from './_secret.js';
import { BindingError, FormatError } from './errors.js';
import { IdentityKeyPair } from './identity.js';

export const PINS_VERSION = 0x01;
export const MAX_PINS = 4096;
const SEEN = 1;
const VERIFIED = 2;
const HEADER_SIZE = 1 + PUBLIC_KEY_SIZE + 8; // 41
const ENTRY_SIZE = 8 + HASH_SIZE + 1 + 8; // 49
const MIN_SIZE = HEADER_SIZE + NONCE_SIZE + 4 + TAG_SIZE; // 85
const MAX_SIZE = MIN_SIZE + MAX_PINS * ENTRY_SIZE;

/**
 * @param {unknown} value
 * @param {string} what
 * @param {number} low
 */
function checkInteger(value, what, low) {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < low ||
    value > Number.MAX_SAFE_INTEGER
  ) {
    throw new FormatError(`${what} must be an integer from ${low} to 2^53 - 1, not ${String(value)}`);
  }
  return value;
}

/**
 * One peer as this person has seen them: the fingerprint of the identity seen, whether
 * they verified it, and when (seconds since 1970) the pin was last set.
 */
export class Pin {
  /** @param {{userId: number, fingerprint: Uint8Array, verified: boolean, at: number}} fields */
  constructor({ userId, fingerprint, verified, at }) {
    /** @readonly */ this.userId = checkInteger(userId, 'A pinned user id', 1);
    if (!(fingerprint instanceof Uint8Array) || fingerprint.length !== HASH_SIZE) {
      throw new FormatError('A pinned fingerprint must be 32 bytes');
    }
    /** @readonly */ this.fingerprint = Uint8Array.from(fingerprint);
    if (typeof verified !== 'boolean') {
      throw new FormatError(`verified must be true or false, not ${String(verified)}`);
    }
    /** @readonly */ this.verified = verified;
    /** @readonly */ this.at = checkInteger(at, "A pin's time", 0);
    Object.freeze(this);
  }
}

/** An opened record: its counter and its pins, by user id. */
export class PinRecord {
  /**
   * @param {number} counter
   * @param {readonly Pin[]} pins
   */
  constructor(counter, pins) {
    /** @readonly */ this.counter = counter;
    /** @readonly */ this.pins = Object.freeze([...pins]);
    Object.freeze(this);
  }

  /** @param {number} userId */
  get(userId) {
    return this.pins.find((pin) => pin.userId === userId) ?? null;
  }
}

/** @param {IdentityKeyPair} identity */
function pinsKey(identity) {
  const material = secretMaterial(identity);
  try {
    return h(material, labels.PINS);
  } finally {
    wipeBytes(material);
  }
}

/**
 * @param {Uint8Array} signPk
 * @param {number} counter
 */
function header(signPk, counter) {
  return concat(Uint8Array.of(PINS_VERSION), signPk, u64(counter));
}

/**
 * The record of `pins` under `counter` (1 to 2^53 - 1), sealed so that only `identity`
 * can open or make it. Throws FormatError for a counter out of range, a pin of the wrong
 * type, two pins of one user, or more than `MAX_PINS`.
 * @param {IdentityKeyPair} identity
 * @param {number} counter
 * @param {Iterable<Pin>} pins
 * @returns {Uint8Array}
 */
export function sealPins(identity, counter, pins) {
  requireType(identity, IdentityKeyPair, 'The identity');
  checkInteger(counter, 'The counter', 1);
  const listed = [...pins].map((pin) => requireType(pin, Pin, 'A pin'));
  listed.sort((a, b) => a.userId - b.userId);
  if (new Set(listed.map((pin) => pin.userId)).size !== listed.length) {
    throw new FormatError('Two pins name the same user');
  }
  if (listed.length > MAX_PINS) {
    throw new FormatError(`A record holds at most ${MAX_PINS} pins, not ${listed.length}`);
  }
  const body = concat(
    u32(listed.length),
    ...listed.flatMap((pin) => [
      u64(pin.userId),
      pin.fingerprint,
      Uint8Array.of(pin.verified ? VERIFIED : SEEN),
      u64(pin.at),
    ]),
  );
  const head = header(identity.signKey, counter);
  const nonce = newNonce();
  const key = pinsKey(identity);
  try {
    return concat(head, nonce, aeadEncrypt(key, nonce, body, concat(labels.PINS, head)));
  } finally {
    wipeBytes(key);
  }
}

/**
 * Check a record's shape and read its header, without any key (for the server).
 * @param {Uint8Array} record
 * @returns {{signPk: Uint8Array, counter: number}}
 */
export function parsePins(record) {
  const data = requireBytes(record, 'A pin record');
  checkVersion(data, PINS_VERSION, 'pin record');
  if (data.length < MIN_SIZE || data.length > MAX_SIZE || (data.length - MIN_SIZE) % ENTRY_SIZE) {
    throw new FormatError(
      `A pin record is ${MIN_SIZE} bytes and ${ENTRY_SIZE} more per pin, up to ${MAX_PINS} ` +
        `pins; this one is ${data.length} bytes long`,
    );
  }
  const signPk = data.slice(1, 1 + PUBLIC_KEY_SIZE);
  const counter = checkInteger(readU64(data.subarray(1 + PUBLIC_KEY_SIZE, HEADER_SIZE)), 'The counter', 1);
  return { signPk, counter };
}

/**
 * Open a record with the person's own identity. Checks, in this order: the shape
 * ({@link parsePins}); that it is this identity's (BindingError); decryption
 * (DecryptionError); the body (FormatError).
 * @param {Uint8Array} record
 * @param {IdentityKeyPair} identity
 * @returns {PinRecord}
 */
export function openPins(record, identity) {
  const info = parsePins(record);
  requireType(identity, IdentityKeyPair, 'The identity');
  if (!equalBytes(info.signPk, identity.signKey)) {
    throw new BindingError('The pin record belongs to another identity');
  }
  const data = requireBytes(record, 'A pin record');
  const head = data.subarray(0, HEADER_SIZE);
  const key = pinsKey(identity);
  let body;
  try {
    body = aeadDecrypt(
      key,
      data.subarray(HEADER_SIZE, HEADER_SIZE + NONCE_SIZE),
      data.subarray(HEADER_SIZE + NONCE_SIZE),
      concat(labels.PINS, head),
      'The pin record could not be decrypted: it was altered or not made by this identity',
    );
  } finally {
    wipeBytes(key);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  const count = view.getUint32(0);
  if (body.length !== 4 + count * ENTRY_SIZE) {
    throw new FormatError(`The pin record says ${count} pins but holds another number`);
  }
  /** @type {Pin[]} */
  const pins = [];
  for (let i = 0; i < count; i += 1) {
    const at = 4 + i * ENTRY_SIZE;
    const userId = readU64(body.subarray(at, at + 8));
    const fingerprint = body.slice(at + 8, at + 8 + HASH_SIZE);
    const state = body[at + 8 + HASH_SIZE];
    const time = readU64(body.subarray(at + 9 + HASH_SIZE, at + ENTRY_SIZE));
    if (state !== SEEN && state !== VERIFIED) {
      throw new FormatError(`A pin's state must be 1 or 2, not ${state}`);
    }
    if (pins.length && userId <= pins[pins.length - 1].userId) {
      throw new FormatError('The pins are not in increasing user-id order');
    }
    pins.push(new Pin({ userId, fingerprint, verified: state === VERIFIED, at: time }));
  }
  return new PinRecord(info.counter, pins);
}
