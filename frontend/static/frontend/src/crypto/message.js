/**
 * Messages: padded, encrypted under the epoch's message key, and signed by the sender.
 *
 *     header = 0x01 || conversation_id(16) || u32(epoch) || sender_sign_pk(32)
 *              || client_message_id(16) || nonce(24)                           (93 bytes)
 *     header = 0x02 || conversation_id(16) || u32(epoch) || sender_sign_pk(32)
 *              || client_message_id(16) || chain(8) || u32(counter) || u64(sent_at)
 *              || previous(32) || nonce(24)                                   (145 bytes)
 *     mk     = H(epoch_key, "confide/v1/message-key")
 *     ct     = AEAD(mk, nonce, pad(plaintext), ad = "confide/v1/message" || header)
 *     sig    = Ed25519-Sign(sender_sign_sk, "confide/v1/message-sig" || header || ct)
 *     wire   = header || ct || sig
 *
 * The wire size is the padded size plus 173 bytes (version 1: 93 header, 16 tag, 64
 * signature) or 225 bytes (version 2). Version 2 carries the sender's own order (its chain,
 * counter and clock, and the reference of the newest message it held), signed, so that a
 * receiver can tell a withheld or reordered message (order.js).
 *
 * @module
 */

import * as labels from './_labels.js';
import {
  ID_SIZE,
  Reader,
  U32_MAX,
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
  NONCE_SIZE,
  PUBLIC_KEY_SIZE,
  SIGNATURE_SIZE,
  TAG_SIZE,
  aeadDecrypt,
  aeadEncrypt,
  hUnkeyed,
  newNonce,
  verifyDetached,
  wipeBytes,
} from './_primitives.js';
import { fieldsOf } from './_secret.js';
import { ConversationKey } from './conversation.js';
import { BindingError, FormatError } from './errors.js';
import { IdentityKeyPair, PublicIdentity, _sign } from './identity.js';
import { BUCKETS, MAX_PADDED, MIN_PADDED, pad, unpad } from './padding.js';
import { randomBytes } from './random.js';

export const MESSAGE_VERSION = 0x01;
export const MESSAGE_VERSION_2 = 0x02;
export const CHAIN_SIZE = 8;
const ORDER_SIZE = CHAIN_SIZE + 4 + 8 + HASH_SIZE; // 52
export const HEADER_SIZE = 1 + ID_SIZE + 4 + PUBLIC_KEY_SIZE + ID_SIZE + NONCE_SIZE; // 93
export const HEADER_SIZE_V2 = HEADER_SIZE + ORDER_SIZE; // 145
export const MESSAGE_OVERHEAD = HEADER_SIZE + TAG_SIZE + SIGNATURE_SIZE; // 173
export const MESSAGE_OVERHEAD_V2 = HEADER_SIZE_V2 + TAG_SIZE + SIGNATURE_SIZE; // 225
/** @type {Map<number, number>} header size by version */
const HEADER_SIZES = new Map([
  [MESSAGE_VERSION, HEADER_SIZE],
  [MESSAGE_VERSION_2, HEADER_SIZE_V2],
]);
/** @param {number} headerSize */
const wireSizes = (headerSize) =>
  new Set(BUCKETS.map((bucket) => bucket + headerSize + TAG_SIZE + SIGNATURE_SIZE));
const WIRE_SIZES = new Map([...HEADER_SIZES].map(([version, size]) => [version, wireSizes(size)]));

/** A fresh chain id: 8 random bytes naming one sending session (crypto/SPEC.md). */
export function newChain() {
  return randomBytes(CHAIN_SIZE);
}

/**
 * `BLAKE2b-256("confide/v1/message-reference" || wire)`: how a later message names this
 * one in its `previous` field. Defined for any bytes; nothing is checked.
 * @param {Uint8Array} wire
 * @returns {Uint8Array}
 */
export function messageReference(wire) {
  return hUnkeyed(concat(labels.MESSAGE_REFERENCE, requireBytes(wire, 'A message')));
}

/**
 * @param {unknown} value
 * @param {string} name
 * @param {number} low
 * @param {number} high
 */
function checkInteger(value, name, low, high) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
    throw new FormatError(`The ${name} must be an integer from ${low} to ${high}, not ${String(value)}`);
  }
  return value;
}

/**
 * A version-2 message's place in its sender's order, signed with it.
 *
 * `chain` (8 bytes) names the sending session, `counter` (1 to 2^32 - 1) counts that
 * session's messages in the conversation from 1, `sentAt` is the sender's clock in
 * milliseconds since 1970-01-01 UTC (0 to 2^53 - 1), and `previous` is the
 * {@link messageReference} of the newest message the sender held in the conversation, or
 * 32 zero bytes if it held none. Throws FormatError for any other value.
 */
export class MessageOrder {
  /**
   * @param {{chain: Uint8Array, counter: number, sentAt: number, previous: Uint8Array}} fields
   */
  constructor({ chain, counter, sentAt, previous }) {
    /** @readonly */ this.chain = Uint8Array.from(requireLength(chain, CHAIN_SIZE, 'The chain id'));
    /** @readonly */ this.counter = checkInteger(counter, 'counter', 1, U32_MAX);
    /** @readonly */ this.sentAt = checkInteger(sentAt, 'sent_at', 0, Number.MAX_SAFE_INTEGER);
    /** @readonly */ this.previous = Uint8Array.from(
      requireLength(previous, HASH_SIZE, 'The previous reference'),
    );
    Object.freeze(this);
  }

  /** `chain || u32(counter) || u64(sent_at) || previous`, 52 bytes. */
  toBytes() {
    return concat(this.chain, u32(this.counter), u64(this.sentAt), this.previous);
  }
}

/** Lone surrogates cannot be encoded as UTF-8; TextEncoder would replace them silently. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The public header fields of a message, and its padded plaintext size. */
export class MessageInfo {
  /**
   * @param {number} version
   * @param {Uint8Array} conversationId
   * @param {number} epoch
   * @param {Uint8Array} senderSignPk
   * @param {Uint8Array} clientMessageId
   * @param {number} paddedSize
   * @param {MessageOrder|null} [order] the sender's order (version 2); null for version 1
   */
  constructor(version, conversationId, epoch, senderSignPk, clientMessageId, paddedSize, order = null) {
    /** @readonly */ this.version = version;
    /** @readonly */ this.conversationId = conversationId;
    /** @readonly */ this.epoch = epoch;
    /** @readonly */ this.senderSignPk = senderSignPk;
    /** @readonly */ this.clientMessageId = clientMessageId;
    /** @readonly */ this.paddedSize = paddedSize;
    /** @readonly */ this.order = order;
    Object.freeze(this);
  }

  /** `conversationId` as a UUID string. */
  get conversationUuid() {
    return idToUuid(this.conversationId);
  }

  /** `clientMessageId` as a UUID string. */
  get clientMessageUuid() {
    return idToUuid(this.clientMessageId);
  }
}

/**
 * @typedef {object} SplitMessage
 * @property {MessageInfo} info
 * @property {Uint8Array} header
 * @property {Uint8Array} nonce
 * @property {Uint8Array} ciphertext
 * @property {Uint8Array} signature
 */

/**
 * @param {unknown} wire
 * @returns {SplitMessage}
 */
function split(wire) {
  const data = requireBytes(wire, 'A message');
  const version = checkVersion(data, HEADER_SIZES, 'message');
  const headerSize = /** @type {number} */ (HEADER_SIZES.get(version));
  if (!WIRE_SIZES.get(version)?.has(data.length)) {
    const overhead = headerSize + TAG_SIZE + SIGNATURE_SIZE;
    throw new FormatError(
      `A version ${version} message must be ${overhead} bytes longer than a padding bucket ` +
        `(a power of two from ${MIN_PADDED} to ${MAX_PADDED}); this one is ${data.length} ` +
        'bytes long',
    );
  }
  const reader = new Reader(data);
  reader.take(1);
  const conversationId = reader.take(ID_SIZE);
  const epoch = reader.takeU32();
  const sender = reader.take(PUBLIC_KEY_SIZE);
  const clientMessageId = reader.take(ID_SIZE);
  let order = null;
  if (version === MESSAGE_VERSION_2) {
    const chain = reader.take(CHAIN_SIZE);
    const counter = reader.takeU32();
    // Above 2^53 - 1 it reads as Infinity, which MessageOrder refuses.
    order = new MessageOrder({ chain, counter, sentAt: reader.takeU64(), previous: reader.take(HASH_SIZE) });
  }
  const nonce = reader.take(NONCE_SIZE);
  const ciphertext = reader.take(data.length - headerSize - SIGNATURE_SIZE);
  const signature = reader.rest();
  const info = new MessageInfo(
    version,
    conversationId,
    epoch,
    sender,
    clientMessageId,
    ciphertext.length - TAG_SIZE,
    order,
  );
  return { info, header: data.slice(0, headerSize), nonce, ciphertext, signature };
}

/**
 * Signature under the expected sender's key, then that the header names that sender.
 * @param {SplitMessage} parsed
 * @param {PublicIdentity} sender
 */
function verifyParsed(parsed, sender) {
  verifyDetached(
    sender.signKey,
    concat(labels.MESSAGE_SIG, parsed.header, parsed.ciphertext),
    parsed.signature,
    "The message signature does not verify under the expected sender's signing key",
  );
  if (!equalBytes(parsed.info.senderSignPk, sender.signKey)) {
    throw new BindingError('The message names another sender than the expected one');
  }
}

/**
 * Pad, encrypt (XChaCha20-Poly1305, random 24-byte nonce) and sign a message.
 *
 * With `order`, a version-2 message of `paddedSize(plaintext.length) + 225` bytes that
 * carries the sender's order; without, a version-1 message of `+ 173` bytes. Throws
 * FormatError for a plaintext over `MAX_PLAINTEXT` (1048572) bytes, a bad id, an epoch
 * outside `u32` or an argument of the wrong type.
 *
 * Warning: `clientMessageId` must be fresh for every new message (a random UUID); the
 * server deduplicates on it, so reusing one makes a new message look like a resend.
 * @param {Uint8Array} plaintext
 * @param {ConversationKey} key
 * @param {Uint8Array | string} conversationId 16 bytes or a UUID string
 * @param {number} epoch
 * @param {IdentityKeyPair} sender
 * @param {Uint8Array | string} clientMessageId 16 bytes or a UUID string
 * @param {MessageOrder|null} [order] the sender's order: a version-2 message
 * @returns {Uint8Array}
 */
export function sealMessage(
  plaintext,
  key,
  conversationId,
  epoch,
  sender,
  clientMessageId,
  order = null,
) {
  const padded = pad(requireBytes(plaintext, 'The plaintext'));
  try {
    requireType(key, ConversationKey, 'The conversation key');
    const conversation = coerceId(conversationId, 'The conversation id');
    checkEpoch(epoch);
    requireType(sender, IdentityKeyPair, 'The sender');
    const messageId = coerceId(clientMessageId, 'The client message id');
    if (order !== null) requireType(order, MessageOrder, 'The message order');
    return _sealPadded(padded, key, conversation, epoch, sender, messageId, order);
  } finally {
    wipeBytes(padded);
  }
}

/**
 * Encrypt and sign an already padded plaintext; the arguments are already checked.
 * Internal (tests use it to forge authentic messages with bad padding).
 * @param {Uint8Array} padded
 * @param {ConversationKey} key
 * @param {Uint8Array} conversation
 * @param {number} epoch
 * @param {IdentityKeyPair} sender
 * @param {Uint8Array} messageId
 * @param {MessageOrder|null} [order]
 * @returns {Uint8Array}
 */
export function _sealPadded(padded, key, conversation, epoch, sender, messageId, order = null) {
  const { messageKey } = fieldsOf(key);
  fieldsOf(sender);
  const nonce = newNonce();
  const header = concat(
    Uint8Array.of(order === null ? MESSAGE_VERSION : MESSAGE_VERSION_2),
    conversation,
    u32(epoch),
    sender.signKey,
    messageId,
    order === null ? new Uint8Array(0) : order.toBytes(),
    nonce,
  );
  const ciphertext = aeadEncrypt(messageKey, nonce, padded, concat(labels.MESSAGE, header));
  return concat(header, ciphertext, _sign(sender, concat(labels.MESSAGE_SIG, header, ciphertext)));
}

/**
 * Verify, decrypt and unpad a message; return the plaintext.
 *
 * Checks, in this order, throwing at the first failure: empty input (FormatError) and
 * version (UnsupportedVersionError); length (FormatError); the signature under `sender`'s
 * key (SignatureError); that the header names `sender`, the expected conversation and
 * epoch and, if given, the client message id (BindingError); decryption
 * (DecryptionError); padding (FormatError).
 * @param {Uint8Array} wire
 * @param {ConversationKey} key
 * @param {PublicIdentity} sender
 * @param {Uint8Array | string} conversationId 16 bytes or a UUID string
 * @param {number} epoch
 * @param {Uint8Array | string | null} [clientMessageId] null or omitted: not checked
 * @returns {Uint8Array}
 */
export function openMessage(wire, key, sender, conversationId, epoch, clientMessageId = null) {
  const parsed = split(wire);
  requireType(key, ConversationKey, 'The conversation key');
  fieldsOf(key); // a wiped key is refused before any check
  requireType(sender, PublicIdentity, 'The sender');
  const conversation = coerceId(conversationId, 'The conversation id');
  checkEpoch(epoch);
  const messageId =
    clientMessageId === null || clientMessageId === undefined
      ? null
      : coerceId(clientMessageId, 'The client message id');
  verifyParsed(parsed, sender);
  const { info } = parsed;
  if (!equalBytes(info.conversationId, conversation)) {
    throw new BindingError('The message belongs to another conversation');
  }
  if (info.epoch !== epoch) {
    throw new BindingError(`The message is for epoch ${info.epoch}, not epoch ${epoch}`);
  }
  if (messageId !== null && !equalBytes(info.clientMessageId, messageId)) {
    throw new BindingError('The message carries another client message id than expected');
  }
  const padded = aeadDecrypt(
    fieldsOf(key).messageKey,
    parsed.nonce,
    parsed.ciphertext,
    concat(labels.MESSAGE, parsed.header),
    'The message could not be decrypted: the epoch key is wrong or the ciphertext was altered',
  );
  try {
    return unpad(padded);
  } finally {
    wipeBytes(padded);
  }
}

/**
 * Read a message's public header, checking only its version and length.
 *
 * Warning: nothing is authenticated; use {@link verifyMessage} before trusting a field.
 * @param {Uint8Array} wire
 * @returns {MessageInfo}
 */
export function parseMessage(wire) {
  return split(wire).info;
}

/**
 * Check a message's shape and signature without any key (for the server).
 *
 * Throws UnsupportedVersionError/FormatError for a bad shape, SignatureError if not
 * signed by `sender`, BindingError if the header names another sender. The caller still
 * compares conversation, epoch and message id.
 * @param {Uint8Array} wire
 * @param {PublicIdentity} sender
 * @returns {MessageInfo}
 */
export function verifyMessage(wire, sender) {
  const parsed = split(wire);
  verifyParsed(parsed, requireType(sender, PublicIdentity, 'The sender'));
  return parsed.info;
}

/**
 * {@link sealMessage} of `text` encoded as UTF-8 (without normalisation).
 *
 * Throws FormatError if `text` is not a string or contains a lone surrogate.
 * @param {string} text
 * @param {ConversationKey} key
 * @param {Uint8Array | string} conversationId
 * @param {number} epoch
 * @param {IdentityKeyPair} sender
 * @param {Uint8Array | string} clientMessageId
 * @param {MessageOrder|null} [order]
 * @returns {Uint8Array}
 */
export function sealText(text, key, conversationId, epoch, sender, clientMessageId, order = null) {
  if (typeof text !== 'string') {
    throw new FormatError(`The text must be a string, not ${typeName(text)}`);
  }
  if (LONE_SURROGATE.test(text)) {
    throw new FormatError('The text is not valid Unicode (it contains a lone surrogate)');
  }
  const encoded = new TextEncoder().encode(text);
  try {
    return sealMessage(encoded, key, conversationId, epoch, sender, clientMessageId, order);
  } finally {
    wipeBytes(encoded);
  }
}

/**
 * {@link openMessage}, then strict UTF-8 decoding (invalid UTF-8: FormatError).
 *
 * A leading byte-order mark is kept as U+FEFF, as the sender wrote it.
 * @param {Uint8Array} wire
 * @param {ConversationKey} key
 * @param {PublicIdentity} sender
 * @param {Uint8Array | string} conversationId
 * @param {number} epoch
 * @param {Uint8Array | string | null} [clientMessageId]
 * @returns {string}
 */
export function openText(wire, key, sender, conversationId, epoch, clientMessageId = null) {
  const plaintext = openMessage(wire, key, sender, conversationId, epoch, clientMessageId);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(plaintext);
  } catch {
    throw new FormatError('The message plaintext is not valid UTF-8 text');
  } finally {
    wipeBytes(plaintext);
  }
}
