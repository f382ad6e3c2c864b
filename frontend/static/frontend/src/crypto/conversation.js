/**
 * Conversation keys, their envelopes (one per member per epoch) and the rotation policy.
 *
 * Envelope, 253 bytes:
 *
 *     body = 0x01 || conversation_id(16) || u32(epoch) || recipient_enc_pk(32)
 *            || wrapper_sign_pk(32) || eph_pk(32) || nonce(24) || ct(48)
 *     shared = X25519(eph_sk, recipient_enc_pk)                 (all zeros: rejected)
 *     k      = H(shared, "confide/v1/envelope" || eph_pk || recipient_enc_pk)
 *     ct     = AEAD(k, nonce, epoch_key(32), ad = body up to and including nonce)
 *     sig    = Ed25519-Sign(wrapper_sign_sk, "confide/v1/envelope-sig" || body)
 *     envelope = body || sig(64)
 *
 * Version 2 (293 bytes) also signs the epoch's creation time and a commitment to its key:
 *
 *     body = 0x02 || conversation_id(16) || u32(epoch) || u64(created_at) || commitment(32)
 *            || recipient_enc_pk(32) || wrapper_sign_pk(32) || eph_pk(32) || nonce(24) || ct(48)
 *     commitment = H(epoch_key, "confide/v1/key-commitment")
 *
 * Version 3 (1,381 bytes) wraps the key with X-Wing (X25519 + ML-KEM-768) to the
 * recipient's version-2 identity, so that a copy of the database kept for a future quantum
 * computer does not open it; it signs what version 2 signs:
 *
 *     body = 0x03 || conversation_id(16) || u32(epoch) || u64(created_at) || commitment(32)
 *            || recipient_enc_pk(32) || wrapper_sign_pk(32) || xwing_ct(1120) || nonce(24)
 *            || ct(48)
 *     (shared, xwing_ct) = X-Wing.Encaps(recipient_xwing_pk)
 *     k  = H(shared, "confide/v1/envelope-xwing")
 *
 * A reader whose identity is version 2 refuses a version-2 envelope created at or after the
 * time its identity holds the X-Wing key from (a downgrade).
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
  requireLength,
  requireType,
  typeName,
  u32,
  u64,
} from './_fields.js';
import {
  HASH_SIZE,
  KEY_SIZE,
  NONCE_SIZE,
  PUBLIC_KEY_SIZE,
  SIGNATURE_SIZE,
  TAG_SIZE,
  XWING_CIPHERTEXT_SIZE,
  aeadDecrypt,
  aeadEncrypt,
  h,
  newNonce,
  verifyDetached,
  wipeBytes,
  x25519,
  x25519Base,
  xwingEncapsulate,
} from './_primitives.js';
import { randomBytes } from './random.js';
import { Secret, fieldsOf } from './_secret.js';
import { BindingError, DowngradeError, FormatError } from './errors.js';
import {
  IdentityKeyPair,
  PublicIdentity,
  _sharedSecret,
  _sign,
  _xwingDecapsulate,
} from './identity.js';

export const ENVELOPE_VERSION = 0x01;
const CT_SIZE = KEY_SIZE + TAG_SIZE;
const AD_SIZE = 1 + ID_SIZE + 4 + 3 * PUBLIC_KEY_SIZE + NONCE_SIZE; // 141
const BODY_SIZE = AD_SIZE + CT_SIZE; // 189
export const ENVELOPE_SIZE = BODY_SIZE + SIGNATURE_SIZE; // 253
export const ENVELOPE_VERSION_2 = 0x02;
const EPOCH_FIELDS = 8 + HASH_SIZE; // created_at, commitment: 40
export const ENVELOPE_SIZE_V2 = ENVELOPE_SIZE + EPOCH_FIELDS; // 293
export const ENVELOPE_VERSION_3 = 0x03;
export const ENVELOPE_SIZE_V3 = ENVELOPE_SIZE_V2 - PUBLIC_KEY_SIZE + XWING_CIPHERTEXT_SIZE; // 1381
/** @type {Map<number, number>} */
const SIZES = new Map([
  [ENVELOPE_VERSION, ENVELOPE_SIZE],
  [ENVELOPE_VERSION_2, ENVELOPE_SIZE_V2],
  [ENVELOPE_VERSION_3, ENVELOPE_SIZE_V3],
]);

export const ROTATE_AFTER_MESSAGES = 100;
export const ROTATE_AFTER_SECONDS = 7 * 24 * 60 * 60;
/**
 * How long after an identity holds its X-Wing key a version-2 envelope to it may still
 * have been made: the wrapper's clock and the owner's differ, and a wrapper may have read
 * the members just before the owner published (crypto/SPEC.md, "Version 3").
 */
export const DOWNGRADE_GRACE_MS = 5 * 60 * 1000;

/**
 * The 32-byte key of one conversation epoch (secret).
 *
 * Messages are encrypted under `H(key, "confide/v1/message-key")`, never under the key
 * itself. The constructor copies the key and throws FormatError if it is not 32 bytes.
 *
 * Warning: there must be exactly one key per (conversation, epoch). If two members start
 * the same epoch concurrently with different keys, each will fail to open the other's
 * messages; whoever stores envelopes must accept only the first key for an epoch.
 */
export class ConversationKey extends Secret {
  /** @param {Uint8Array} key */
  constructor(key) {
    const checked = requireLength(key, KEY_SIZE, 'The conversation key');
    const messageKey = h(checked, labels.MESSAGE_KEY);
    super({ key: checked, messageKey }, { material: ['key'] });
    Object.freeze(this);
  }

  /** `H(key, "confide/v1/key-commitment")`: names this key without revealing it. */
  commitment() {
    return h(fieldsOf(this).key, labels.KEY_COMMITMENT);
  }

  /** A new epoch key of 32 random bytes. */
  static generate() {
    const key = randomBytes(KEY_SIZE);
    try {
      return new ConversationKey(key);
    } finally {
      wipeBytes(key);
    }
  }
}

/**
 * The public fields of an envelope; readable without any key.
 *
 * `createdAt` (milliseconds since 1970, by the creator's clock) and `commitment` are those
 * of versions 2 and 3; null for version 1. Version 3 wraps with X-Wing.
 */
export class EnvelopeInfo {
  /**
   * @param {number} version
   * @param {Uint8Array} conversationId
   * @param {number} epoch
   * @param {Uint8Array} recipientEncPk
   * @param {Uint8Array} wrapperSignPk
   * @param {number|null} [createdAt] versions 2 and 3: the epoch's creation, ms since 1970
   * @param {Uint8Array|null} [commitment] versions 2 and 3: the commitment to its key
   */
  constructor(
    version,
    conversationId,
    epoch,
    recipientEncPk,
    wrapperSignPk,
    createdAt = null,
    commitment = null,
  ) {
    /** @readonly */ this.version = version;
    /** @readonly */ this.conversationId = conversationId;
    /** @readonly */ this.epoch = epoch;
    /** @readonly */ this.recipientEncPk = recipientEncPk;
    /** @readonly */ this.wrapperSignPk = wrapperSignPk;
    /** @readonly */ this.createdAt = createdAt;
    /** @readonly */ this.commitment = commitment;
    Object.freeze(this);
  }

  /** `conversationId` as a UUID string. */
  get conversationUuid() {
    return idToUuid(this.conversationId);
  }
}

/**
 * @typedef {object} SplitEnvelope
 * @property {EnvelopeInfo} info
 * @property {Uint8Array} ephPk the X-Wing ciphertext, for version 3
 * @property {Uint8Array} nonce
 * @property {Uint8Array} ciphertext
 * @property {Uint8Array} ad
 * @property {Uint8Array} body
 * @property {Uint8Array} signature
 */

/**
 * @param {unknown} envelope
 * @returns {SplitEnvelope}
 */
function split(envelope) {
  const data = requireBytes(envelope, 'An envelope');
  const version = checkVersion(data, SIZES, 'envelope');
  const size = /** @type {number} */ (SIZES.get(version));
  requireLength(data, size, `A version ${version} envelope`);
  const extra = data.length - ENVELOPE_SIZE;
  const reader = new Reader(data);
  reader.take(1);
  const conversationId = reader.take(ID_SIZE);
  const epoch = reader.takeU32();
  let createdAt = null;
  let commitment = null;
  if (version !== ENVELOPE_VERSION) {
    createdAt = reader.takeU64();
    if (!Number.isFinite(createdAt)) {
      throw new FormatError("The epoch's creation time is above 2^53 - 1");
    }
    commitment = reader.take(HASH_SIZE);
  }
  const info = new EnvelopeInfo(
    version,
    conversationId,
    epoch,
    reader.take(PUBLIC_KEY_SIZE),
    reader.take(PUBLIC_KEY_SIZE),
    createdAt,
    commitment,
  );
  const ephPk = reader.take(version === ENVELOPE_VERSION_3 ? XWING_CIPHERTEXT_SIZE : PUBLIC_KEY_SIZE);
  const nonce = reader.take(NONCE_SIZE);
  const ciphertext = reader.take(CT_SIZE);
  const signature = reader.rest();
  return {
    info,
    ephPk,
    nonce,
    ciphertext,
    ad: data.slice(0, AD_SIZE + extra),
    body: data.slice(0, BODY_SIZE + extra),
    signature,
  };
}

/**
 * Signature under the expected wrapper's key, then that the envelope names that wrapper.
 * @param {SplitEnvelope} parsed
 * @param {PublicIdentity} wrapper
 */
function verifyParsed(parsed, wrapper) {
  verifyDetached(
    wrapper.signKey,
    concat(labels.ENVELOPE_SIG, parsed.body),
    parsed.signature,
    "The envelope signature does not verify under the expected wrapper's signing key",
  );
  if (!equalBytes(parsed.info.wrapperSignPk, wrapper.signKey)) {
    throw new BindingError('The envelope names another wrapper than the expected one');
  }
}

/**
 * @param {Uint8Array} shared
 * @param {Uint8Array} ephPk
 * @param {Uint8Array} recipientEncPk
 */
function envelopeKey(shared, ephPk, recipientEncPk) {
  return h(shared, concat(labels.ENVELOPE, ephPk, recipientEncPk));
}

/**
 * Wrap an epoch key to one member and sign it: a 253-byte envelope, or with `createdAt`
 * (the epoch's creation, milliseconds since 1970, 0 to 2^53 - 1) a 293-byte version-2
 * envelope that also signs that time and the key's commitment, or, to a version-2
 * identity, a 1,381-byte version-3 envelope that wraps with X-Wing.
 *
 * X25519 from a fresh ephemeral key to the recipient's key (version 3: X-Wing
 * encapsulation to its X-Wing key, with libsodium's own randomness), a BLAKE2b-derived
 * wrapping key, XChaCha20-Poly1305 with a random 24-byte nonce (drawn after the ephemeral
 * key), and an Ed25519 signature by `wrapper`. Wrap to every member, the wrapper included.
 *
 * Throws FormatError for a bad id, an epoch outside `u32`, an argument of the wrong type,
 * or no `createdAt` for a version-2 recipient, before anything random is drawn (a
 * verified PublicIdentity never has a weak key).
 * @param {ConversationKey} key
 * @param {Uint8Array | string} conversationId 16 bytes or a UUID string
 * @param {number} epoch
 * @param {PublicIdentity} recipient
 * @param {IdentityKeyPair} wrapper
 * @param {number|null} [createdAt] the epoch's creation (ms since 1970, 0 to 2^53 - 1):
 *   a version-2 envelope that signs it and the key's commitment (version 3 to a version-2
 *   recipient, for which it is required)
 * @returns {Uint8Array}
 */
export function wrapConversationKey(key, conversationId, epoch, recipient, wrapper, createdAt = null) {
  requireType(key, ConversationKey, 'The conversation key');
  const conversation = coerceId(conversationId, 'The conversation id');
  checkEpoch(epoch);
  requireType(recipient, PublicIdentity, 'The recipient');
  requireType(wrapper, IdentityKeyPair, 'The wrapper');
  let epochFields = new Uint8Array(0);
  let version = ENVELOPE_VERSION;
  if (createdAt !== null) {
    if (
      typeof createdAt !== 'number' ||
      !Number.isInteger(createdAt) ||
      createdAt < 0 ||
      createdAt > Number.MAX_SAFE_INTEGER
    ) {
      throw new FormatError(
        `The epoch's creation time must be an integer from 0 to 2^53 - 1, not ${String(createdAt)}`,
      );
    }
    epochFields = concat(u64(createdAt), key.commitment());
    version = ENVELOPE_VERSION_2;
  }
  const xwingKey = recipient.xwingKey;
  if (xwingKey !== null) {
    if (createdAt === null) {
      throw new FormatError(
        "An envelope to a version-2 identity signs the epoch's creation time: " +
          'createdAt is required',
      );
    }
    version = ENVELOPE_VERSION_3;
  }
  const epochKey = fieldsOf(key).key;
  const recipientEncPk = recipient.encKey;
  /** @type {Uint8Array | null} */
  let ephSk = null;
  /** @type {Uint8Array | null} */
  let shared = null;
  /** @type {Uint8Array | null} */
  let k = null;
  try {
    /** @type {Uint8Array} */
    let ephPk;
    if (xwingKey !== null) {
      const encapsulated = xwingEncapsulate(xwingKey, "recipient's X-Wing key");
      shared = encapsulated.sharedSecret;
      ephPk = encapsulated.ciphertext;
      k = h(shared, labels.ENVELOPE_XWING);
    } else {
      ephSk = randomBytes(KEY_SIZE);
      ephPk = x25519Base(ephSk);
      shared = x25519(ephSk, recipientEncPk, "recipient's encryption key");
      k = envelopeKey(shared, ephPk, recipientEncPk);
    }
    const nonce = newNonce();
    const ad = concat(
      Uint8Array.of(version),
      conversation,
      u32(epoch),
      epochFields,
      recipientEncPk,
      wrapper.signKey,
      ephPk,
      nonce,
    );
    const body = concat(ad, aeadEncrypt(k, nonce, epochKey, ad));
    return concat(body, _sign(wrapper, concat(labels.ENVELOPE_SIG, body)));
  } finally {
    wipeBytes(ephSk, shared, k);
  }
}

/**
 * Verify and open an envelope addressed to `recipient`.
 *
 * Checks, in this order, throwing at the first failure: empty input (FormatError) and
 * version (UnsupportedVersionError); length (FormatError); the signature under
 * `wrapper`'s key (SignatureError); that the envelope names `wrapper`, the expected
 * conversation and epoch, and `recipient`'s key (BindingError); for a recipient whose
 * public identity is version 2, that a version-2 envelope was created before its `since`
 * (DowngradeError, a BindingError); that the ephemeral key (the X25519 part of the X-Wing
 * ciphertext) is not a low-order point (WeakKeyError); decryption (DecryptionError); the
 * key commitment (BindingError).
 * @param {Uint8Array} envelope
 * @param {IdentityKeyPair} recipient
 * @param {PublicIdentity} wrapper
 * @param {Uint8Array | string} conversationId 16 bytes or a UUID string
 * @param {number} epoch
 * @returns {ConversationKey}
 */
export function unwrapConversationKey(envelope, recipient, wrapper, conversationId, epoch) {
  const parsed = split(envelope);
  requireType(recipient, IdentityKeyPair, 'The recipient');
  requireType(wrapper, PublicIdentity, 'The wrapper');
  const conversation = coerceId(conversationId, 'The conversation id');
  checkEpoch(epoch);
  verifyParsed(parsed, wrapper);
  const { info } = parsed;
  if (!equalBytes(info.conversationId, conversation)) {
    throw new BindingError('The envelope belongs to another conversation');
  }
  if (info.epoch !== epoch) {
    throw new BindingError(`The envelope is for epoch ${info.epoch}, not epoch ${epoch}`);
  }
  if (!equalBytes(info.recipientEncPk, recipient.encKey)) {
    throw new BindingError("The envelope is wrapped to another recipient's key");
  }
  const since = recipient.public.since;
  if (
    since !== null &&
    info.version === ENVELOPE_VERSION_2 &&
    info.createdAt !== null &&
    info.createdAt >= since + DOWNGRADE_GRACE_MS
  ) {
    throw new DowngradeError(
      'The envelope wraps the key with X25519 alone for an epoch begun after the ' +
        "recipient's identity held an X-Wing key: the wrapper was given an older identity",
    );
  }
  /** @type {Uint8Array} */
  let shared;
  /** @type {Uint8Array} */
  let k;
  if (info.version === ENVELOPE_VERSION_3) {
    shared = _xwingDecapsulate(recipient, parsed.ephPk);
    k = h(shared, labels.ENVELOPE_XWING);
  } else {
    shared = _sharedSecret(recipient, parsed.ephPk, "envelope's ephemeral key");
    k = envelopeKey(shared, parsed.ephPk, info.recipientEncPk);
  }
  let epochKey = null;
  try {
    epochKey = aeadDecrypt(
      k,
      parsed.nonce,
      parsed.ciphertext,
      parsed.ad,
      'The envelope could not be decrypted: its ciphertext was altered or it was not ' +
        "wrapped to this recipient's key",
    );
    const key = new ConversationKey(epochKey);
    if (info.commitment !== null && !equalBytes(info.commitment, key.commitment())) {
      key.wipe();
      throw new BindingError("The envelope's key is not the one its commitment names");
    }
    return key;
  } finally {
    wipeBytes(shared, k, epochKey);
  }
}

/**
 * Read an envelope's public fields, checking only its version and length.
 *
 * Warning: nothing is authenticated; use {@link verifyEnvelope} before trusting a field.
 * @param {Uint8Array} envelope
 * @returns {EnvelopeInfo}
 */
export function parseEnvelope(envelope) {
  return split(envelope).info;
}

/**
 * Check an envelope's shape and signature without any secret (for the server).
 *
 * Throws UnsupportedVersionError/FormatError for a bad shape, SignatureError if not
 * signed by `wrapper`, BindingError if it names another wrapper. The caller still
 * compares conversation, epoch and recipient.
 * @param {Uint8Array} envelope
 * @param {PublicIdentity} wrapper
 * @returns {EnvelopeInfo}
 */
export function verifyEnvelope(envelope, wrapper) {
  const parsed = split(envelope);
  verifyParsed(parsed, requireType(wrapper, PublicIdentity, 'The wrapper'));
  return parsed.info;
}

/**
 * Whether a sender must start a new epoch before sending the next message.
 *
 * True if any member's keys changed since the epoch began, the epoch already holds
 * `ROTATE_AFTER_MESSAGES` (100) messages, or it is `ROTATE_AFTER_SECONDS` (7 days) old.
 * Throws FormatError for a count that is not an integer from 0 to 2^53 - 1, an age that is
 * negative, infinite or not a number (clamp clock skew before calling), or a
 * `keysChanged` that is not a boolean.
 * @param {number} messagesInEpoch
 * @param {number} epochAgeSeconds
 * @param {boolean} keysChanged
 * @returns {boolean}
 */
export function epochNeedsRotation(messagesInEpoch, epochAgeSeconds, keysChanged) {
  if (typeof messagesInEpoch !== 'number' || !Number.isInteger(messagesInEpoch)) {
    throw new FormatError(`The message count must be an integer, not ${String(messagesInEpoch)}`);
  }
  if (messagesInEpoch < 0) {
    throw new FormatError(`The message count cannot be negative (${messagesInEpoch})`);
  }
  if (messagesInEpoch > Number.MAX_SAFE_INTEGER) {
    throw new FormatError(
      `The message count must be at most 2^53 - 1 (${Number.MAX_SAFE_INTEGER}), not ${messagesInEpoch}`,
    );
  }
  if (typeof epochAgeSeconds !== 'number') {
    throw new FormatError(`The epoch age must be a number, not ${typeName(epochAgeSeconds)}`);
  }
  if (!Number.isFinite(epochAgeSeconds) || epochAgeSeconds < 0) {
    throw new FormatError(
      `The epoch age must be a finite, non-negative number of seconds, not ${epochAgeSeconds}`,
    );
  }
  if (typeof keysChanged !== 'boolean') {
    throw new FormatError(`Whether keys changed must be a boolean, not ${typeName(keysChanged)}`);
  }
  return (
    keysChanged ||
    messagesInEpoch >= ROTATE_AFTER_MESSAGES ||
    epochAgeSeconds >= ROTATE_AFTER_SECONDS
  );
}
