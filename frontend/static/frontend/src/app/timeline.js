/**
 * One conversation's messages as this browser holds them, by sequence number.
 *
 * The server numbers each conversation's messages 1, 2, 3, ... without gaps. Messages
 * arrive from history pages (older, newest page first), sync pages and live pushes, in
 * any order and possibly twice; the timeline keeps each `seq` once and knows what is
 * missing: `position` is the highest number held with nothing missing below it (from the
 * oldest held), which is what `sync` asks from.
 *
 * A message is also held once per client message id. The sealed message binds its
 * conversation, epoch, sender and client message id, but not the `seq` the server gives
 * it, so a server could replay a genuine message under a new number. Among messages that
 * opened (whose id is therefore authentic) the lowest `seq` is shown and any other is a
 * replay: held, so that its number is not a gap, but never shown or counted. Messages that
 * did not open are not matched by id (theirs is unauthenticated), so a forged copy cannot
 * hide a genuine message.
 *
 * A server restored from a backup numbers anew from where it was restored to (`rewind`):
 * the messages held above that number stay shown where they were, as lost from the
 * server, and their ids stay known, so that each one uploaded again under a new number is
 * a replay, held but not shown twice.
 *
 * @module
 */

/**
 * This person's own messages that keep their sealed bytes, newest by number: what is
 * uploaded again after a restore of the server lost them.
 */
export const OWN_BYTES_KEPT = 1000;

/**
 * @typedef {object} HeldMessage
 * @property {number} seq
 * @property {number} sender user id
 * @property {string} clientMessageId
 * @property {number} epoch
 * @property {string} sentAt
 * @property {string|null} text the opened text, or null if it did not verify or open
 * @property {import('./keys.js').AttachmentReference[]} [attachments] the files an opened
 *   message presents (crypto/SPEC.md, "Message content"), when it presents any
 * @property {string|null} problem why it could not be opened
 * @property {string} [reference] the reference of its bytes (crypto/SPEC.md, "Order")
 * @property {string} [signer] the Ed25519 key (base64url) whose signature verified, on a
 *   message that opened
 * @property {import('./keys.js').HeldOrder|null} [order] its sender's order, if it is a
 *   version-2 message whose signature verified
 * @property {string} [ciphertext] its sealed bytes (base64url), kept for this person's own
 *   messages only (the newest `OWN_BYTES_KEPT` by number, and those a restore took off the
 *   server), to upload the same bytes again after a restore
 * @property {string} [writtenTo] with `ciphertext`: who it was written to, each member's
 *   id and identity fingerprint then (keys.js, `recipientsOf`); after a restore it goes
 *   again only while the members are exactly those
 * @property {{after: number, round: number}} [lost] set on a message that a restore of the
 *   server took off it: shown after the message numbered `after` now, it keeps the `seq` it
 *   had then; `round` counts the restores this timeline followed (its key in the view)
 */

/** @param {HeldMessage} a @param {HeldMessage} b */
const bySeq = (a, b) => a.seq - b.seq;

export class Timeline {
  /** @type {Map<number, HeldMessage>} */
  #messages = new Map();
  /** The lowest `seq` of each opened message's client message id. */
  /** @type {Map<string, number>} */
  #firstSeq = new Map();
  /** @type {number} */
  #low = 0;
  /** @type {number} */
  #position = 0;
  /** The messages a restore took off the server, in the order they are shown. */
  /** @type {HeldMessage[]} */
  #lost = [];
  /** The client message ids of the lost messages that opened. */
  /** @type {Set<string>} */
  #lostIds = new Set();
  /** The numbers of the held messages that keep their bytes. */
  /** @type {Set<number>} */
  #withBytes = new Set();
  #rounds = 0;
  /** Whether the oldest message (seq 1) is known to be held or there is nothing older. */
  complete = false;
  /** Bumped at every change, so that what is worked out from the messages can be kept. */
  version = 0;

  /** @param {number} seq */
  has(seq) {
    return this.#messages.has(seq);
  }

  /** @param {number} seq */
  get(seq) {
    return this.#messages.get(seq);
  }

  get size() {
    return this.#messages.size;
  }

  /** The lowest sequence number held (0 when empty). */
  get low() {
    return this.#low;
  }

  /** The highest number held with every number from `low` up to it held (0 when empty). */
  get position() {
    return this.#position;
  }

  /** The highest number held at all (0 when empty). */
  get highest() {
    let highest = 0;
    for (const seq of this.#messages.keys()) highest = Math.max(highest, seq);
    return highest;
  }

  /** Whether a message above `position` is held, so something between is missing. */
  get hasGap() {
    return this.highest > this.#position;
  }

  /**
   * Hold a message. Returns false if its `seq` is already held (nothing changes).
   * @param {HeldMessage} message
   * @returns {boolean}
   */
  add(message) {
    const { seq } = message;
    if (!Number.isInteger(seq) || seq < 1) throw new RangeError(`Invalid sequence number ${seq}`);
    if (this.#messages.has(seq)) return false;
    this.#messages.set(seq, message);
    this.version += 1;
    if (message.ciphertext !== undefined) this.#keepBytes(message);
    if (message.text !== null) {
      const first = this.#firstSeq.get(message.clientMessageId);
      if (first === undefined || seq < first) this.#firstSeq.set(message.clientMessageId, seq);
    }
    if (this.#low === 0 || seq < this.#low) {
      this.#low = seq;
      if (seq === 1) this.complete = true;
      this.#position = seq;
    }
    while (this.#messages.has(this.#position + 1)) this.#position += 1;
    return true;
  }

  /**
   * Whether a pushed message with this number leaves a hole after what is held (a sync is
   * then due). An empty timeline has no position to measure from.
   * @param {number} seq
   */
  wouldSkip(seq) {
    return this.#low !== 0 && seq > this.#position + 1;
  }

  /**
   * Whether the message held at `seq` repeats an opened message held at a lower `seq`
   * (a replay under a new number: not shown, not counted).
   * @param {number} seq
   */
  isReplay(seq) {
    const message = this.#messages.get(seq);
    if (!message || message.text === null) return false;
    const id = message.clientMessageId;
    return this.#lostIds.has(id) || this.#firstSeq.get(id) !== seq;
  }

  /**
   * Whether an opened message with this client message id is held (or shown as lost from
   * the server).
   * @param {string} clientMessageId
   */
  hasMessageId(clientMessageId) {
    return this.#firstSeq.has(clientMessageId) || this.#lostIds.has(clientMessageId);
  }

  /**
   * The number an opened message with this client message id holds now, if any (for a
   * lost one: the number it was uploaded again under).
   * @param {string} clientMessageId
   * @returns {number|undefined}
   */
  seqOf(clientMessageId) {
    return this.#firstSeq.get(clientMessageId);
  }

  /**
   * The messages to show: each `seq` once and no replay, in sequence order, with those a
   * restore took off the server where they were shown, after the number it went back to.
   */
  sorted() {
    const held = [...this.#messages.values()].filter((message) => !this.isReplay(message.seq)).sort(bySeq);
    if (!this.#lost.length) return held;
    const shown = [];
    let next = 0;
    for (const lost of this.#lost) {
      const after = /** @type {{after: number}} */ (lost.lost).after;
      while (next < held.length && held[next].seq <= after) shown.push(held[next++]);
      shown.push(lost);
    }
    return shown.concat(held.slice(next));
  }

  /**
   * Follow the conversation again from `position`: the server was restored from a backup
   * to it, and numbers what follows anew. Every message shown after it stays shown, in
   * the same place, as lost from the server; the numbers above it are free for what the
   * server holds now, and what it sends again is known by its id (a replay). Returns the
   * messages that were held above `position`, replays included, oldest first: the copies
   * the server no longer has.
   * @param {number} position
   * @returns {HeldMessage[]}
   */
  rewind(position) {
    this.#rounds += 1;
    const round = this.#rounds;
    /** @type {HeldMessage[]} */
    const lost = [];
    for (const message of this.sorted()) {
      if (message.lost) {
        lost.push(message.lost.after > position ? { ...message, lost: { after: position, round: message.lost.round } } : message);
      } else if (message.seq > position) {
        lost.push({ ...message, lost: { after: position, round } });
      }
    }
    const gone = [...this.#messages.values()].filter((message) => message.seq > position).sort(bySeq);
    for (const message of gone) {
      this.#messages.delete(message.seq);
      this.#withBytes.delete(message.seq);
    }
    this.#lost = lost;
    this.#lostIds = new Set(lost.filter((m) => m.text !== null).map((m) => m.clientMessageId));
    this.#firstSeq.clear();
    for (const message of this.#messages.values()) {
      if (message.text === null) continue;
      const first = this.#firstSeq.get(message.clientMessageId);
      if (first === undefined || message.seq < first) this.#firstSeq.set(message.clientMessageId, message.seq);
    }
    if (this.#messages.size === 0) {
      // Nothing held up to it: what follows it comes next, and nothing is older at 0.
      this.#low = position + 1;
      this.#position = position;
      if (position === 0) this.complete = true;
    } else {
      this.#position = Math.min(this.#position, position);
    }
    this.version += 1;
    return gone;
  }

  /**
   * The messages of `epoch` this browser holds, for the rotation policy: how many (only
   * those that opened or whose signature verified count, so that a message nobody signed
   * cannot make the count), the time of the oldest, and whether the epoch's start is held
   * (a message of an earlier epoch, or the conversation's first message, is held before
   * the oldest of them), so that the count is all of the epoch's.
   * @param {number} epoch
   * @returns {{count: number, oldest: string|null, fromStart: boolean}}
   */
  epochUsage(epoch) {
    let count = 0;
    /** @type {string|null} */
    let oldest = null;
    let first = 0;
    for (const message of this.#messages.values()) {
      if (message.epoch !== epoch || this.isReplay(message.seq)) continue;
      if (message.text === null && !message.order) continue;
      count += 1;
      if (oldest === null || message.sentAt < oldest) oldest = message.sentAt;
      if (first === 0 || message.seq < first) first = message.seq;
    }
    const before = this.#messages.get(first - 1);
    const fromStart =
      first === 0 ? this.complete : first === 1 || (before !== undefined && before.epoch < epoch);
    return { count, oldest, fromStart };
  }

  /**
   * What the order check reads (crypto/SPEC.md, "Order"): the consecutive messages from
   * `low` up to `position`, and whether they begin at the conversation's first message.
   * @returns {{run: {seq: number, sender: number, reference: string,
   *   order: import('./keys.js').HeldOrder|null}[], fromStart: boolean}}
   */
  orderRun() {
    const run = [];
    for (let seq = this.#low; seq !== 0 && seq <= this.#position; seq += 1) {
      const message = /** @type {HeldMessage} */ (this.#messages.get(seq));
      if (message.reference === undefined) break;
      run.push({
        seq,
        sender: message.sender,
        reference: message.reference,
        order: message.order ?? null,
      });
    }
    return { run, fromStart: this.#low === 1 };
  }

  /** The reference of the newest message held (by number), or null when none is held. */
  newestReference() {
    const newest = this.#messages.get(this.highest);
    return newest?.reference ?? null;
  }

  /**
   * Keep the bytes of this person's newest messages only (`OWN_BYTES_KEPT`).
   * @param {HeldMessage} message
   */
  #keepBytes(message) {
    this.#withBytes.add(message.seq);
    if (this.#withBytes.size <= OWN_BYTES_KEPT) return;
    const oldest = Math.min(...this.#withBytes);
    this.#withBytes.delete(oldest);
    const held = this.#messages.get(oldest);
    if (held) {
      delete held.ciphertext;
      delete held.writtenTo;
    }
  }

  /** Forget every message (sign-out). */
  clear() {
    this.version += 1;
    this.#messages.clear();
    this.#firstSeq.clear();
    this.#lost = [];
    this.#lostIds.clear();
    this.#withBytes.clear();
    this.#low = 0;
    this.#position = 0;
    this.complete = false;
  }
}
