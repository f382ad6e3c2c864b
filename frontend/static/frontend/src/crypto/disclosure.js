/**
 * Disclosure records: a therapist's account of one disclosure outside the conversation,
 * sealed to the conversation and signed by the therapist (crypto/SPEC.md, "Disclosure
 * records"). The browser twin of crypto/disclosure.py.
 *
 *     header = 0x01 || conversation_id(16) || u32(epoch) || recorder_sign_pk(32)
 *              || disclosure_id(16) || nonce(24)                               (93 bytes)
 *     dk     = H(epoch_key, "confide/v1/disclosure-key")
 *     ct     = AEAD(dk, nonce, pad(description), ad = "confide/v1/disclosure" || header)
 *     sig    = Ed25519-Sign(recorder_sign_sk, "confide/v1/disclosure-sig" || header || ct)
 *     record = header || ct || sig
 *
 * Every derivation has labels of its own, so a disclosure is never read as a message, nor
 * a message as a disclosure. `description` is the canonical JSON of a
 * {@link DisclosureDescription}.
 *
 * @module
 */

import * as labels from './_labels.js';
import {
  ID_SIZE,
  Reader,
  checkEpoch,
  checkVersion,
  coerceId,
  concat,
  equalBytes,
  idToUuid,
  requireBytes,
  requireType,
  typeName,
  u32,
} from './_fields.js';
import {
  NONCE_SIZE,
  PUBLIC_KEY_SIZE,
  SIGNATURE_SIZE,
  TAG_SIZE,
  aeadDecrypt,
  aeadEncrypt,
  h,
  newNonce,
  verifyDetached,
  wipeBytes,
} from './_primitives.js';
import { fieldsOf } from './_secret.js';
import { ConversationKey } from './conversation.js';
import { BindingError, FormatError } from './errors.js';
import { IdentityKeyPair, PublicIdentity, _sign } from './identity.js';
import { BUCKETS, pad, paddedSize, unpad } from './padding.js';

export const DISCLOSURE_VERSION = 0x01;
export const DISCLOSURE_HEADER_SIZE = 1 + ID_SIZE + 4 + PUBLIC_KEY_SIZE + ID_SIZE + NONCE_SIZE; // 93
export const DISCLOSURE_OVERHEAD = DISCLOSURE_HEADER_SIZE + TAG_SIZE + SIGNATURE_SIZE; // 173
/** The longest description: the UTF-8 of its JSON fills at most an 8192-byte bucket. */
export const MAX_DESCRIPTION = 8192 - 4;
export const MAX_DISCLOSURE_SIZE = paddedSize(MAX_DESCRIPTION) + DISCLOSURE_OVERHEAD; // 8365
const SIZES = new Set(
  BUCKETS.filter((bucket) => bucket <= paddedSize(MAX_DESCRIPTION)).map(
    (bucket) => bucket + DISCLOSURE_OVERHEAD,
  ),
);

/** The legal bases a disclosure is recorded under, as crypto/SPEC.md names them. */
export const LEGAL_BASES = Object.freeze([
  'duty_to_protect',
  'mandated_report',
  'court_order',
  'client_authorised',
  'other_law',
]);
const FIELDS = ['disclosed_on', 'legal_basis', 'recipient', 'information', 'purpose'];
const TEXTS = /** @type {const} */ (['recipient', 'information', 'purpose']);
const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
// Control characters other than the line feed, and DEL: so that JSON escapes only '"',
// '\' and the line feed, the same in every language.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const HIDDEN = Symbol.for('nodejs.util.inspect.custom');

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {string}
 */
function checkDate(value, what) {
  if (typeof value !== 'string' || !DATE.test(value)) {
    throw new FormatError(`${what} must be a date written YYYY-MM-DD`);
  }
  const [year, month, day] = value.split('-').map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days[month - 1]) {
    throw new FormatError(`${what} is not a day of the calendar: ${value}`);
  }
  return value;
}

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {string}
 */
function checkBasis(value, what) {
  if (typeof value !== 'string' || !LEGAL_BASES.includes(value)) {
    throw new FormatError(`${what} must be one of ${LEGAL_BASES.join(', ')}`);
  }
  return value;
}

/**
 * @param {unknown} value
 * @param {string} name
 * @returns {string}
 */
function checkText(value, name) {
  if (typeof value !== 'string') {
    throw new FormatError(`The ${name} of a disclosure must be a string, not ${typeName(value)}`);
  }
  if (value.length === 0) throw new FormatError(`The ${name} of a disclosure is empty`);
  if (CONTROL.test(value)) {
    throw new FormatError(`The ${name} of a disclosure holds a control character`);
  }
  if (LONE_SURROGATE.test(value)) {
    throw new FormatError(`The ${name} of a disclosure is not valid Unicode`);
  }
  return value;
}

/**
 * What the therapist records of one disclosure: the day (`YYYY-MM-DD`), its legal basis
 * (one of {@link LEGAL_BASES}), to whom, what was disclosed and why. The three texts are
 * at least one character each, with no control character but the line feed; they are not
 * shown when the object is printed. Throws FormatError for any other value.
 */
export class DisclosureDescription {
  /**
   * @param {{disclosedOn: string, legalBasis: string, recipient: string, information: string,
   *   purpose: string}} fields
   */
  constructor({ disclosedOn, legalBasis, recipient, information, purpose }) {
    /** @readonly */ this.disclosedOn = checkDate(disclosedOn, 'The date of a disclosure');
    /** @readonly */ this.legalBasis = checkBasis(legalBasis, 'The legal basis of a disclosure');
    /** @readonly */ this.recipient = checkText(recipient, 'recipient');
    /** @readonly */ this.information = checkText(information, 'information');
    /** @readonly */ this.purpose = checkText(purpose, 'purpose');
    Object.freeze(this);
  }

  /** The canonical encoding: UTF-8 JSON, members in this order, no whitespace. */
  toJson() {
    return new TextEncoder().encode(
      JSON.stringify({
        disclosed_on: this.disclosedOn,
        legal_basis: this.legalBasis,
        recipient: this.recipient,
        information: this.information,
        purpose: this.purpose,
      }),
    );
  }

  /**
   * Reads a description; FormatError unless `data` is exactly the canonical encoding of one.
   * @param {Uint8Array} data
   * @returns {DisclosureDescription}
   */
  static fromJson(data) {
    let fields;
    try {
      fields = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data));
    } catch {
      throw new FormatError("The disclosure's description is not UTF-8 JSON");
    }
    if (
      fields === null ||
      typeof fields !== 'object' ||
      Array.isArray(fields) ||
      Object.keys(fields).join(',') !== FIELDS.join(',')
    ) {
      throw new FormatError(
        `The disclosure's description must be an object of exactly ${FIELDS.join(', ')}, in that order`,
      );
    }
    for (const name of TEXTS) checkText(fields[name], name);
    const description = new DisclosureDescription({
      disclosedOn: checkDate(fields.disclosed_on, 'The date of a disclosure'),
      legalBasis: checkBasis(fields.legal_basis, 'The legal basis of a disclosure'),
      recipient: fields.recipient,
      information: fields.information,
      purpose: fields.purpose,
    });
    if (!equalBytes(description.toJson(), data)) {
      throw new FormatError("The disclosure's description is not in its canonical form");
    }
    return description;
  }

  toString() {
    return `DisclosureDescription(disclosedOn=${this.disclosedOn}, legalBasis=${this.legalBasis})`;
  }

  [HIDDEN]() {
    return this.toString();
  }
}

/** The public header fields of a disclosure record, and its padded size. */
export class DisclosureInfo {
  /**
   * @param {number} version
   * @param {Uint8Array} conversationId
   * @param {number} epoch
   * @param {Uint8Array} recorderSignPk
   * @param {Uint8Array} disclosureId
   * @param {number} paddedSize
   */
  constructor(version, conversationId, epoch, recorderSignPk, disclosureId, paddedSize) {
    /** @readonly */ this.version = version;
    /** @readonly */ this.conversationId = conversationId;
    /** @readonly */ this.epoch = epoch;
    /** @readonly */ this.recorderSignPk = recorderSignPk;
    /** @readonly */ this.disclosureId = disclosureId;
    /** @readonly */ this.paddedSize = paddedSize;
    Object.freeze(this);
  }

  get conversationUuid() {
    return idToUuid(this.conversationId);
  }

  get disclosureUuid() {
    return idToUuid(this.disclosureId);
  }
}

/**
 * @typedef {object} SplitRecord
 * @property {DisclosureInfo} info
 * @property {Uint8Array} header
 * @property {Uint8Array} nonce
 * @property {Uint8Array} ciphertext
 * @property {Uint8Array} signature
 */

/**
 * @param {unknown} record
 * @returns {SplitRecord}
 */
function split(record) {
  const data = requireBytes(record, 'A disclosure record');
  checkVersion(data, DISCLOSURE_VERSION, 'disclosure record');
  if (!SIZES.has(data.length)) {
    throw new FormatError(
      `A disclosure record must be ${DISCLOSURE_OVERHEAD} bytes longer than a padding bucket ` +
        `from 256 to 8192; this one is ${data.length} bytes long`,
    );
  }
  const reader = new Reader(data);
  reader.take(1);
  const conversationId = reader.take(ID_SIZE);
  const epoch = reader.takeU32();
  const recorder = reader.take(PUBLIC_KEY_SIZE);
  const disclosureId = reader.take(ID_SIZE);
  const nonce = reader.take(NONCE_SIZE);
  const ciphertext = reader.take(data.length - DISCLOSURE_HEADER_SIZE - SIGNATURE_SIZE);
  const info = new DisclosureInfo(
    DISCLOSURE_VERSION,
    conversationId,
    epoch,
    recorder,
    disclosureId,
    ciphertext.length - TAG_SIZE,
  );
  return {
    info,
    header: data.slice(0, DISCLOSURE_HEADER_SIZE),
    nonce,
    ciphertext,
    signature: reader.rest(),
  };
}

/**
 * @param {SplitRecord} parsed
 * @param {PublicIdentity} recorder
 */
function verifyParsed(parsed, recorder) {
  verifyDetached(
    recorder.signKey,
    concat(labels.DISCLOSURE_SIG, parsed.header, parsed.ciphertext),
    parsed.signature,
    "The disclosure record's signature does not verify under the expected recorder's key",
  );
  if (!equalBytes(parsed.info.recorderSignPk, recorder.signKey)) {
    throw new BindingError('The disclosure record names another recorder than the expected one');
  }
}

/** @param {ConversationKey} key */
const disclosureKey = (key) => h(fieldsOf(key).key, labels.DISCLOSURE_KEY);

/**
 * Pad, encrypt under the epoch's disclosure key and sign a description.
 *
 * Throws FormatError for a description whose encoding is over `MAX_DESCRIPTION` (8188)
 * bytes, a bad id, an epoch outside `u32` or an argument of the wrong type.
 * `disclosureId` must be fresh for every record (a random UUID).
 * @param {DisclosureDescription} description
 * @param {ConversationKey} key
 * @param {Uint8Array | string} conversationId 16 bytes or a UUID string
 * @param {number} epoch
 * @param {IdentityKeyPair} recorder
 * @param {Uint8Array | string} disclosureId 16 bytes or a UUID string
 * @returns {Uint8Array}
 */
export function sealDisclosure(description, key, conversationId, epoch, recorder, disclosureId) {
  requireType(description, DisclosureDescription, 'The description');
  const encoded = description.toJson();
  try {
    if (encoded.length > MAX_DESCRIPTION) {
      throw new FormatError(
        `A disclosure's description may be at most ${MAX_DESCRIPTION} bytes of UTF-8 JSON, ` +
          `not ${encoded.length}`,
      );
    }
    requireType(key, ConversationKey, 'The conversation key');
    const conversation = coerceId(conversationId, 'The conversation id');
    checkEpoch(epoch);
    requireType(recorder, IdentityKeyPair, 'The recorder');
    const recordId = coerceId(disclosureId, 'The disclosure id');
    fieldsOf(key);
    fieldsOf(recorder);
    const padded = pad(encoded);
    const nonce = newNonce();
    const header = concat(
      Uint8Array.of(DISCLOSURE_VERSION),
      conversation,
      u32(epoch),
      recorder.signKey,
      recordId,
      nonce,
    );
    const dk = disclosureKey(key);
    try {
      const ciphertext = aeadEncrypt(dk, nonce, padded, concat(labels.DISCLOSURE, header));
      return concat(
        header,
        ciphertext,
        _sign(recorder, concat(labels.DISCLOSURE_SIG, header, ciphertext)),
      );
    } finally {
      wipeBytes(dk, padded);
    }
  } finally {
    wipeBytes(encoded);
  }
}

/**
 * Verify, decrypt and read a disclosure record.
 *
 * `disclosedOn` and `legalBasis` are the plain metadata the server gave with it. Checks,
 * in this order, throwing at the first failure: empty input and version; length
 * (FormatError); the arguments (FormatError); the signature under `recorder`'s key
 * (SignatureError); that the header names `recorder`, the conversation, the epoch and the
 * disclosure id (BindingError); decryption (DecryptionError); padding and the description
 * (FormatError); that the description's date and basis are the server's (BindingError).
 * @param {Uint8Array} record
 * @param {ConversationKey} key
 * @param {PublicIdentity} recorder
 * @param {Uint8Array | string} conversationId
 * @param {number} epoch
 * @param {Uint8Array | string} disclosureId
 * @param {string} disclosedOn `YYYY-MM-DD`
 * @param {string} legalBasis
 * @returns {DisclosureDescription}
 */
export function openDisclosure(
  record,
  key,
  recorder,
  conversationId,
  epoch,
  disclosureId,
  disclosedOn,
  legalBasis,
) {
  const parsed = split(record);
  requireType(key, ConversationKey, 'The conversation key');
  fieldsOf(key);
  requireType(recorder, PublicIdentity, 'The recorder');
  const conversation = coerceId(conversationId, 'The conversation id');
  checkEpoch(epoch);
  const recordId = coerceId(disclosureId, 'The disclosure id');
  const expectedDate = checkDate(disclosedOn, 'The expected date');
  const expectedBasis = checkBasis(legalBasis, 'The expected legal basis');
  verifyParsed(parsed, recorder);
  const { info } = parsed;
  if (!equalBytes(info.conversationId, conversation)) {
    throw new BindingError('The disclosure record belongs to another conversation');
  }
  if (info.epoch !== epoch) {
    throw new BindingError(`The disclosure record is for epoch ${info.epoch}, not epoch ${epoch}`);
  }
  if (!equalBytes(info.disclosureId, recordId)) {
    throw new BindingError('The disclosure record carries another disclosure id than expected');
  }
  const dk = disclosureKey(key);
  let padded;
  try {
    padded = aeadDecrypt(
      dk,
      parsed.nonce,
      parsed.ciphertext,
      concat(labels.DISCLOSURE, parsed.header),
      'The disclosure record could not be decrypted: the epoch key is wrong or it was altered',
    );
  } finally {
    wipeBytes(dk);
  }
  let description;
  try {
    description = DisclosureDescription.fromJson(unpad(padded));
  } finally {
    wipeBytes(padded);
  }
  if (description.disclosedOn !== expectedDate) {
    throw new BindingError('The sealed date of the disclosure is not the one the server gave');
  }
  if (description.legalBasis !== expectedBasis) {
    throw new BindingError('The sealed legal basis of the disclosure is not the one the server gave');
  }
  return description;
}

/**
 * Read a record's public header, checking only its version and length.
 *
 * Warning: nothing is authenticated; use {@link verifyDisclosure} before trusting it.
 * @param {Uint8Array} record
 * @returns {DisclosureInfo}
 */
export function parseDisclosure(record) {
  return split(record).info;
}

/**
 * Check a record's shape and signature without any key (for the server and its tests).
 * @param {Uint8Array} record
 * @param {PublicIdentity} recorder
 * @returns {DisclosureInfo}
 */
export function verifyDisclosure(record, recorder) {
  const parsed = split(record);
  verifyParsed(parsed, requireType(recorder, PublicIdentity, 'The recorder'));
  return parsed.info;
}
