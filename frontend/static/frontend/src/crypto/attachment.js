/**
 * Attachments: a file encrypted with libsodium's secretstream under a key of its own, and
 * the message content that presents it (crypto/SPEC.md, "Attachments" and "Message
 * content"). The browser twin of crypto/attachment.py.
 *
 *     file_key = random(32)
 *     sheader  = random(24)
 *     state    = secretstream state of (file_key, sheader)
 *     meta     = 0x01 || u64(size) || u8(len(name)) || name || u8(len(type)) || type,
 *                zero bytes to 512
 *     c0       = push(state, meta, "confide/v1/attachment", TAG_MESSAGE)
 *     c1..cn   = push(state, each 65536 bytes of the file, "confide/v1/attachment",
 *                     TAG_MESSAGE, TAG_FINAL for the last)
 *     stream   = 0x01 || sheader || c0 || c1 || ... || cn
 *     digest   = BLAKE2b-256("confide/v1/attachment-digest" || stream)
 *
 * The message that presents the file carries `file_key` and `digest` (and the file's size,
 * name and type): the key opens the stream, the digest names exactly its bytes, and the
 * message's seal binds both to its sender, conversation and epoch. The server, which stores
 * the stream, learns only its length.
 *
 * The state is made with `crypto_secretstream_xchacha20poly1305_init_pull(sheader,
 * file_key)`, which is the very state `init_push` makes when it draws that header; so the
 * header, like every other random value, comes from random.js, and the writer then pushes
 * with that state.
 *
 * Opening works as the bytes arrive ({@link AttachmentOpener}), so that a large file is
 * never held twice; nothing it returns counts as the file until `finish()` has checked the
 * end of the stream and its digest.
 *
 * @module
 */

import sodium from './_sodium.js';
import * as labels from './_labels.js';
import {
  ID_SIZE,
  Reader,
  coerceId,
  concat,
  equalBytes,
  idToUuid,
  requireBytes,
  requireType,
  toHex,
  typeName,
  u32,
  u64,
} from './_fields.js';
import { HASH_SIZE, KEY_SIZE, wipeBytes } from './_primitives.js';
import { Secret, fieldsOf } from './_secret.js';
import {
  BindingError,
  DecryptionError,
  FormatError,
  UnsupportedVersionError,
} from './errors.js';
import { randomBytes } from './random.js';

export const ATTACHMENT_VERSION = 1;
export const CONTENT_VERSION = 1;
/** Plaintext bytes of the file in each chunk of the stream but the last. */
export const ATTACHMENT_CHUNK = 65536;
export const MAX_ATTACHMENTS = 10;
/**
 * The largest file the format carries (1 TiB): its stream's length stays an exact integer
 * in every implementation (a JavaScript number).
 */
export const MAX_FILE_SIZE = 2 ** 40;
export const MAX_NAME = 255;
export const MAX_TYPE = 127;

const HEADER = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES; // 24
const ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES; // 17
const TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE; // 0
const TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL; // 3
const META = 512;
/** 0x01, the secretstream header, and the metadata chunk: 554 bytes. */
const PREFIX = 1 + HEADER + META + ABYTES;
/** A data chunk of the stream but the last: 65553 bytes. */
const FULL_CHUNK = ATTACHMENT_CHUNK + ABYTES;
/** A content whose first byte is this is not text: 0xFF never begins valid UTF-8. */
const CONTENT_MARK = 0xff;
/** What is handed to libsodium at once, so that its heap holds no whole large file. */
const SLICE = 65536;

const TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/;
// eslint-disable-next-line no-control-regex
const NAME_FORBIDDEN = /[\x00-\x1f\x7f/\\]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const encoder = new TextEncoder();
// As Python's bytes.decode('utf-8'): strict, and a leading U+FEFF is kept as a character.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// --- libsodium's secretstream and incremental BLAKE2b ----------------------------------------
//
// libsodium.js hands these states out as addresses in its WebAssembly heap and frees a
// secretstream state never (a hash state only at `final`). A state is released here, zeroed
// first, as soon as its stream is done or has failed, if the build exposes its allocator;
// and, for a stream left unfinished, once the object that held it is collected.

const heap = /** @type {{_free?: (address: number) => void, HEAPU8?: Uint8Array,
  _crypto_secretstream_xchacha20poly1305_statebytes?: () => number} | undefined} */ (
  /** @type {any} */ (sodium).libsodium
);
const STREAM_STATE_BYTES = heap?._crypto_secretstream_xchacha20poly1305_statebytes?.() ?? 52;

/**
 * A state in libsodium's heap (`null` once released) and the bytes to zero when it is.
 * @typedef {{state: number | null, size: number}} HeldState
 */

/**
 * Zero and free a held state, once.
 * @param {HeldState} held
 */
function release(held) {
  const address = held.state;
  held.state = null;
  if (address === null || typeof heap?._free !== 'function') return;
  if (held.size > 0 && heap.HEAPU8 instanceof Uint8Array) {
    heap.HEAPU8.fill(0, address, address + held.size);
  }
  heap._free(address);
}

/** Releases the state of a hasher, sealer or opener collected before it was done. */
const collector =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry((/** @type {HeldState} */ held) => release(held))
    : null;

/**
 * A secretstream state of its own for `owner`, released when `owner` is collected.
 * @param {object} owner
 * @returns {HeldState}
 */
function heldStream(owner) {
  const held = { state: null, size: STREAM_STATE_BYTES };
  collector?.register(owner, held);
  return held;
}

/**
 * The secretstream state of (`key`, `header`), to push or to pull with.
 * @param {Uint8Array} header
 * @param {Uint8Array} key
 * @returns {number}
 */
function streamState(header, key) {
  return sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, key);
}

/**
 * @param {number} state
 * @param {Uint8Array} data
 * @param {number} tag
 * @returns {Uint8Array}
 */
function streamPush(state, data, tag) {
  return sodium.crypto_secretstream_xchacha20poly1305_push(state, data, labels.ATTACHMENT, tag);
}

/**
 * The plaintext and tag of the next chunk; DecryptionError if it does not open.
 * @param {number} state
 * @param {Uint8Array} chunk
 * @returns {{message: Uint8Array, tag: number}}
 */
function streamPull(state, chunk) {
  let opened = null;
  try {
    opened = sodium.crypto_secretstream_xchacha20poly1305_pull(state, chunk, labels.ATTACHMENT);
  } catch {
    opened = null;
  }
  if (!opened) {
    throw new DecryptionError(
      "A chunk of the attachment does not open: it was altered, moved, or is another file's",
    );
  }
  return opened;
}

/**
 * `value` itself (not a copy) if it is a Uint8Array; FormatError otherwise. For the bytes
 * of a file or stream, read at once and never kept, so that a large file is not copied.
 * @param {unknown} value
 * @param {string} what
 * @returns {Uint8Array}
 */
function bytesOf(value, what) {
  if (value instanceof Uint8Array) return value;
  throw new FormatError(`${what} must be a Uint8Array, not ${typeName(value)}`);
}

/** @type {WeakMap<AttachmentDigestHasher, HeldState & {digest: Uint8Array | null}>} */
const hashing = new WeakMap();

/**
 * BLAKE2b-256 of `"confide/v1/attachment-digest"` and of every byte given to
 * {@link AttachmentDigestHasher#update}: {@link attachmentDigest} of a stream read a piece at
 * a time. Made by {@link attachmentDigestHasher}.
 */
export class AttachmentDigestHasher {
  constructor() {
    const held = { state: sodium.crypto_generichash_init(null, HASH_SIZE), size: 0, digest: null };
    hashing.set(this, held);
    collector?.register(this, held);
    this.update(labels.ATTACHMENT_DIGEST);
    Object.freeze(this);
  }

  /**
   * Hash the next bytes. FormatError once the digest has been given.
   * @param {Uint8Array} data
   */
  update(data) {
    const bytes = bytesOf(data, 'The bytes to hash');
    const held = /** @type {HeldState} */ (hashing.get(this));
    if (held.state === null) throw new FormatError('The hasher has already given its digest');
    for (let at = 0; at < bytes.length; at += SLICE) {
      sodium.crypto_generichash_update(held.state, bytes.subarray(at, at + SLICE));
    }
  }

  /**
   * The 32-byte digest of everything hashed (a copy); the hasher takes nothing more after.
   * @returns {Uint8Array}
   */
  digest() {
    const held = /** @type {HeldState & {digest: Uint8Array | null}} */ (hashing.get(this));
    if (held.digest === null) {
      if (held.state === null) throw new FormatError('The hasher was abandoned');
      const state = held.state;
      held.state = null; // final frees it
      held.digest = sodium.crypto_generichash_final(state, HASH_SIZE);
    }
    return held.digest.slice();
  }
}

/**
 * Free a hasher's state without a digest (a stream that failed).
 * @param {AttachmentDigestHasher} hasher
 */
function abandonHasher(hasher) {
  const held = hashing.get(hasher);
  if (held) release(held);
}

/**
 * A hasher that gives {@link attachmentDigest} of the bytes fed to its `update`, for a
 * stream read a piece at a time.
 * @returns {AttachmentDigestHasher}
 */
export function attachmentDigestHasher() {
  return new AttachmentDigestHasher();
}

/**
 * `BLAKE2b-256("confide/v1/attachment-digest" || stream)`: what a message names.
 * @param {Uint8Array} stream
 * @returns {Uint8Array}
 */
export function attachmentDigest(stream) {
  const data = bytesOf(stream, 'The stream');
  const hasher = attachmentDigestHasher();
  hasher.update(data);
  return hasher.digest();
}

// --- the file's name, type and size ----------------------------------------------------------

/**
 * @param {unknown} size
 * @returns {number}
 */
function checkSize(size) {
  if (
    typeof size !== 'number' ||
    !Number.isInteger(size) ||
    size < 1 ||
    size > MAX_FILE_SIZE
  ) {
    const shown = typeof size === 'number' ? String(size) : typeName(size);
    throw new FormatError(
      `An attachment's size is an integer from 1 to ${MAX_FILE_SIZE} bytes, not ${shown}`,
    );
  }
  return size;
}

/**
 * The UTF-8 of a valid file name; FormatError otherwise.
 * @param {unknown} name
 * @returns {Uint8Array}
 */
function checkName(name) {
  if (typeof name !== 'string') {
    throw new FormatError(`The file name must be a string, not ${typeName(name)}`);
  }
  if (LONE_SURROGATE.test(name)) throw new FormatError('The file name is not valid Unicode');
  const encoded = encoder.encode(name);
  if (encoded.length < 1 || encoded.length > MAX_NAME) {
    throw new FormatError(
      `A file name is 1 to ${MAX_NAME} bytes of UTF-8 (got ${encoded.length})`,
    );
  }
  if (NAME_FORBIDDEN.test(name) || name === '.' || name === '..') {
    throw new FormatError('A file name holds no control character, slash or backslash');
  }
  return encoded;
}

/**
 * The ASCII of a valid media type; FormatError otherwise.
 * @param {unknown} type
 * @returns {Uint8Array}
 */
function checkType(type) {
  if (typeof type !== 'string') {
    throw new FormatError(`The media type must be a string, not ${typeName(type)}`);
  }
  if (type.length > MAX_TYPE || !TYPE.test(type)) {
    throw new FormatError(
      `Not a media type in lower case (type/subtype): ${JSON.stringify(type.slice(0, MAX_TYPE))}`,
    );
  }
  return encoder.encode(type);
}

/**
 * @param {Reader} reader
 * @returns {string}
 */
function readName(reader) {
  const raw = reader.take(reader.take(1)[0]);
  let name;
  try {
    name = decoder.decode(raw);
  } catch {
    throw new FormatError('The file name is not valid UTF-8');
  }
  checkName(name);
  return name;
}

/**
 * @param {Reader} reader
 * @returns {string}
 */
function readType(reader) {
  const raw = reader.take(reader.take(1)[0]);
  if (raw.some((byte) => byte > 0x7f)) throw new FormatError('The media type is not ASCII');
  const type = String.fromCharCode(...raw);
  checkType(type);
  return type;
}

/**
 * The exact length of the stream that carries a file of `size` bytes (1 or more):
 * `554 + size + 17 * ceil(size / 65536)`. FormatError for any other size.
 * @param {number} size
 * @returns {number}
 */
export function attachmentCiphertextSize(size) {
  checkSize(size);
  const chunks = Math.ceil(size / ATTACHMENT_CHUNK);
  return PREFIX + size + chunks * ABYTES;
}

// --- the reference a message carries ---------------------------------------------------------

/**
 * What a message says of one attachment: where the server keeps it (`attachmentId`, 16
 * bytes), the key that opens it, the digest of its stream, and the file's size, name and
 * media type. The key is held like every secret of this package: it never shows in
 * `toString`, `JSON.stringify` or inspection (nor does the file's name), and `wipe()`
 * zeroes it. The constructor checks every field (FormatError).
 */
export class AttachmentReference extends Secret {
  /**
   * @param {{attachmentId: Uint8Array | string, key: Uint8Array, digest: Uint8Array,
   *   size: number, name: string, type: string}} fields the id is 16 bytes or a UUID string;
   *   the key and the digest 32 bytes each (copied)
   */
  constructor({ attachmentId, key, digest, size, name, type }) {
    const id = coerceId(attachmentId, 'The attachment id');
    const secret = requireBytes(key, 'The file key');
    try {
      const hash = requireBytes(digest, 'The digest');
      if (secret.length !== KEY_SIZE || hash.length !== HASH_SIZE) {
        throw new FormatError('A file key and a digest are 32 bytes each');
      }
      checkSize(size);
      checkName(name);
      checkType(type);
      super({ key: secret });
      /** @readonly */ this.attachmentId = id;
      /** @readonly */ this.digest = hash;
      /** @readonly */ this.size = size;
      /** @readonly */ this.name = name;
      /** @readonly */ this.type = type;
      Object.freeze(this);
    } catch (error) {
      wipeBytes(secret);
      throw error;
    }
  }

  /** The file key (a copy, 32 bytes). Treat it as a secret: never log it. */
  get key() {
    return fieldsOf(this).key.slice();
  }

  /** The attachment id as a UUID string. */
  get attachmentUuid() {
    return idToUuid(this.attachmentId);
  }

  /** The length of the stream the server holds for it. */
  get streamSize() {
    return attachmentCiphertextSize(this.size);
  }

  /**
   * `attachment_id(16) || file_key(32) || digest(32) || u64(size) || u8(len(name)) || name
   * || u8(len(type)) || type`: the reference as message content carries it.
   * @returns {Uint8Array}
   */
  toBytes() {
    const { key } = fieldsOf(this);
    const name = checkName(this.name);
    const type = checkType(this.type);
    return concat(
      this.attachmentId,
      key,
      this.digest,
      u64(this.size),
      Uint8Array.of(name.length),
      name,
      Uint8Array.of(type.length),
      type,
    );
  }

  /**
   * The next reference of `reader` (FormatError for a malformed one).
   * @param {Reader} reader
   * @returns {AttachmentReference}
   */
  static read(reader) {
    const attachmentId = reader.take(ID_SIZE);
    const key = reader.take(KEY_SIZE);
    try {
      const digest = reader.take(HASH_SIZE);
      const size = checkSize(reader.takeU64());
      const name = readName(reader);
      const type = readType(reader);
      return new AttachmentReference({ attachmentId, key, digest, size, name, type });
    } finally {
      wipeBytes(key);
    }
  }

  /**
   * Whether `other` is a reference with the same fields, key included (constant time).
   * @param {unknown} other
   * @returns {boolean}
   */
  equals(other) {
    if (!(other instanceof AttachmentReference)) return false;
    const mine = this.toBytes();
    const theirs = other.toBytes();
    try {
      return equalBytes(mine, theirs);
    } finally {
      wipeBytes(mine, theirs);
    }
  }

  /** @protected */
  _publicRepr() {
    return `id=${this.attachmentUuid}, size=${this.size}, type=${this.type}`;
  }
}

// --- message content -------------------------------------------------------------------------

/** What a message says: its text, and the files it presents (none for a text message). */
export class MessageContent {
  /**
   * @param {{text: string, attachments?: Iterable<AttachmentReference>}} fields
   */
  constructor({ text, attachments = [] }) {
    if (typeof text !== 'string') {
      throw new FormatError(`The text must be a string, not ${typeName(text)}`);
    }
    if (
      attachments === null ||
      typeof attachments !== 'object' ||
      !(Symbol.iterator in attachments)
    ) {
      throw new FormatError(`The attachments must be a list, not ${typeName(attachments)}`);
    }
    const list = Array.from(attachments);
    for (const reference of list) requireType(reference, AttachmentReference, 'An attachment');
    /** @readonly */ this.text = text;
    /** @readonly @type {readonly AttachmentReference[]} */
    this.attachments = Object.freeze(list);
    Object.freeze(this);
  }
}

/**
 * @param {readonly AttachmentReference[]} attachments
 * @returns {boolean}
 */
function distinct(attachments) {
  return new Set(attachments.map((reference) => toHex(reference.attachmentId))).size ===
    attachments.length;
}

/**
 * A message's plaintext: the text as UTF-8 when it presents no file; otherwise
 * `0xFF || 0x01 || u32(len(text)) || text || u8(count) || references`.
 *
 * FormatError for text with a lone surrogate, more than {@link MAX_ATTACHMENTS}
 * attachments or one presented twice.
 * @param {MessageContent} content
 * @returns {Uint8Array}
 */
export function encodeContent(content) {
  requireType(content, MessageContent, 'The content');
  const { text } = content;
  if (typeof text !== 'string') {
    throw new FormatError(`The text must be a string, not ${typeName(text)}`);
  }
  if (LONE_SURROGATE.test(text)) {
    throw new FormatError('The text is not valid Unicode (it contains a lone surrogate)');
  }
  const encoded = encoder.encode(text);
  const attachments = Array.from(content.attachments);
  if (attachments.length === 0) return encoded;
  if (attachments.length > MAX_ATTACHMENTS) {
    throw new FormatError(`A message presents at most ${MAX_ATTACHMENTS} attachments`);
  }
  for (const reference of attachments) requireType(reference, AttachmentReference, 'An attachment');
  if (!distinct(attachments)) throw new FormatError('A message presents each attachment once');
  const references = attachments.map((reference) => reference.toBytes());
  try {
    return concat(
      Uint8Array.of(CONTENT_MARK, CONTENT_VERSION),
      u32(encoded.length),
      encoded,
      Uint8Array.of(attachments.length),
      ...references,
    );
  } finally {
    wipeBytes(...references);
  }
}

/**
 * @param {Uint8Array} data
 * @param {string} what
 * @returns {string}
 */
function utf8(data, what) {
  try {
    return decoder.decode(data);
  } catch {
    throw new FormatError(`${what} is not valid UTF-8 text`);
  }
}

/**
 * The content of an opened message's plaintext ({@link encodeContent}).
 *
 * Throws FormatError for text that is not UTF-8 and for any malformed content;
 * UnsupportedVersionError for a content version this implementation does not know.
 * @param {Uint8Array} plaintext
 * @returns {MessageContent}
 */
export function decodeContent(plaintext) {
  const data = requireBytes(plaintext, 'The plaintext');
  if (data.length === 0 || data[0] !== CONTENT_MARK) {
    return new MessageContent({ text: utf8(data, 'The message plaintext') });
  }
  if (data.length < 2) throw new FormatError('The message content is truncated');
  if (data[1] !== CONTENT_VERSION) {
    const found = data[1].toString(16).padStart(2, '0');
    throw new UnsupportedVersionError(`Unsupported message content version 0x${found}`);
  }
  const reader = new Reader(data.subarray(2));
  const text = utf8(reader.take(reader.takeU32()), 'The message text');
  const count = reader.take(1)[0];
  if (count < 1 || count > MAX_ATTACHMENTS) {
    throw new FormatError(
      `A message presents 1 to ${MAX_ATTACHMENTS} attachments (got ${count})`,
    );
  }
  /** @type {AttachmentReference[]} */
  const attachments = [];
  try {
    for (let i = 0; i < count; i += 1) attachments.push(AttachmentReference.read(reader));
    if (reader.rest().length) {
      throw new FormatError('The message content has bytes after its last attachment');
    }
    if (!distinct(attachments)) throw new FormatError('A message presents each attachment once');
  } catch (error) {
    for (const reference of attachments) reference.wipe();
    throw error;
  } finally {
    wipeBytes(data);
  }
  return new MessageContent({ text, attachments });
}

// --- sealing ---------------------------------------------------------------------------------

/**
 * The metadata chunk's plaintext: 512 bytes.
 * @param {number} size
 * @param {Uint8Array} name
 * @param {Uint8Array} type
 * @returns {Uint8Array}
 */
function metadata(size, name, type) {
  const meta = new Uint8Array(META);
  meta[0] = ATTACHMENT_VERSION;
  meta.set(u64(size), 1);
  meta[9] = name.length;
  meta.set(name, 10);
  meta[10 + name.length] = type.length;
  meta.set(type, 11 + name.length);
  return meta;
}

/**
 * Encrypts one file of a known size as its bytes come: `start()` gives the stream's first
 * bytes, `push()` each next piece of the file (exactly {@link ATTACHMENT_CHUNK} bytes,
 * fewer only for the last), and once the last is pushed, `reference()` names the stream
 * for the message that presents it. The file key never shows in `toString`,
 * `JSON.stringify` or inspection; `wipe()` zeroes it.
 *
 * The constructor checks the size, the name and the type (FormatError) before it draws
 * the file key and then the secretstream header.
 */
export class AttachmentSealer extends Secret {
  /** @type {number} */
  #size;
  /** @type {string} */
  #name;
  /** @type {string} */
  #type;
  /** @type {HeldState} */
  #stream;
  /** @type {Uint8Array | null} */
  #first;
  /** @type {AttachmentDigestHasher} */
  #hasher;
  #started = false;
  #pushed = 0;
  /** @type {Uint8Array | null} */
  #digest = null;

  /**
   * @param {number} size the file's length in bytes, 1 to {@link MAX_FILE_SIZE}
   * @param {string} name the file's name
   * @param {string} type its media type, lower case `type/subtype`
   */
  constructor(size, name, type) {
    checkSize(size);
    const nameBytes = checkName(name);
    const typeBytes = checkType(type);
    const key = randomBytes(KEY_SIZE);
    let header;
    try {
      header = randomBytes(HEADER);
    } catch (error) {
      wipeBytes(key);
      throw error;
    }
    super({ key });
    this.#size = size;
    this.#name = name;
    this.#type = type;
    this.#stream = heldStream(this);
    this.#stream.state = streamState(header, key);
    const meta = metadata(size, nameBytes, typeBytes);
    this.#first = concat(
      Uint8Array.of(ATTACHMENT_VERSION),
      header,
      streamPush(this.#stream.state, meta, TAG_MESSAGE),
    );
    this.#hasher = attachmentDigestHasher();
    Object.freeze(this);
  }

  /** @protected */
  _publicRepr() {
    return `size=${this.#size}, pushed=${this.#pushed}`;
  }

  /** The length of the whole stream. */
  get streamSize() {
    return attachmentCiphertextSize(this.#size);
  }

  /**
   * The stream's version, header and metadata chunk (554 bytes). Once only.
   * @returns {Uint8Array}
   */
  start() {
    fieldsOf(this);
    if (this.#started || this.#first === null) {
      throw new FormatError('The stream was already started');
    }
    this.#started = true;
    const first = this.#first;
    this.#first = null;
    this.#hasher.update(first);
    return first;
  }

  /**
   * The stream's next chunk, of the file's next {@link ATTACHMENT_CHUNK} bytes (the
   * remainder, for the last). FormatError before `start()`, after the last piece, and for a
   * piece of another length.
   * @param {Uint8Array} piece
   * @returns {Uint8Array}
   */
  push(piece) {
    const data = bytesOf(piece, 'A piece of the file');
    fieldsOf(this);
    if (!this.#started) throw new FormatError('Start the stream before pushing to it');
    const left = this.#size - this.#pushed;
    const state = this.#stream.state;
    if (left === 0 || state === null) {
      throw new FormatError('The whole file was already pushed');
    }
    const expected = Math.min(ATTACHMENT_CHUNK, left);
    if (data.length !== expected) {
      throw new FormatError(`This piece of the file is ${expected} bytes (got ${data.length})`);
    }
    const final = this.#pushed + data.length === this.#size;
    const chunk = streamPush(state, data, final ? TAG_FINAL : TAG_MESSAGE);
    this.#pushed += data.length;
    this.#hasher.update(chunk);
    if (final) {
      release(this.#stream);
      this.#digest = this.#hasher.digest();
    }
    return chunk;
  }

  /** The file key (a copy, 32 bytes). Treat it as a secret: never log it. */
  get key() {
    return fieldsOf(this).key.slice();
  }

  /** The stream's digest (a copy), once the whole file is pushed; FormatError before. */
  get digest() {
    if (this.#digest === null) throw new FormatError('The file is not all pushed yet');
    return this.#digest.slice();
  }

  /**
   * The reference a message carries, once the whole file is pushed, under the id the
   * server gave its upload (asked for with the stream's size, before or after sealing).
   * @param {Uint8Array | string} attachmentId 16 bytes or a UUID string
   * @returns {AttachmentReference}
   */
  reference(attachmentId) {
    if (this.#digest === null) throw new FormatError('The file is not all pushed yet');
    return new AttachmentReference({
      attachmentId: coerceId(attachmentId, 'The attachment id'),
      key: fieldsOf(this).key,
      digest: this.#digest,
      size: this.#size,
      name: this.#name,
      type: this.#type,
    });
  }

  /** Zero the file key and free the stream's state; the sealer is unusable after. */
  wipe() {
    release(this.#stream);
    abandonHasher(this.#hasher);
    super.wipe();
  }
}

/** A whole file sealed at once ({@link sealAttachment}): its stream and its sealer. */
export class SealedAttachment {
  /**
   * @param {Uint8Array} stream
   * @param {AttachmentSealer} sealer
   */
  constructor(stream, sealer) {
    /** @readonly */ this.stream = stream;
    /** @readonly */ this.sealer = requireType(sealer, AttachmentSealer, 'The sealer');
    Object.freeze(this);
  }

  /**
   * The reference a message carries, under the id the server gave the upload.
   * @param {Uint8Array | string} attachmentId
   * @returns {AttachmentReference}
   */
  reference(attachmentId) {
    return this.sealer.reference(attachmentId);
  }

  /** The stream's length and the sealer, never the stream's bytes. */
  toString() {
    return `SealedAttachment(stream=<${this.stream.length} bytes>, sealer=${this.sealer})`;
  }

  toJSON() {
    return this.toString();
  }

  [INSPECT]() {
    return this.toString();
  }
}

/**
 * The stream of a whole file held in memory ({@link AttachmentSealer} for larger ones).
 * FormatError for an empty file, a bad name or type, before anything is drawn.
 * @param {Uint8Array} data
 * @param {string} name
 * @param {string} type
 * @returns {SealedAttachment}
 */
export function sealAttachment(data, name, type) {
  const content = bytesOf(data, 'The file');
  const sealer = new AttachmentSealer(content.length, name, type);
  const stream = new Uint8Array(sealer.streamSize);
  const first = sealer.start();
  stream.set(first, 0);
  let at = first.length;
  for (let offset = 0; offset < content.length; offset += ATTACHMENT_CHUNK) {
    const chunk = sealer.push(content.subarray(offset, offset + ATTACHMENT_CHUNK));
    stream.set(chunk, at);
    at += chunk.length;
  }
  return new SealedAttachment(stream, sealer);
}

// --- opening ---------------------------------------------------------------------------------

/**
 * Opens the stream a reference names as its bytes arrive, in pieces of any size: `feed()`
 * returns the file's bytes authenticated so far (those of the chunks wholly received),
 * `finish()` checks that the stream ended where it must and is the one the message names.
 * Until `finish` returns, what was fed is not the file: a caller keeps it aside and drops
 * it on any error. Only an incomplete chunk is kept between pieces.
 *
 * Once `feed` or `finish` has thrown for anything but a truncated stream, the opener is
 * spent: every later call throws FormatError. A `finish` that finds the stream truncated
 * leaves it as it was, so more bytes can still be fed.
 */
export class AttachmentOpener {
  /** @type {AttachmentReference} */
  #reference;
  /** @type {number} */
  #expected;
  #received = 0;
  /** @type {Uint8Array | null} the incomplete unit, if any */
  #buffer = null;
  #buffered = 0;
  /** @type {AttachmentDigestHasher} */
  #hasher;
  /** @type {HeldState} */
  #stream;
  #metaRead = false;
  #opened = 0;
  #failed = false;

  /** @param {AttachmentReference} reference */
  constructor(reference) {
    this.#reference = requireType(reference, AttachmentReference, 'The reference');
    this.#expected = reference.streamSize;
    this.#hasher = attachmentDigestHasher();
    this.#stream = heldStream(this);
    Object.freeze(this);
  }

  toString() {
    return `AttachmentOpener(received=${this.#received}, of=${this.#expected})`;
  }

  toJSON() {
    return this.toString();
  }

  [INSPECT]() {
    return this.toString();
  }

  /**
   * The file's bytes in the chunks this piece completes (possibly none).
   * @param {Uint8Array} piece
   * @returns {Uint8Array}
   */
  feed(piece) {
    const data = bytesOf(piece, 'A piece of the stream');
    this.#usable();
    try {
      if (this.#received === 0 && data.length > 0 && data[0] !== ATTACHMENT_VERSION) {
        const found = data[0].toString(16).padStart(2, '0');
        throw new UnsupportedVersionError(`Unsupported attachment version 0x${found}`);
      }
      if (this.#received + data.length > this.#expected) {
        throw new FormatError(
          `The stream is longer than the ${this.#expected} bytes its file makes: ` +
            'something was added to it',
        );
      }
      const before = this.#plainBefore(this.#received);
      this.#received += data.length;
      if (data.length > 0) this.#hasher.update(data);
      const out = new Uint8Array(this.#plainBefore(this.#received) - before);
      let written = 0;
      let at = 0;
      for (;;) {
        const need = this.#nextNeed();
        if (need === 0) break;
        /** @type {Uint8Array} */
        let unit;
        if (this.#buffered === 0 && data.length - at >= need) {
          unit = data.subarray(at, at + need);
          at += need;
        } else {
          this.#buffer ??= new Uint8Array(this.#largestUnit());
          const take = Math.min(need - this.#buffered, data.length - at);
          this.#buffer.set(data.subarray(at, at + take), this.#buffered);
          this.#buffered += take;
          at += take;
          if (this.#buffered < need) break;
          unit = this.#buffer.subarray(0, need);
          this.#buffered = 0;
        }
        const plain = this.#take(unit);
        if (plain !== null) {
          out.set(plain, written);
          written += plain.length;
        }
      }
      if (at !== data.length || written !== out.length) {
        throw new FormatError('The stream does not divide into its chunks');
      }
      if (this.#nextNeed() === 0) this.#buffer = null;
      return out;
    } catch (error) {
      this.#abandon();
      throw error;
    }
  }

  /**
   * Checks that the whole stream arrived (FormatError) and is the one the message names
   * (BindingError).
   */
  finish() {
    this.#usable();
    if (this.#received < this.#expected || this.#opened < this.#reference.size) {
      throw new FormatError(
        `The stream is truncated: ${this.#received} of its ${this.#expected} bytes arrived`,
      );
    }
    if (!equalBytes(this.#hasher.digest(), this.#reference.digest)) {
      this.#abandon();
      throw new BindingError('The stream is not the one its message names (its digest differs)');
    }
  }

  #usable() {
    if (this.#failed) {
      throw new FormatError(
        'This attachment already failed to open; start again with a new opener',
      );
    }
  }

  #abandon() {
    this.#failed = true;
    release(this.#stream);
    abandonHasher(this.#hasher);
    this.#buffer = null;
    this.#buffered = 0;
  }

  /** The size of the largest unit this stream is read in. */
  #largestUnit() {
    const data = Math.min(ATTACHMENT_CHUNK, this.#reference.size) + ABYTES;
    return Math.max(1 + HEADER, META + ABYTES, data);
  }

  /**
   * The file's bytes in the chunks that end within the stream's first `received` bytes.
   * @param {number} received
   */
  #plainBefore(received) {
    if (received === this.#expected) return this.#reference.size;
    if (received < PREFIX) return 0;
    const chunks = Math.floor((received - PREFIX) / FULL_CHUNK);
    return Math.min(chunks * ATTACHMENT_CHUNK, this.#reference.size);
  }

  /** The length of the next unit: version and header, the metadata, or a data chunk. */
  #nextNeed() {
    if (this.#stream.state === null && !this.#metaRead) return 1 + HEADER;
    if (!this.#metaRead) return META + ABYTES;
    const left = this.#reference.size - this.#opened;
    return left ? Math.min(ATTACHMENT_CHUNK, left) + ABYTES : 0;
  }

  /**
   * Open one unit; the file's bytes it holds, or null for the header and metadata.
   * @param {Uint8Array} unit
   * @returns {Uint8Array | null}
   */
  #take(unit) {
    const state = this.#stream.state;
    if (state === null) {
      this.#stream.state = streamState(unit.subarray(1), fieldsOf(this.#reference).key);
      return null;
    }
    const { message, tag } = streamPull(state, unit);
    if (!this.#metaRead) {
      this.#metaRead = true;
      if (tag !== TAG_MESSAGE) {
        throw new FormatError("The attachment's metadata chunk is tagged as its end");
      }
      this.#checkMeta(message);
      return null;
    }
    this.#opened += message.length;
    const last = this.#opened === this.#reference.size;
    if (tag !== (last ? TAG_FINAL : TAG_MESSAGE)) {
      throw new FormatError(
        last
          ? "The attachment's last chunk is not marked final"
          : "The attachment's stream ends early",
      );
    }
    if (last) release(this.#stream);
    return message;
  }

  /** @param {Uint8Array} meta */
  #checkMeta(meta) {
    if (meta[0] !== ATTACHMENT_VERSION) {
      const found = meta[0].toString(16).padStart(2, '0');
      throw new UnsupportedVersionError(`Unsupported attachment metadata version 0x${found}`);
    }
    const reader = new Reader(meta.subarray(1));
    const size = reader.takeU64();
    const name = readName(reader);
    const type = readType(reader);
    if (reader.rest().some((byte) => byte !== 0)) {
      throw new FormatError("The attachment's metadata has non-zero padding");
    }
    const reference = this.#reference;
    if (size !== reference.size || name !== reference.name || type !== reference.type) {
      throw new BindingError(
        "The attachment's own name, type or size is not what its message says",
      );
    }
  }
}

/**
 * The file of a whole stream, checked against the reference its message carries.
 *
 * Checks, in this order: an empty stream (FormatError) and its version
 * (UnsupportedVersionError); its length for the reference's size (FormatError); then each
 * chunk as {@link AttachmentOpener} does, and the digest (BindingError).
 * @param {Uint8Array} stream
 * @param {AttachmentReference} reference
 * @returns {Uint8Array}
 */
export function openAttachment(stream, reference) {
  const data = bytesOf(stream, 'The stream');
  if (data.length === 0) throw new FormatError("The attachment's stream is empty");
  if (data[0] !== ATTACHMENT_VERSION) {
    const found = data[0].toString(16).padStart(2, '0');
    throw new UnsupportedVersionError(`Unsupported attachment version 0x${found}`);
  }
  requireType(reference, AttachmentReference, 'The reference');
  if (data.length !== reference.streamSize) {
    throw new FormatError(
      `The stream is ${data.length} bytes, not the ${reference.streamSize} its file makes`,
    );
  }
  const opener = new AttachmentOpener(reference);
  const plain = opener.feed(data);
  try {
    opener.finish();
  } catch (error) {
    wipeBytes(plain);
    throw error;
  }
  return plain;
}
