/**
 * Files sent with a message (crypto/SPEC.md, "Attachments"; docs/protocol.md,
 * "Attachments"): what the page decides about a file (whether it may be attached, its name
 * and type as the format takes them, whether it is shown inline), the upload of one file
 * sealed as it is read, and the download of one opened as it arrives.
 *
 * An upload never holds the whole stream: the file is read 64 KiB at a time
 * (`file.slice`), each piece sealed, and the stream cut into parts of the server's
 * `part_size` (1 MiB), each sent as soon as it is full and then dropped. A part that does
 * not get through (the connection dropped) is sent again after a growing pause, unless
 * asking the server (`GET /api/attachments/<id>`) shows it arrived after all; once the
 * last part is in, the upload is completed with the stream's digest. A download keeps the
 * opened file's bytes only, not the stream, goes on from the byte it reached
 * (`Range: bytes=N-`) after a dropped connection, and none of it is the file until the
 * whole stream was checked against the digest its message names.
 *
 * @module
 */

import { ApiError, answerOf, get, post, putBytes } from './api.js';
import { backoffDelay } from './backoff.js';
import {
  ATTACHMENT_CHUNK,
  AttachmentOpening,
  AttachmentSealing,
  MAX_ATTACHMENTS,
  describeAttachment,
  isCryptoError,
} from './keys.js';
import { RESEND } from './protocol.js';

export { ATTACHMENT_CHUNK, MAX_ATTACHMENTS };

/** Images shown in the conversation once opened (never SVG, which can hold script). */
export const PREVIEW_TYPES = Object.freeze(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
/** The largest image downloaded and shown without being asked. */
export const PREVIEW_MAX_BYTES = 10 * 1024 * 1024;
/** Tries of one request before an upload or a download gives up (about 4 minutes). */
export const MAX_TRIES = 12;
/** What a person is told of a stream that does not open as the message names it. */
// The file is read this much at a time (a whole number of the format's chunks).
const READ_BYTES = 16 * ATTACHMENT_CHUNK;
// A download's opened bytes are handed to a Blob each time this much has come.
const FOLD_BYTES = 4 * 1024 * 1024;

export const UNREADABLE_TEXT = 'This file could not be opened: it was changed or is not the one the message named.';

/** A media type as the format takes it (crypto/SPEC.md, "Attachments"). */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/;
/** Characters a file name may not hold: control characters, DEL, slash and backslash. */
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f/\\]/g;
const MAX_NAME_BYTES = 255;
/** Types a browser may not give, by the name's ending (a phone's photo, a form). */
const TYPE_BY_ENDING = /** @type {Record<string, string>} */ ({
  pdf: 'application/pdf',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  txt: 'text/plain',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  odt: 'application/vnd.oasis.opendocument.text',
});
/** After these an upload begins again as a new attachment: its stored parts cannot change. */
const BEGIN_AGAIN = new Set(['part_conflict', 'digest_mismatch', 'attachment_incomplete']);

/** The stream did not open as the message names it (altered, cut, or another file's). */
export class UnreadableAttachmentError extends Error {
  constructor() {
    super(UNREADABLE_TEXT);
    this.name = 'UnreadableAttachmentError';
  }
}

/** The file could not be read from the device (moved, changed or deleted meanwhile). */
export class FileUnreadableError extends Error {
  /** @param {string} name */
  constructor(name) {
    super(`“${name}” could not be read from this device: it may have been moved or changed. Attach it again.`);
    this.name = 'FileUnreadableError';
  }
}

// --- what the page decides ------------------------------------------------------------

/**
 * A size as people read it: "1 byte", "740 bytes", "12 KB", "2.5 MB".
 * @param {number} bytes
 */
export function formatSize(bytes) {
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${shown} ${units[unit]}`;
}

/**
 * A file's name as the format takes it: no control character, slash or backslash (each
 * becomes `_`), neither `.` nor `..`, at most 255 bytes of UTF-8 (shortened before its
 * ending, which is kept).
 * @param {string} name
 */
export function attachmentName(name) {
  let clean = (name || '').normalize('NFC').replace(NAME_FORBIDDEN, '_').trim();
  if (!clean || clean === '.' || clean === '..') clean = 'file';
  if (utf8Length(clean) <= MAX_NAME_BYTES) return clean;
  const dot = clean.lastIndexOf('.');
  const ending = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : '';
  let stem = [...clean.slice(0, clean.length - ending.length)];
  while (stem.length && utf8Length(stem.join('') + ending) > MAX_NAME_BYTES) stem.pop();
  return stem.join('') + ending;
}

/** @param {string} text */
function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

/**
 * A file's media type as the format takes it: the browser's, in lower case without
 * parameters; else one known by the name's ending; else `application/octet-stream`.
 * @param {{name: string, type: string}} file
 */
export function attachmentType(file) {
  const given = (file.type || '').split(';')[0].trim().toLowerCase();
  if (MEDIA_TYPE.test(given)) return given;
  const ending = /\.([A-Za-z0-9]+)$/.exec(file.name || '')?.[1]?.toLowerCase() ?? '';
  return TYPE_BY_ENDING[ending] ?? 'application/octet-stream';
}

/**
 * Why a file chosen to attach is refused before anything is sent, or null: an empty file,
 * one over the limit the server gave (`maxBytes`, when known), or one more than a message
 * carries.
 * @param {{name: string, size: number}} file
 * @param {{maxBytes?: number|null, attached?: number}} [context]
 * @returns {string|null}
 */
export function refusalOf(file, { maxBytes = null, attached = 0 } = {}) {
  if (file.size === 0) return `“${file.name}” is empty, so it was not attached.`;
  if (maxBytes !== null && file.size > maxBytes) {
    return `“${file.name}” is ${formatSize(file.size)}: a file can be at most ${formatSize(maxBytes)}, so it was not attached.`;
  }
  if (attached >= MAX_ATTACHMENTS) return `A message can carry at most ${MAX_ATTACHMENTS} files: “${file.name}” was not attached.`;
  return null;
}

/**
 * Whether a file is an image shown inline, downloaded and opened without being asked:
 * JPEG, PNG, GIF or WebP (never SVG) of at most 10 MiB.
 * @param {{type: string, size: number}} file
 */
export function shownInline(file) {
  return PREVIEW_TYPES.includes(file.type) && file.size <= PREVIEW_MAX_BYTES;
}

/**
 * A message's text as an export holds it (crypto/SPEC.md, "Exports": a message has text):
 * its words, then one line "Attachment: <name> (<size>)" for each file it presents.
 * @param {string} text
 * @param {{name: string, size: number}[]} files
 */
export function exportedText(text, files) {
  const lines = files.map((file) => `Attachment: ${file.name} (${formatSize(file.size)})`);
  return [text, ...lines].filter((line, index) => index > 0 || line !== '').join('\n');
}

/**
 * The files of a message as the page shows them (no key).
 * @param {import('./keys.js').AttachmentReference[]|undefined} references
 */
export function filesOf(references) {
  return (references ?? []).map((reference) => ({ ...describeAttachment(reference), reference }));
}

// --- the parts of an upload -------------------------------------------------------------

/**
 * Cuts a stream written piece by piece into numbered parts of `partSize` bytes (the last
 * one the rest), each given out as soon as it is full: only one part is ever held.
 */
export class PartCutter {
  /** @param {number} partSize */
  constructor(partSize) {
    if (!Number.isInteger(partSize) || partSize < 1) throw new RangeError('A part has a size');
    this.partSize = partSize;
    this.next = 0;
    this.#part = new Uint8Array(partSize);
    this.#filled = 0;
  }

  /** @type {Uint8Array} */
  #part;
  /** @type {number} */
  #filled;

  /**
   * The stream's next bytes: the parts they fill.
   * @param {Uint8Array} bytes
   * @returns {{number: number, bytes: Uint8Array}[]}
   */
  push(bytes) {
    const full = [];
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(this.partSize - this.#filled, bytes.length - offset);
      this.#part.set(bytes.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled === this.partSize) {
        full.push({ number: this.next, bytes: this.#part });
        this.next += 1;
        this.#part = new Uint8Array(this.partSize);
        this.#filled = 0;
      }
    }
    return full;
  }

  /**
   * The stream ended: its last part, shorter than the others, if one is begun.
   * @returns {{number: number, bytes: Uint8Array}|null}
   */
  finish() {
    if (this.#filled === 0) return null;
    const last = { number: this.next, bytes: this.#part.slice(0, this.#filled) };
    this.next += 1;
    this.#filled = 0;
    return last;
  }
}

/**
 * How many parts a stream of `streamSize` bytes makes.
 * @param {number} streamSize
 * @param {number} partSize
 */
export function partCount(streamSize, partSize) {
  return Math.ceil(streamSize / partSize);
}

/**
 * The parts an upload as the server describes it still lacks, in order: what a resumed
 * upload sends.
 * @param {{parts: number, stored: number[]}} attachment
 * @returns {number[]}
 */
export function missingParts(attachment) {
  const stored = new Set(attachment.stored);
  return Array.from({ length: attachment.parts }, (_, n) => n).filter((n) => !stored.has(n));
}

/**
 * Whether a failed request may be tried again: no answer (the connection dropped), or an
 * answer the protocol says to send again after (`RESEND`).
 * @param {unknown} error
 */
export function worthRetrying(error) {
  if (error instanceof ApiError) return error.code === 'network' || RESEND.has(error.code);
  // A body that stopped coming (fetch's reader) is a TypeError.
  return error instanceof TypeError;
}

/**
 * Wait `ms`, or less if `signal` aborts (then rejects with its reason).
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/**
 * @typedef {object} Http the API as an upload uses it (api.js; a stand-in in tests)
 * @property {(path: string, options?: {signal?: AbortSignal}) => Promise<any>} get
 * @property {(path: string, body: unknown, options?: {signal?: AbortSignal}) => Promise<any>} post
 * @property {(path: string, bytes: Uint8Array, options?: {signal?: AbortSignal}) => Promise<any>} putBytes
 */

/**
 * @typedef {object} Progress
 * @property {number} done bytes of the stream sent or received
 * @property {number} total bytes of the whole stream
 * @property {boolean} retrying whether the connection dropped and it is tried again
 */

/**
 * @typedef {object} UploadOptions
 * @property {string} conversation
 * @property {Blob} file
 * @property {string} name as the format takes it (`attachmentName`)
 * @property {string} type as the format takes it (`attachmentType`)
 * @property {AbortSignal} [signal] stops it (rejecting with the signal's reason)
 * @property {(progress: Progress) => void} [onProgress]
 * @property {Http} [http]
 * @property {(ms: number, signal?: AbortSignal) => Promise<void>} [wait]
 */

/** @type {Http} */
const API = { get, post, putBytes };

/**
 * Seal and upload one file; resolves to the reference the message that presents it
 * carries. Rejects with the server's ApiError for a refusal (`attachment_too_large` with
 * `max_bytes`, `quota_exceeded`, ...; nothing was stored), a FileUnreadableError, or the
 * signal's reason when it is aborted.
 * @param {UploadOptions} options
 * @returns {Promise<import('./keys.js').AttachmentReference>}
 */
export async function uploadAttachment(options) {
  try {
    return await uploadOnce(options);
  } catch (error) {
    // Stored parts cannot be replaced: a new upload, once, of a new sealing of the file.
    if (!(error instanceof ApiError) || !BEGIN_AGAIN.has(error.code)) throw error;
    return uploadOnce(options);
  }
}

/** @param {UploadOptions} options */
async function uploadOnce(options) {
  const sealing = new AttachmentSealing(options.file.size, options.name, options.type);
  try {
    return await sealAndSend(sealing, options);
  } finally {
    // The reference holds its own copy of the key.
    sealing.wipe();
  }
}

/**
 * @param {AttachmentSealing} sealing
 * @param {UploadOptions} options
 */
async function sealAndSend(sealing, { conversation, file, name, signal, onProgress, http = API, wait = pause }) {
  const total = sealing.streamSize;
  const report = (/** @type {number} */ done, retrying = false) => onProgress?.({ done, total, retrying });
  report(0);
  const begun = await persist(
    () => http.post(`/api/conversations/${encodeURIComponent(conversation)}/attachments`, { size: total }, { signal }),
    { signal, wait, onRetry: () => report(0, true) },
  );
  const upload = begun.attachment;
  const path = `/api/attachments/${encodeURIComponent(upload.id)}`;
  const cutter = new PartCutter(upload.part_size);
  let sent = 0;
  /** @param {{number: number, bytes: Uint8Array}} part */
  const send = async (part) => {
    await sendPart(http, path, part, { signal, wait, onRetry: () => report(sent, true) });
    sent += part.bytes.length;
    report(sent);
  };
  // One part on its way while the next is read and sealed: at most two parts held.
  /** @type {Promise<void>} */
  let inflight = Promise.resolve();
  /** @param {{number: number, bytes: Uint8Array}} part */
  const enqueue = async (part) => {
    await inflight;
    inflight = send(part);
    inflight.catch(() => {}); // awaited by the next part or at the end
  };
  for (const part of cutter.push(sealing.start())) await enqueue(part);
  for (let start = 0; start < file.size; start += READ_BYTES) {
    signal?.throwIfAborted();
    const stop = Math.min(file.size, start + READ_BYTES);
    let read;
    try {
      read = new Uint8Array(await file.slice(start, stop).arrayBuffer());
    } catch {
      throw new FileUnreadableError(name);
    }
    if (read.length !== stop - start) throw new FileUnreadableError(name);
    for (let offset = 0; offset < read.length; offset += ATTACHMENT_CHUNK) {
      const piece = read.subarray(offset, offset + ATTACHMENT_CHUNK);
      for (const part of cutter.push(sealing.push(piece))) await enqueue(part);
    }
  }
  const last = cutter.finish();
  if (last) await enqueue(last);
  await inflight;
  await persist(() => http.post(`${path}/complete`, { digest: sealing.digest }, { signal }), {
    signal,
    wait,
    onRetry: () => report(sent, true),
  });
  return sealing.reference(upload.id);
}

/**
 * Send one part until it is stored: after a failure that may pass, a pause, then the
 * server is asked which parts it holds (the part may have arrived though its answer did
 * not) and the part goes again only if it is not among them.
 * @param {Http} http
 * @param {string} path the upload's
 * @param {{number: number, bytes: Uint8Array}} part
 * @param {{signal?: AbortSignal, wait: (ms: number, signal?: AbortSignal) => Promise<void>, onRetry: () => void}} how
 */
async function sendPart(http, path, part, { signal, wait, onRetry }) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await http.putBytes(`${path}/parts/${part.number}`, part.bytes, { signal });
      return;
    } catch (error) {
      if (signal?.aborted || !worthRetrying(error) || attempt + 1 >= MAX_TRIES) throw error;
    }
    onRetry();
    await wait(backoffDelay(attempt, { initial: 1000, maximum: 30_000 }), signal);
    try {
      const state = await http.get(path, { signal });
      if (!missingParts(state.attachment).includes(part.number)) return;
    } catch (error) {
      if (signal?.aborted || !worthRetrying(error)) throw error;
    }
  }
}

/**
 * A request tried again after failures that may pass, with growing pauses.
 * @template T
 * @param {() => Promise<T>} attempt
 * @param {{signal?: AbortSignal, wait: (ms: number, signal?: AbortSignal) => Promise<void>, onRetry?: () => void}} how
 * @returns {Promise<T>}
 */
async function persist(attempt, { signal, wait, onRetry }) {
  for (let tries = 0; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted || !worthRetrying(error) || tries + 1 >= MAX_TRIES) throw error;
    }
    onRetry?.();
    await wait(backoffDelay(tries, { initial: 1000, maximum: 30_000 }), signal);
  }
}

// --- downloads --------------------------------------------------------------------------

/**
 * @typedef {object} DownloadOptions
 * @property {AbortSignal} [signal]
 * @property {(progress: Progress) => void} [onProgress]
 * @property {(url: string, init: RequestInit) => Promise<Response>} [fetcher]
 * @property {(ms: number, signal?: AbortSignal) => Promise<void>} [wait]
 */

/**
 * Download and open the file a reference names. Resolves to the file's bytes, in pieces,
 * once the whole stream was checked (crypto/SPEC.md, "Attachments", a reader's steps);
 * rejects with UnreadableAttachmentError when it does not open as the message names it,
 * with an ApiError when the server refuses it or the connection stays down, or with the
 * signal's reason when aborted. A dropped connection is resumed from the byte reached.
 * The opened bytes are folded into Blobs every FOLD_BYTES as they come, so that the page
 * holds at most that much of the file in its own memory besides the Blobs it hands on;
 * none of it is the file until the whole stream was checked.
 * @param {import('./keys.js').AttachmentReference} reference
 * @param {DownloadOptions} [options]
 * @returns {Promise<BlobPart[]>} the file's bytes in order, for `new Blob(parts)`
 */
export async function downloadAttachment(reference, { signal, onProgress, fetcher = (url, init) => fetch(url, init), wait = pause } = {}) {
  const { id } = describeAttachment(reference);
  const opening = new AttachmentOpening(reference);
  const total = opening.streamSize;
  const url = `/api/attachments/${encodeURIComponent(id)}/content`;
  /** @type {BlobPart[]} */
  const parts = [];
  /** @type {Uint8Array[]} */
  let loose = [];
  let looseBytes = 0;
  let received = 0;
  let failures = 0;
  onProgress?.({ done: 0, total, retrying: false });
  while (received < total) {
    try {
      /** @type {Record<string, string>} */
      const headers = received ? { Range: `bytes=${received}-` } : {};
      let response;
      try {
        response = await fetcher(url, { headers, credentials: 'same-origin', cache: 'no-store', signal });
      } catch {
        signal?.throwIfAborted();
        throw new ApiError('network', 'The server could not be reached.', 0);
      }
      if (!response.ok) await answerOf(response, signal);
      if (!response.body) throw new ApiError('network', 'The download had no body.', 0);
      // Asked for the rest, sent the whole: what was received already is skipped.
      let skip = received && response.status === 200 ? received : 0;
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let bytes = value;
        if (skip) {
          const dropped = Math.min(skip, bytes.length);
          bytes = bytes.subarray(dropped);
          skip -= dropped;
          if (!bytes.length) continue;
        }
        const plain = opening.feed(bytes);
        received += bytes.length;
        if (plain.length) {
          loose.push(plain);
          looseBytes += plain.length;
          if (looseBytes >= FOLD_BYTES) {
            parts.push(new Blob(loose));
            loose = [];
            looseBytes = 0;
          }
        }
        failures = 0;
        onProgress?.({ done: received, total, retrying: false });
      }
      if (received < total) throw new ApiError('network', 'The download stopped before its end.', 0);
    } catch (error) {
      signal?.throwIfAborted();
      if (isCryptoError(error)) throw new UnreadableAttachmentError();
      // A stream shorter than its file makes: the server has less than the message names.
      if (error instanceof ApiError && error.code === 'range_not_satisfiable') throw new UnreadableAttachmentError();
      if (!worthRetrying(error) || failures + 1 >= MAX_TRIES) throw error;
      failures += 1;
      onProgress?.({ done: received, total, retrying: true });
      await wait(backoffDelay(failures - 1, { initial: 1000, maximum: 30_000 }), signal);
    }
  }
  try {
    opening.finish();
  } catch (error) {
    if (isCryptoError(error)) throw new UnreadableAttachmentError();
    throw error;
  }
  return [...parts, ...loose];
}

/**
 * What a person is told when an upload stopped (not for a cancel).
 * @param {unknown} error
 * @param {string} name the file's
 */
export function uploadFailureText(error, name) {
  if (error instanceof FileUnreadableError) return error.message;
  if (error instanceof ApiError) {
    switch (error.code) {
      case 'attachment_too_large': {
        const max = Number(error.data.max_bytes);
        return Number.isFinite(max)
          ? `“${name}” is too large: a file can be at most ${formatSize(max)}. Remove it to send the rest.`
          : `“${name}” is too large to send. ${error.message}`;
      }
      case 'quota_exceeded':
        return `“${name}” was not sent: the practice has no room left for files. ${error.message} Ask the practice to make room.`;
      case 'conversation_closed':
        return 'Not sent: the conversation is read-only.';
      case 'agreement_required':
        return 'Not sent: accept the messaging agreement first.';
      case 'network':
        return `“${name}” could not be uploaded: the connection was lost. Your message and files are still here: send again when you are back online.`;
      default:
        return `“${name}” could not be uploaded (${error.message}). Your message and files are still here: try again.`;
    }
  }
  if (isCryptoError(error)) return `“${name}” cannot be sent: ${/** @type {Error} */ (error).message}.`;
  return `“${name}” could not be uploaded. Your message and files are still here: try again.`;
}

/**
 * What a person is told when a download stopped (not for a cancel).
 * @param {unknown} error
 */
export function downloadFailureText(error) {
  if (error instanceof UnreadableAttachmentError) return UNREADABLE_TEXT;
  if (error instanceof ApiError && error.code === 'not_found') return 'This file is no longer on the server.';
  if (error instanceof ApiError && (error.code === 'network' || RESEND.has(error.code))) {
    return 'The file could not be downloaded: the connection was lost. Try again when you are back online.';
  }
  return 'The file could not be downloaded. Try again.';
}
