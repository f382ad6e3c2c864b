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
 * @module
 */

/**
 * @typedef {object} HeldMessage
 * @property {number} seq
 * @property {number} sender user id
 * @property {string} clientMessageId
 * @property {number} epoch
 * @property {string} sentAt
 * @property {string|null} text the opened text, or null if it did not verify or open
 * @property {string|null} problem why it could not be opened
 * @property {string} [reference] the reference of its bytes (crypto/SPEC.md, "Order")
 * @property {import('./keys.js').HeldOrder|null} [order] its sender's order, if it is a
 *   version-2 message whose signature verified
 */

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
    return this.#firstSeq.get(message.clientMessageId) !== seq;
  }

  /**
   * Whether an opened message with this client message id is held.
   * @param {string} clientMessageId
   */
  hasMessageId(clientMessageId) {
    return this.#firstSeq.has(clientMessageId);
  }

  /** The messages to show, in sequence order: each `seq` once, and no replay. */
  sorted() {
    return [...this.#messages.values()]
      .filter((message) => !this.isReplay(message.seq))
      .sort((a, b) => a.seq - b.seq);
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

  /** Forget every message (sign-out). */
  clear() {
    this.version += 1;
    this.#messages.clear();
    this.#firstSeq.clear();
    this.#low = 0;
    this.#position = 0;
    this.complete = false;
  }
}
