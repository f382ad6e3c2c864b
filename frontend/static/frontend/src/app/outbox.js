/**
 * The outbox: every sent message that the server has not yet acknowledged.
 *
 * An entry is resent with the same client message id and the same sealed bytes after a
 * reconnect, a timeout or a retryable error, until its `ack` arrives; the server stores a
 * resend once (docs/protocol.md, "Delivery guarantees"). Entries are mirrored to a Storage
 * (sessionStorage in the page) so that a reload resends them too.
 *
 * What is stored is exactly the frame the server will see anyway: conversation id, client
 * message id, epoch and ciphertext (base64url), plus the time it was queued. Never the
 * plaintext, never a key; `load` refuses any other field.
 *
 * @module
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;
const STORED_FIELDS = ['clientMessageId', 'conversation', 'createdAt', 'epoch', 'ciphertext'];

/**
 * @typedef {object} OutboxEntry
 * @property {string} conversation
 * @property {string} clientMessageId
 * @property {number} epoch
 * @property {string} ciphertext base64url sealed message
 * @property {string} createdAt ISO time it was queued
 * @property {'queued'|'sending'|'failed'} state
 * @property {number} attempts sends since the last reseal or retry
 * @property {string|null} error the last error code, if any
 * @property {number} [reseals] times re-sealed after `stale_epoch` (delivery.js caps them)
 */

/**
 * @typedef {object} StorageLike
 * @property {(key: string) => string|null} getItem
 * @property {(key: string, value: string) => void} setItem
 * @property {(key: string) => void} removeItem
 */

/**
 * Whether `value` is a well-formed stored entry, with exactly the stored fields.
 * @param {unknown} value
 * @returns {boolean}
 */
export function isStoredEntry(value) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = /** @type {Record<string, unknown>} */ (value);
  const keys = Object.keys(record).sort();
  if (keys.join() !== [...STORED_FIELDS].sort().join()) return false;
  return (
    typeof record.conversation === 'string' &&
    UUID.test(record.conversation) &&
    typeof record.clientMessageId === 'string' &&
    UUID.test(record.clientMessageId) &&
    Number.isInteger(record.epoch) &&
    /** @type {number} */ (record.epoch) >= 0 &&
    typeof record.ciphertext === 'string' &&
    B64URL.test(record.ciphertext) &&
    typeof record.createdAt === 'string' &&
    !Number.isNaN(Date.parse(record.createdAt))
  );
}

export class Outbox {
  /** @type {Map<string, OutboxEntry>} */
  #entries = new Map();
  /** @type {StorageLike|null} */
  #storage;
  /** @type {string} */
  #key;

  /**
   * @param {StorageLike|null} storage where to mirror the entries (null: memory only)
   * @param {string} key the storage key, one per signed-in user
   */
  constructor(storage, key) {
    this.#storage = storage;
    this.#key = key;
  }

  /**
   * Restore the entries a previous page of this tab left, oldest first. Malformed
   * records are dropped (they could not have been written by this code).
   * @returns {OutboxEntry[]}
   */
  load() {
    let records = [];
    try {
      const text = this.#storage?.getItem(this.#key);
      const parsed = text ? JSON.parse(text) : [];
      records = Array.isArray(parsed) ? parsed : [];
    } catch {
      records = [];
    }
    for (const record of records) {
      if (!isStoredEntry(record) || this.#entries.has(record.clientMessageId)) continue;
      this.#entries.set(record.clientMessageId, {
        ...record,
        state: 'queued',
        attempts: 0,
        error: null,
      });
    }
    this.#save();
    return this.entries();
  }

  /**
   * Queue a sealed message.
   * @param {{conversation: string, clientMessageId: string, epoch: number, ciphertext: string}} message
   * @param {Date} [now]
   * @returns {OutboxEntry}
   */
  add(message, now = new Date()) {
    const entry = /** @type {OutboxEntry} */ ({
      conversation: message.conversation,
      clientMessageId: message.clientMessageId,
      epoch: message.epoch,
      ciphertext: message.ciphertext,
      createdAt: now.toISOString(),
      state: 'queued',
      attempts: 0,
      error: null,
    });
    const { state, attempts, error, ...stored } = entry;
    if (!isStoredEntry(stored)) throw new TypeError('Not a well-formed outbox entry');
    if (this.#entries.has(entry.clientMessageId)) {
      throw new Error('A client message id must not be reused');
    }
    this.#entries.set(entry.clientMessageId, entry);
    this.#save();
    return entry;
  }

  /**
   * @param {string} clientMessageId
   * @returns {OutboxEntry|undefined}
   */
  get(clientMessageId) {
    return this.#entries.get(clientMessageId);
  }

  /** @param {string} clientMessageId */
  has(clientMessageId) {
    return this.#entries.has(clientMessageId);
  }

  /**
   * The entries, oldest first; only one conversation's when it is given.
   * @param {string} [conversation]
   * @returns {OutboxEntry[]}
   */
  entries(conversation) {
    const all = [...this.#entries.values()];
    return conversation === undefined ? all : all.filter((e) => e.conversation === conversation);
  }

  get size() {
    return this.#entries.size;
  }

  /**
   * A send of this entry is under way.
   * @param {string} clientMessageId
   */
  markSending(clientMessageId) {
    const entry = this.#entries.get(clientMessageId);
    if (!entry) return undefined;
    entry.state = 'sending';
    entry.attempts += 1;
    return entry;
  }

  /**
   * Waiting for a connection (or for a retry timer).
   * @param {string} clientMessageId
   * @param {string|null} [error]
   */
  markQueued(clientMessageId, error = null) {
    const entry = this.#entries.get(clientMessageId);
    if (!entry) return undefined;
    entry.state = 'queued';
    entry.error = error;
    return entry;
  }

  /**
   * Not resent automatically any more: the person decides (retry).
   * @param {string} clientMessageId
   * @param {string} error
   */
  markFailed(clientMessageId, error) {
    const entry = this.#entries.get(clientMessageId);
    if (!entry) return undefined;
    entry.state = 'failed';
    entry.error = error;
    return entry;
  }

  /**
   * The person asked to try again: the entry is queued with a fresh attempt count.
   * @param {string} clientMessageId
   */
  retry(clientMessageId) {
    const entry = this.#entries.get(clientMessageId);
    if (!entry) return undefined;
    entry.state = 'queued';
    entry.attempts = 0;
    entry.error = null;
    return entry;
  }

  /**
   * New sealed bytes for the same message id (after `stale_epoch`).
   * @param {string} clientMessageId
   * @param {number} epoch
   * @param {string} ciphertext
   */
  reseal(clientMessageId, epoch, ciphertext) {
    const entry = this.#entries.get(clientMessageId);
    if (!entry) return undefined;
    entry.epoch = epoch;
    entry.ciphertext = ciphertext;
    entry.attempts = 0;
    entry.state = 'queued';
    this.#save();
    return entry;
  }

  /**
   * The server stored the message: forget it. Returns the entry, or undefined when it was
   * not (or no longer) here, so a second ack is harmless.
   * @param {string} clientMessageId
   * @returns {OutboxEntry|undefined}
   */
  acknowledge(clientMessageId) {
    const entry = this.#entries.get(clientMessageId);
    if (!entry) return undefined;
    this.#entries.delete(clientMessageId);
    this.#save();
    return entry;
  }

  /**
   * Forget an entry without an ack (the person discarded a failed message).
   * @param {string} clientMessageId
   */
  discard(clientMessageId) {
    return this.acknowledge(clientMessageId);
  }

  /** Forget everything, here and in storage (sign-out); nothing is stored after this. */
  clear() {
    this.#entries.clear();
    try {
      this.#storage?.removeItem(this.#key);
    } catch {
      // Storage may be unavailable (private mode); memory is cleared regardless.
    }
    this.#storage = null;
  }

  #save() {
    if (!this.#storage) return;
    const records = [...this.#entries.values()].map((entry) => ({
      conversation: entry.conversation,
      clientMessageId: entry.clientMessageId,
      epoch: entry.epoch,
      ciphertext: entry.ciphertext,
      createdAt: entry.createdAt,
    }));
    try {
      if (records.length) this.#storage.setItem(this.#key, JSON.stringify(records));
      else this.#storage.removeItem(this.#key);
    } catch {
      // A full or disabled storage only loses the reload guarantee; memory still resends.
    }
  }
}
