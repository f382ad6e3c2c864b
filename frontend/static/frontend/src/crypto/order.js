/**
 * What a conversation's held messages say about their own order (crypto/SPEC.md, "Order");
 * the twin of crypto/order.py.
 *
 * The server numbers a conversation's messages; nothing it signs says that the numbers are
 * honest. A version-2 message carries its sender's own order, signed: the sending session
 * (`chain`), that session's counter, the sender's clock, and the reference of the newest
 * message the sender held. {@link checkOrder} reads the messages a client holds, in the
 * server's order, and reports what that order hides:
 *
 * - `missing`: a session's counter skips (`first` to `last` never arrived, written between
 *   `after` and `before` by the sender's clock);
 * - `out_of_order`: a message written before one the server numbered ahead of it;
 * - `repeated`: a second, different message in one session's place;
 * - `unseen`: a message that answers one the reader never received.
 *
 * A message withheld at the very end of a session, with nothing after it that names it, is
 * not detectable until the session sends again.
 *
 * @module
 */

import { equalBytes, requireLength, requireType, toHex } from './_fields.js';
import { HASH_SIZE } from './_primitives.js';
import { FormatError } from './errors.js';
import { MessageOrder } from './message.js';

export const NOTICE_KINDS = Object.freeze(['missing', 'out_of_order', 'repeated', 'unseen']);

/**
 * One held message: its number, its sender's user id, its reference, and its order.
 *
 * `order` is the order of a version-2 message whose signature verified under its sender's
 * identity (it need not have decrypted); null for a version-1 message or one that did not
 * verify. `reference` is {@link messageReference} of the bytes held, whatever they are.
 */
export class OrderEntry {
  /**
   * @param {{seq: number, sender: number, reference: Uint8Array, order?: MessageOrder|null}} fields
   */
  constructor({ seq, sender, reference, order = null }) {
    /** @readonly */ this.seq = seq;
    /** @readonly */ this.sender = sender;
    /** @readonly */ this.reference = reference;
    /** @readonly */ this.order = order;
    Object.freeze(this);
  }
}

/**
 * Something the held messages' own order says the server's order hides; the fields are
 * those of crypto/order.py's OrderNotice (times in milliseconds by the sender's clock).
 */
export class OrderNotice {
  /**
   * @param {{kind: string, seq: number, sender: number, chain: Uint8Array|null,
   *          first: number|null, last: number|null, after: number|null,
   *          before: number|null}} fields
   */
  constructor({ kind, seq, sender, chain, first, last, after, before }) {
    /** @readonly */ this.kind = kind;
    /** @readonly */ this.seq = seq;
    /** @readonly */ this.sender = sender;
    /** @readonly */ this.chain = chain;
    /** @readonly */ this.first = first;
    /** @readonly */ this.last = last;
    /** @readonly */ this.after = after;
    /** @readonly */ this.before = before;
    Object.freeze(this);
  }
}

const NO_PREVIOUS_HEX = '00'.repeat(HASH_SIZE);

/**
 * @param {unknown} value
 * @param {string} name
 */
function checkPositive(value, name) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new FormatError(`An entry's ${name} must be a positive integer, not ${String(value)}`);
  }
}

/**
 * @param {readonly OrderEntry[]} entries
 * @param {boolean} fromStart
 */
function checkEntries(entries, fromStart) {
  if (!Array.isArray(entries)) throw new FormatError('The entries must be an array');
  entries.forEach((entry, index) => {
    requireType(entry, OrderEntry, 'An order entry');
    checkPositive(entry.seq, 'seq');
    checkPositive(entry.sender, 'sender');
    requireLength(entry.reference, HASH_SIZE, "An entry's reference");
    if (entry.order !== null) requireType(entry.order, MessageOrder, "An entry's order");
    if (index && entry.seq !== entries[index - 1].seq + 1) {
      throw new FormatError(
        `The entries must be consecutive messages: ${entry.seq} follows ${entries[index - 1].seq}`,
      );
    }
  });
  if (fromStart && entries.length && entries[0].seq !== 1) {
    throw new FormatError(`Entries from the start begin at 1, not ${entries[0].seq}`);
  }
}

/**
 * @param {string} kind
 * @param {OrderEntry} entry
 */
function noticeOf(kind, entry) {
  const { order } = entry;
  return new OrderNotice({
    kind,
    seq: entry.seq,
    sender: entry.sender,
    chain: order ? order.chain : null,
    first: order ? order.counter : null,
    last: order ? order.counter : null,
    after: null,
    before: order ? order.sentAt : null,
  });
}

/**
 * @param {number} sender
 * @param {Uint8Array} chain
 * @param {OrderEntry[]} messages one session's messages, in the server's order
 * @param {boolean} fromStart
 * @param {Set<number>} outOfOrder seqs already given an out_of_order notice
 */
function sessionNotices(sender, chain, messages, fromStart, outOfOrder) {
  const notices = [];
  /** @type {Map<number, OrderEntry>} */
  const firstAt = new Map();
  let highest = 0;
  for (const entry of messages) {
    const counter = /** @type {MessageOrder} */ (entry.order).counter;
    const earlier = firstAt.get(counter);
    if (earlier !== undefined) {
      if (!equalBytes(earlier.reference, entry.reference)) notices.push(noticeOf('repeated', entry));
      continue;
    }
    firstAt.set(counter, entry);
    if (counter < highest) {
      outOfOrder.add(entry.seq);
      notices.push(noticeOf('out_of_order', entry));
    }
    highest = Math.max(highest, counter);
  }
  const counters = [...firstAt.keys()].sort((a, b) => a - b);
  let previous = fromStart ? 0 : counters[0] - 1;
  for (const counter of counters) {
    if (counter > previous + 1) {
      const shown = /** @type {OrderEntry} */ (firstAt.get(counter));
      const beforeGap = firstAt.get(previous);
      notices.push(
        new OrderNotice({
          kind: 'missing',
          seq: shown.seq,
          sender,
          chain,
          first: previous + 1,
          last: counter - 1,
          after: beforeGap ? /** @type {MessageOrder} */ (beforeGap.order).sentAt : null,
          before: /** @type {MessageOrder} */ (shown.order).sentAt,
        }),
      );
    }
    previous = counter;
  }
  return notices;
}

/**
 * @param {Uint8Array|null} a
 * @param {Uint8Array|null} b
 */
function compareBytes(a, b) {
  const x = a ?? new Uint8Array(0);
  const y = b ?? new Uint8Array(0);
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/**
 * The notices for consecutive held messages, in the server's order.
 *
 * `entries` are consecutive messages (`seq` n, n + 1, ...); `fromStart` says that they
 * begin at the conversation's first message, so that nothing before them can hold what
 * they refer to. Returns the notices sorted by `seq`, then by kind in the order of
 * `NOTICE_KINDS`, then by sender, chain and counter. Throws FormatError for entries that
 * are not consecutive or not well formed, or for `fromStart` with entries that do not
 * begin at 1.
 * @param {readonly OrderEntry[]} entries
 * @param {boolean} fromStart
 * @returns {OrderNotice[]}
 */
export function checkOrder(entries, fromStart) {
  if (typeof fromStart !== 'boolean') {
    throw new FormatError(`fromStart must be true or false, not ${String(fromStart)}`);
  }
  checkEntries(entries, fromStart);
  /** @type {OrderNotice[]} */
  const notices = [];
  /** @type {Map<string, number>} */
  const seqOfReference = new Map();
  for (const entry of entries) {
    const key = toHex(entry.reference);
    if (!seqOfReference.has(key)) seqOfReference.set(key, entry.seq);
  }
  /** @type {Map<string, {sender: number, chain: Uint8Array, messages: OrderEntry[]}>} */
  const sessions = new Map();
  for (const entry of entries) {
    if (entry.order === null) continue;
    const key = `${entry.sender}/${toHex(entry.order.chain)}`;
    let session = sessions.get(key);
    if (!session) {
      session = { sender: entry.sender, chain: entry.order.chain, messages: [] };
      sessions.set(key, session);
    }
    session.messages.push(entry);
  }
  /** @type {Set<number>} */
  const outOfOrder = new Set();
  for (const { sender, chain, messages } of sessions.values()) {
    notices.push(...sessionNotices(sender, chain, messages, fromStart, outOfOrder));
  }
  for (const entry of entries) {
    const { order } = entry;
    if (order === null) continue;
    const previous = toHex(order.previous);
    if (previous === NO_PREVIOUS_HEX) continue;
    const seenAt = seqOfReference.get(previous);
    if (seenAt === undefined) {
      if (fromStart) notices.push(noticeOf('unseen', entry));
    } else if (seenAt > entry.seq && !outOfOrder.has(seenAt)) {
      outOfOrder.add(seenAt);
      notices.push(noticeOf('out_of_order', entries[seenAt - entries[0].seq]));
    }
  }
  return notices.sort(
    (a, b) =>
      a.seq - b.seq ||
      NOTICE_KINDS.indexOf(a.kind) - NOTICE_KINDS.indexOf(b.kind) ||
      a.sender - b.sender ||
      compareBytes(a.chain, b.chain) ||
      (a.first ?? 0) - (b.first ?? 0),
  );
}
