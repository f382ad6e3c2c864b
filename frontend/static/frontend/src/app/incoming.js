/**
 * Stored messages on their way into the timelines (the browser's twin of
 * confide_client/inbox.py): live pushes, sync pages and history pages, opened against the
 * sender's identity and held by sequence number. A pushed number beyond the next expected
 * one means a push was lost, so a `sync` fetches what lies between; a replay is held but
 * never shown twice (timeline.js).
 *
 * Incoming work runs one item at a time, in the order it arrived (a promise chain), so a
 * timeline never sees two changes at once and an `epoch` event is handled before the
 * messages that follow it.
 *
 * A message of this person's own, pushed or in a page, is only a message here: it never
 * settles the outbox, which only its `ack` does (delivery.js).
 *
 * A server restored from a backup has lost the messages stored after the backup, and
 * numbers anew from there (docs/protocol.md, "Restores"; the Python client's
 * `ConfideClient._restored` is the twin of `#restoredPoint` and `#restored`). A sync page
 * shows it: the `ready` announced a new database generation and the page's `restored_at`
 * is below what this browser holds, or the page lists fewer messages than held (a restore
 * nobody announced). The conversation is then followed again from that number (its
 * timeline rewound: nothing shown disappears or shows twice), this person's own lost
 * messages go again (delivery.js, `reupload`) if the members' keys are still those they
 * were written to, and the conversation says so. A server can claim a restore it never
 * had: nothing of this gives it a message sealed to a key it put in a member's place, nor
 * a message written in an epoch it brings back (epochs.js, `writesRefused`).
 *
 * @module
 */

import * as api from './api.js';
import { identitiesOf } from './conversations.js';
import { MissingKeyError, attachmentsOf, isCryptoError, recipientsOf, textOf } from './keys.js';
import { historyFrame, syncFrame } from './frames.js';
import { SocketError } from './socket.js';

export const HISTORY_PAGE = 50;
/** A listing younger than this is not fetched again at the socket's first connect (ms). */
export const LISTING_FRESH_MS = 10_000;

/** @typedef {import('./conversations.js').Conversation} Conversation */
/** @typedef {import('./timeline.js').HeldMessage} HeldMessage */

export class Incoming {
  /** @type {Promise<unknown>} */
  #queue = Promise.resolve();
  /** The database generation the last `ready` announced (null: none yet, or none named). */
  /** @type {string|null} */
  #generation = null;
  /** The generation every held conversation was last fully synced under. */
  /** @type {string|null} */
  #checkedGeneration = null;
  /** The conversations checked for a restore since the generation changed. */
  /** @type {Set<string>} */
  #restoreChecked = new Set();

  /**
   * @param {{me: any, keys: import('./keys.js').Keys, socket: import('./socket.js').Socket,
   *          conversations: import('./conversations.js').ConversationList,
   *          emit: import('./conversations.js').Emit,
   *          ownStored?: (clientMessageId: string) => void,
   *          reupload?: (conversation: Conversation, messages: {clientMessageId: string,
   *            epoch: number, ciphertext: string, text: string,
   *            attachments?: import('./keys.js').AttachmentReference[], writtenTo?: string}[],
   *            rolledBackTo: number|null) => {resent: number, keysChanged: number}}} options
   *   `ownStored` hears of each of this person's messages that opened in a timeline: it
   *   is stored, whatever the outbox still thinks. `reupload` sends this person's own
   *   messages a restore of the server lost again, and answers how many go and how many
   *   do not because the members' keys are no longer those they were written to.
   */
  constructor({ me, keys, socket, conversations, emit, ownStored, reupload }) {
    this.me = me;
    this.keys = keys;
    this.socket = socket;
    this.conversations = conversations;
    this.emit = emit;
    this.ownStored = ownStored ?? (() => undefined);
    this.reupload = reupload ?? (() => ({ resent: 0, keysChanged: 0 }));
  }

  /**
   * The server's `ready`: the database generation it names. A new one means the database
   * may have been restored: each held conversation is checked once against its sync page.
   * @param {unknown} generation
   */
  ready(generation) {
    if (typeof generation !== 'string' || generation === this.#generation) return;
    this.#generation = generation;
    this.#restoreChecked.clear();
  }

  /**
   * Run `work` after every earlier incoming work item.
   * @template T
   * @param {() => Promise<T>} work
   * @returns {Promise<T>}
   */
  enqueue(work) {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * A `message` pushed by the server.
   * @param {any} frame
   */
  push(frame) {
    return this.enqueue(() => this.#accept(frame, true));
  }

  /**
   * Start holding a conversation: its newest page of history, then whatever follows.
   * @param {Conversation} conversation
   */
  async open(conversation) {
    if (this.socket.connected) await this.enqueue(() => this.#loadNewest(conversation));
  }

  /**
   * Load the page before the oldest message held. Resolves to whether more may follow.
   * @param {Conversation} conversation
   */
  async loadOlder(conversation) {
    const timeline = conversation.timeline;
    if (!timeline || timeline.complete || conversation.loading) return false;
    if (!this.socket.connected) return true;
    conversation.loading = true;
    try {
      const reply = await this.socket.request(
        historyFrame(conversation.id, {
          before: timeline.low || conversation.lastSeq + 1,
          limit: HISTORY_PAGE,
        }),
      );
      if (this.#erased(conversation, reply)) return false;
      await this.enqueue(() => this.#acceptPage(conversation, reply.messages, false));
      if (!reply.has_more) timeline.complete = true;
    } finally {
      conversation.loading = false;
      this.emit('timeline', { conversation: conversation.id });
    }
    return !timeline.complete;
  }

  /**
   * After every (re)connect: list again, fill empty timelines, then catch up on the rest.
   * At the socket's first connect, a listing that arrived moments before (the sign-in's)
   * is not fetched again: what changed in between is what a lost event would be, caught
   * up by the sync below, the next message, or the next reconnect's listing.
   * @param {{first?: boolean}} [options]
   */
  catchUp({ first = false } = {}) {
    return this.enqueue(async () => {
      try {
        if (!(first && (await this.conversations.listedWithin(LISTING_FRESH_MS)))) {
          await this.conversations.refreshAll();
        }
      } catch {
        // The list is refreshed again at the next reconnect.
      }
      for (const conversation of this.conversations.byId.values()) {
        if (conversation.timeline && conversation.timeline.size === 0) {
          await this.#loadNewest(conversation);
        }
      }
      await this.#syncHeld();
    });
  }

  /** The periodic catch-up: events are not guaranteed (docs/protocol.md). */
  syncHeld() {
    return this.enqueue(() => this.#syncHeld());
  }

  /**
   * One of this person's messages, known stored from its `ack`, with the text this tab
   * sealed: held now, so it does not wait for its push.
   * @param {Conversation} conversation
   * @param {HeldMessage} message
   */
  holdOwn(conversation, message) {
    const timeline = conversation.timeline;
    if (!timeline || timeline.has(message.seq)) return;
    const skipped = timeline.wouldSkip(message.seq);
    timeline.add(message);
    if (skipped) this.enqueue(() => this.#sync([conversation]));
  }

  /** @param {Conversation} conversation */
  async #loadNewest(conversation) {
    const timeline = conversation.timeline;
    if (!timeline || conversation.loading || !this.socket.connected) return;
    conversation.loading = true;
    try {
      const reply = await this.socket.request(historyFrame(conversation.id, { limit: HISTORY_PAGE }));
      if (this.#erased(conversation, reply)) return;
      await this.#acceptPage(conversation, reply.messages, false);
      if (!reply.has_more) timeline.complete = true;
    } catch (error) {
      if (!(error instanceof SocketError)) throw error;
    } finally {
      conversation.loading = false;
      this.emit('timeline', { conversation: conversation.id });
    }
  }

  /**
   * Sync every conversation whose timeline is held, from what it holds. Once that is done
   * on one connection, every conversation held was checked against its generation.
   */
  async #syncHeld() {
    const connection = this.socket.connections;
    const held = [...this.conversations.byId.values()].filter((c) => c.timeline);
    const done = held.length ? await this.#sync(held) : this.socket.connected;
    if (done && this.socket.connected && connection === this.socket.connections) {
      this.#checkedGeneration = this.#generation;
      this.#restoreChecked.clear();
    }
  }

  /**
   * Ask for what follows the held position, page after page, until nothing more follows.
   * Resolves to whether it got that far.
   * @param {Conversation[]} targets
   * @returns {Promise<boolean>}
   */
  async #sync(targets) {
    let pending = targets;
    while (pending.length && this.socket.connected) {
      /** @type {Record<string, number>} */
      const after = {};
      for (const conversation of pending) {
        after[conversation.id] = conversation.timeline?.position ?? conversation.lastSeq;
      }
      let reply;
      try {
        reply = await this.socket.request(syncFrame(after));
      } catch (error) {
        if (error instanceof SocketError && error.code === 'not_found') {
          await this.conversations.refreshAll();
          pending = pending.filter((c) => this.conversations.byId.has(c.id));
          continue;
        }
        return false; // lost connection or timeout: the next connection syncs again
      }
      const more = [];
      for (const page of reply.conversations ?? []) {
        const conversation = this.conversations.get(page.conversation);
        if (!conversation || this.#erased(conversation, page)) continue;
        const restored = this.#restoredPoint(conversation, page, after[page.conversation]);
        if (restored !== null) {
          await this.#restored(conversation, restored.at, restored.announced);
          more.push(conversation); // again, from the number it went back to
          continue;
        }
        conversation.lastSeq = Math.max(conversation.lastSeq, page.last_seq);
        await this.#acceptPage(conversation, page.messages, true);
        if (page.has_more) more.push(conversation);
      }
      pending = more;
    }
    return pending.length === 0;
  }

  /**
   * Whether a page says the conversation is being erased or was erased (`status`): then it
   * holds no message and none will come; what this browser held of it goes too, and the
   * view says so, rather than show part of a history.
   * @param {Conversation} conversation
   * @param {any} page a history reply or a sync page
   */
  #erased(conversation, page) {
    if (page?.status !== 'erasing' && page?.status !== 'erased') return false;
    this.conversations.noteStatus(conversation.id, page.status, null);
    return true;
  }

  /**
   * Whether a sync page shows that the server lost messages this browser holds, and the
   * number it went back to. A server that announced a new database generation says where
   * each conversation was restored to (`restored_at`, checked once per conversation after
   * the change): what is held above it was numbered before, and is lost there even if new
   * messages took its numbers. A page whose last number is below what is held shows a
   * restore whatever the server announced.
   * @param {Conversation} conversation
   * @param {any} page
   * @param {number|undefined} asked the number this browser held and asked after
   * @returns {{at: number, announced: boolean}|null}
   */
  #restoredPoint(conversation, page, asked) {
    if (!conversation.timeline || !Number.isInteger(asked)) return null;
    const held = /** @type {number} */ (asked);
    const changed =
      this.#checkedGeneration !== null &&
      this.#checkedGeneration !== this.#generation &&
      !this.#restoreChecked.has(conversation.id);
    if (changed) {
      this.#restoreChecked.add(conversation.id);
      if (Number.isInteger(page.restored_at) && held > page.restored_at) {
        return { at: page.restored_at, announced: true };
      }
    }
    if (Number.isInteger(page.last_seq) && held > page.last_seq) return { at: page.last_seq, announced: changed };
    return null;
  }

  /**
   * The server lost this conversation's messages above `restoredAt`: follow it again from
   * there, keeping on screen what was shown; send this person's own lost messages again;
   * say so in the conversation.
   * @param {Conversation} conversation
   * @param {number} restoredAt
   * @param {boolean} announced
   */
  async #restored(conversation, restoredAt, announced) {
    const timeline = /** @type {import('./timeline.js').Timeline} */ (conversation.timeline);
    const gone = timeline.rewind(restoredAt);
    conversation.lastSeq = restoredAt;
    conversation.countedSeq = Math.min(conversation.countedSeq, restoredAt);
    conversation.lastReadSeq = Math.min(conversation.lastReadSeq, restoredAt);
    // Its epochs may have gone back too: only now may the listing name an older one.
    let rolledBackTo = null;
    try {
      rolledBackTo = await this.conversations.refreshAfterRestore(conversation.id);
    } catch {
      // Listed again at the next reconnect; an older epoch is then not believed.
    }
    /** @type {Set<string>} */
    const lost = new Set();
    /** @type {Map<string, HeldMessage>} */
    const own = new Map();
    let theirs = 0;
    for (const message of gone) {
      const key = message.text === null ? `#${message.seq}` : message.clientMessageId;
      if (lost.has(key) || (message.text !== null && timeline.seqOf(key) !== undefined)) continue;
      lost.add(key);
      if (message.sender !== this.me.id) theirs += 1;
      else if (message.text !== null) own.set(key, message);
    }
    const again = [...own.values()].filter((message) => message.ciphertext !== undefined);
    // Each with the keys it was written to: it goes again only to the very same ones.
    const { resent, keysChanged } = this.reupload(
      conversation,
      again.map((message) => ({
        clientMessageId: message.clientMessageId,
        epoch: message.epoch,
        ciphertext: /** @type {string} */ (message.ciphertext),
        text: /** @type {string} */ (message.text),
        attachments: message.attachments,
        writtenTo: message.writtenTo,
      })),
      rolledBackTo,
    );
    conversation.restore = {
      restoredAt,
      lost: lost.size,
      theirs,
      resent,
      notResent: own.size - again.length,
      keysChanged,
      announced,
    };
    this.emit('restored', { conversation: conversation.id });
    this.emit('timeline', { conversation: conversation.id });
    this.emit('conversations');
  }

  /**
   * @param {Conversation} conversation
   * @param {any[]} messages
   * @param {boolean} fresh whether these may be new to the person (sync) or old (history)
   */
  async #acceptPage(conversation, messages, fresh) {
    for (const raw of messages ?? []) {
      if (raw.conversation !== conversation.id) continue;
      await this.#accept(raw, fresh, false);
    }
    this.emit('timeline', { conversation: conversation.id });
  }

  /**
   * One stored message, from a push, a sync or a history page.
   * @param {any} raw
   * @param {boolean} fresh
   * @param {boolean} [notify]
   */
  async #accept(raw, fresh, notify = true) {
    let conversation = this.conversations.get(raw.conversation);
    if (!conversation) {
      // A conversation that began after the last listing (a client accepted an invitation).
      await this.conversations.refreshAll();
      conversation = this.conversations.get(raw.conversation);
      if (!conversation) return;
    }
    const isNewest = this.conversations.noteStored(conversation, raw.seq, raw.epoch, raw.sent_at, raw.sender);
    const mine = raw.sender === this.me.id;
    const timeline = conversation.timeline;
    if (!timeline) {
      if (fresh && !mine && raw.seq > conversation.lastReadSeq && isNewest) {
        conversation.unread += 1;
      }
      this.emit('conversations');
      return;
    }
    if (timeline.has(raw.seq)) return;
    const skipped = notify && timeline.wouldSkip(raw.seq);
    const message = await this.#open(conversation, raw);
    timeline.add(message);
    if (mine && message.text !== null) this.ownStored(message.clientMessageId);
    if (timeline.isReplay(raw.seq)) {
      // A genuine message again under another number: held so the number is no gap,
      // never shown twice, never announced.
      if (skipped) await this.#sync([conversation]);
      return;
    }
    if (fresh && !mine && raw.seq > conversation.lastReadSeq) {
      conversation.unread = Math.max(conversation.unread, 0) + 1;
      this.emit('conversations');
    }
    if (notify) {
      this.emit('timeline', { conversation: conversation.id });
      if (!mine) this.emit('incoming', { conversation: conversation.id, message });
    }
    if (skipped) {
      // A number was skipped: the push of the one between was lost. Fetch it.
      await this.#sync([conversation]);
    }
  }

  /**
   * The order of a message that did not open, if its signature verifies under `sender`.
   * @param {Conversation} conversation
   * @param {import('./conversations.js').Member|undefined} sender
   * @param {any} raw
   */
  #verifiedOrder(conversation, sender, raw) {
    if (!sender) return null;
    return this.keys.verifiedOrder(
      raw.ciphertext,
      identitiesOf(sender),
      conversation.id,
      raw.epoch,
      raw.client_message_id,
    );
  }

  /**
   * Verify and open; a message that does not is held with its problem, never its bytes.
   * @param {Conversation} conversation
   * @param {any} raw
   * @returns {Promise<HeldMessage>}
   */
  async #open(conversation, raw) {
    const base = {
      seq: raw.seq,
      sender: raw.sender,
      clientMessageId: raw.client_message_id,
      epoch: raw.epoch,
      sentAt: raw.sent_at,
      ...this.keys.orderFacts(raw.ciphertext, false),
    };
    /** @type {import('./conversations.js').Member|undefined} */
    let sender;
    try {
      sender = conversation.members.get(raw.sender);
      if (!sender || !this.keys.hasKey(conversation.id, raw.epoch)) {
        conversation = await this.conversations.refresh(conversation.id);
        sender = conversation.members.get(raw.sender);
      }
      if (!sender) return { ...base, text: null, problem: 'unknown sender' };
      // Its text, and the files it presents, if any (crypto/SPEC.md, "Message content").
      const content = this.keys.openContentFromAny(
        raw.ciphertext,
        identitiesOf(sender),
        conversation.id,
        raw.epoch,
        raw.client_message_id,
      );
      const text = textOf(content);
      const files = attachmentsOf(content);
      const attachments = files.length ? { attachments: files } : {};
      const order = this.keys.orderOf(raw.ciphertext);
      // The key whose signature verified, for an export (crypto/SPEC.md, "Exports").
      const signer = this.keys.signerOf(raw.ciphertext);
      // This person's own bytes are kept (timeline.js caps them), with the keys of the
      // members now: after a restore of the server they go again, the same bytes, to the
      // same keys only.
      if (raw.sender === this.me.id) {
        // Not while a member's key differs from the one this person saw before and the
        // change is not dealt with: the members now cannot vouch for who it was written to.
        const writtenTo = conversation.identityChanged ? undefined : recipientsOf(conversation.members.values());
        return { ...base, text, ...attachments, problem: null, order, signer, ciphertext: raw.ciphertext, writtenTo };
      }
      return { ...base, text, ...attachments, problem: null, order, signer };
    } catch (error) {
      if (error instanceof MissingKeyError) {
        // Without the key it cannot be read, but its signature still vouches for its order.
        return { ...base, text: null, problem: 'no key', order: this.#verifiedOrder(conversation, sender, raw) };
      }
      if (isCryptoError(error)) {
        // Its signature may still verify (only the decryption failed): its order counts.
        const order = this.#verifiedOrder(conversation, sender, raw);
        return { ...base, text: null, problem: /** @type {Error} */ (error).name, order };
      }
      if (error instanceof api.ApiError) return { ...base, text: null, problem: error.code };
      throw error;
    }
  }
}
