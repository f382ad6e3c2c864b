/**
 * Sending: seal, queue in the outbox, send, and resend the same bytes until the server
 * acknowledges them (docs/protocol.md, "Delivery guarantees": a message is stored if and
 * only if its `ack` arrived). The browser's twin of `deliver` in confide_client/outbox.py.
 *
 * One settle rule: an entry leaves the outbox only through {@link Delivery#settle}, on its
 * `ack`, whether that is the reply to its send request or arrives after the request gave
 * up (a late ack). The person's own message pushed or synced back is only a message: it
 * goes into the timeline (incoming.js) and settles nothing, so the outbox never depends
 * on events the channel layer may drop or reorder.
 *
 * After a refusal, the protocol decides (`RESEND`, generated from protocol/errors.py): the
 * same bytes again after `retry_after_ms` when the error carries it, else after a growing
 * pause; `stale_epoch` re-seals the same text under the same id; `agreement_required` waits
 * until the person accepted the practice's messaging agreement (the page shows it), then
 * goes again; anything else is for the person to decide (Retry).
 *
 * After a restore of the server from a backup (incoming.js), this person's own messages
 * it lost go again (`reupload`): the same id and bytes, sealed again first only when
 * their epoch is above the restored server's (its key was forgotten with the epochs the
 * server lost, and its number will name a new key); and nothing is sealed in an epoch
 * begun before the restore that the server lists as current (epochs.js, `writesRefused`).
 * A lost message goes again, and is sealed again, only while the members' keys are those
 * it was written to: a server can claim a restore, and it could have put a key of its
 * own in a member's place, so nothing kept is ever sealed to another key.
 *
 * @module
 */

import { backoffDelay } from './backoff.js';
import { writesRefused } from './epochs.js';
import { attachmentsOf, messageContent, recipientsOf, textOf } from './keys.js';
import { sendFrame } from './frames.js';
import { RESEND } from './protocol.js';
import { SocketError } from './socket.js';

export const ACK_TIMEOUT_MS = 10_000;
const MAX_TIMEOUTS = 3;
const MAX_RESEALS = 3;
/** The server will never accept these bytes: a retry seals the text afresh, under a new id. */
const NEVER_ACCEPTED = new Set(['bad_ciphertext', 'client_message_id_reused']);

/**
 * @typedef {object} PendingMessage
 * @property {string} clientMessageId
 * @property {'queued'|'sending'|'failed'} state
 * @property {string|null} error
 * @property {string} createdAt
 * @property {string|null} text null when it could not be recovered after a reload
 * @property {import('./keys.js').AttachmentReference[]} [attachments] the files it presents
 */

/**
 * @typedef {object} Ack
 * @property {string} conversation
 * @property {string} client_message_id
 * @property {number} seq
 * @property {string} sent_at
 */

/** Nothing is sealed to a peer whose verified key changed, until it is compared or accepted. */
export class VerifiedKeyChangedError extends Error {
  constructor() {
    super('The key you verified changed: compare the safety number again, or accept it');
    this.name = 'VerifiedKeyChangedError';
  }
}

/**
 * A message sent again after a restore is not sealed again: the members' keys are not
 * those it was written to.
 */
export class KeysChangedSinceError extends Error {
  constructor() {
    super('The keys of the people in this conversation changed since it was written');
    this.name = 'KeysChangedSinceError';
  }
}

export class Delivery {
  /** Messages being sealed again after `stale_epoch`: in flight for the order. */
  /** @type {Set<string>} */
  #resealing = new Set();
  /**
   * Plaintext of unacknowledged messages, in memory only (never stored): the text, or the
   * text and the references of the files it presents (keys.js, `Content`).
   * @type {Map<string, import('./keys.js').Content>}
   */
  #text = new Map();
  /** Resends waiting out a pause, cleared when the session ends. */
  /** @type {Set<ReturnType<typeof setTimeout>>} */
  #timers = new Set();
  /**
   * Entries held back, by client message id: `false` while one waits out its pause,
   * `true` once it may go but an earlier entry of its conversation still waits. A
   * conversation's messages go out in the order they were written, so the server numbers
   * them in that order (a later one must not overtake one refused with `rate_limited`).
   * @type {Map<string, boolean>}
   */
  #held = new Map();
  /**
   * Entries whose bytes must not go as they are: sealed in an epoch whose key was
   * forgotten after a restore, or in an older epoch a restored server lists as current
   * (when no new epoch could begin just then). Sealed again, in a new epoch, first.
   * @type {Set<string>}
   */
  #resealFirst = new Set();
  /**
   * Who each unacknowledged message was sealed for (keys.js, `recipientsOf`), kept with
   * its bytes once it is stored (the timeline's `writtenTo`).
   * @type {Map<string, string>}
   */
  #writtenTo = new Map();
  /**
   * The messages sent again after a restore of the server: sealed again only to the keys
   * they were written to (`#writtenTo`).
   * @type {Set<string>}
   */
  #reuploaded = new Set();
  /**
   * Each conversation's last message being sealed, by conversation id: the next waits for
   * it, so that messages enter the outbox in the order they were written even when one
   * waits (for an older page, a new epoch) and one written after it would not.
   * @type {Map<string, Promise<unknown>>}
   */
  #sealing = new Map();
  #stopped = false;

  /**
   * @param {{me: any, keys: import('./keys.js').Keys, socket: import('./socket.js').Socket,
   *          outbox: import('./outbox.js').Outbox,
   *          conversations: import('./conversations.js').ConversationList,
   *          incoming: import('./incoming.js').Incoming, epochs: import('./epochs.js').Epochs,
   *          emit: import('./conversations.js').Emit}} options
   */
  constructor({ me, keys, socket, outbox, conversations, incoming, epochs, emit }) {
    this.me = me;
    this.keys = keys;
    this.socket = socket;
    this.outbox = outbox;
    this.conversations = conversations;
    this.incoming = incoming;
    this.epochs = epochs;
    this.emit = emit;
  }

  /**
   * Take up the entries a reload left in storage, with their texts: sent at once when the
   * socket is ready, or else at its `ready` (`resendWaiting`).
   */
  restore() {
    const held = new Set(this.outbox.entries().map((entry) => entry.clientMessageId));
    for (const entry of this.outbox.load()) {
      if (held.has(entry.clientMessageId)) continue;
      this.#recoverText(entry);
      if (this.socket.connected && !this.#stopped) this.#transmit(entry.clientMessageId);
    }
  }

  /**
   * Read back the texts `restore` could not: their conversation was not listed yet. Each
   * read back redraws its conversation.
   */
  readBack() {
    for (const entry of this.outbox.entries()) {
      if (this.#recoverText(entry)) this.emit('timeline', { conversation: entry.conversation });
    }
  }

  /**
   * Seal `text` and send it until acknowledged. Returns the client message id.
   * @param {string} id
   * @param {string} text
   * @param {string|null} [replacing] the ciphertext of a message the server never stored
   *   that this one replaces: it keeps that one's place in this session's order
   */
  sendText(id, text, replacing = null) {
    return this.sendContent(id, text, replacing);
  }

  /**
   * Seal a message's content (its text, and the references of the files it presents,
   * uploaded and complete: attachments.js) and send it until acknowledged, exactly as a
   * text. Resolves to the client message id. A conversation's messages are sealed and
   * queued one after another, in the order of the calls: a person typing fast never sees
   * a later message stored before an earlier one.
   * @param {string} id
   * @param {import('./keys.js').Content} content
   * @param {string|null} [replacing] as for `sendText`
   */
  sendContent(id, content, replacing = null) {
    const turn = (this.#sealing.get(id) ?? Promise.resolve()).then(() =>
      this.#sealAndSend(id, content, replacing),
    );
    const done = turn.then(
      () => undefined,
      () => undefined,
    );
    this.#sealing.set(id, done);
    done.then(() => {
      if (this.#sealing.get(id) === done) this.#sealing.delete(id);
    });
    return turn;
  }

  /**
   * `sendContent`, once every message written before it to the conversation is queued.
   * @param {string} id
   * @param {import('./keys.js').Content} content
   * @param {string|null} replacing
   */
  async #sealAndSend(id, content, replacing) {
    const conversation = this.conversations.get(id);
    if (!conversation) throw new Error('No such conversation');
    await this.epochs.rotateIfDue(conversation);
    const epoch = conversation.currentEpoch;
    if (!this.keys.hasKey(id, epoch)) await this.conversations.refresh(id);
    // Checked after every wait: the listing may have just found a verified key changed.
    if (this.conversations.get(id)?.identityChanged?.verified) throw new VerifiedKeyChangedError();
    const clientMessageId = globalThis.crypto.randomUUID();
    const ciphertext = this.keys.seal(content, id, epoch, clientMessageId, {
      previous: conversation.timeline?.newestReference() ?? null,
      keepOrderOf: replacing,
    });
    this.#text.set(clientMessageId, content);
    this.#writtenTo.set(clientMessageId, recipientsOf(conversation.members.values()));
    this.outbox.add({ conversation: id, clientMessageId, epoch, ciphertext });
    // No new epoch could begin (offline, or the rekey failed): it waits to be sealed again
    // in one, never going in an epoch a restored server presented as current.
    if (writesRefused(conversation, this.keys)) this.#resealFirst.add(clientMessageId);
    this.emit('timeline', { conversation: id });
    this.#transmit(clientMessageId);
    return clientMessageId;
  }

  /**
   * The server was restored from a backup and lost these messages of this person's
   * (incoming.js): each goes again under its own id, with the bytes the server had stored,
   * unless it is still waiting in the outbox (it goes anyway). Only while the members'
   * keys are exactly those it was written to (`writtenTo`): otherwise it is not sent at
   * all, since sealing it again would seal it to a key that may be the server's own.
   * Those sealed in an epoch above the restored server's current one (after
   * `rolledBackTo`), whose key is forgotten and whose number will name a new key, never go
   * with their bytes: they are sealed again in a new epoch first, and so are such entries
   * of the outbox; one refused meanwhile for its epoch goes again. Returns how many go
   * again, and how many do not because the keys changed.
   * @param {string} id
   * @param {{clientMessageId: string, epoch: number, ciphertext: string, text: string,
   *          attachments?: import('./keys.js').AttachmentReference[],
   *          writtenTo?: string}[]} messages oldest first
   * @param {number|null} rolledBackTo the older epoch the listing went back to, if it did
   * @returns {{resent: number, keysChanged: number}}
   */
  reupload(id, messages, rolledBackTo) {
    const outcome = { resent: 0, keysChanged: 0 };
    const conversation = this.conversations.get(id);
    if (this.#stopped || !conversation) return outcome;
    const current = conversation.currentEpoch;
    const forgotten = (/** @type {number} */ epoch) =>
      epoch > current || (rolledBackTo !== null && epoch > rolledBackTo);
    for (const entry of this.outbox.entries(id)) {
      if (forgotten(entry.epoch)) this.#resealFirst.add(entry.clientMessageId);
      if (entry.state === 'failed' && entry.error === 'stale_epoch') {
        this.outbox.retry(entry.clientMessageId);
        this.#held.delete(entry.clientMessageId);
        this.#transmit(entry.clientMessageId);
      }
    }
    const members = recipientsOf(conversation.members.values());
    for (const message of messages) {
      if (this.outbox.has(message.clientMessageId)) {
        outcome.resent += 1; // still waiting for its ack: it goes anyway
        continue;
      }
      if (message.writtenTo !== members) {
        outcome.keysChanged += 1;
        continue;
      }
      this.outbox.add({
        conversation: id,
        clientMessageId: message.clientMessageId,
        epoch: message.epoch,
        ciphertext: message.ciphertext,
      });
      this.#text.set(message.clientMessageId, messageContent(message.text, message.attachments));
      this.#writtenTo.set(message.clientMessageId, message.writtenTo);
      this.#reuploaded.add(message.clientMessageId);
      if (forgotten(message.epoch)) this.#resealFirst.add(message.clientMessageId);
      outcome.resent += 1;
      this.#transmit(message.clientMessageId);
    }
    this.emit('timeline', { conversation: id });
    return outcome;
  }

  /**
   * The person asked to try a failed message again.
   * @param {string} clientMessageId
   */
  async retry(clientMessageId) {
    const entry = this.outbox.get(clientMessageId);
    if (!entry) return;
    if (this.conversations.get(entry.conversation)?.identityChanged?.verified) {
      throw new VerifiedKeyChangedError();
    }
    if (entry.error !== null && NEVER_ACCEPTED.has(entry.error)) {
      const conversation = this.conversations.get(entry.conversation);
      if (conversation && !this.#mayReseal(clientMessageId, conversation)) {
        this.#keysChangedSince(clientMessageId);
        return;
      }
      const text = this.#text.get(clientMessageId);
      this.outbox.discard(clientMessageId);
      this.#forget(clientMessageId);
      this.emit('timeline', { conversation: entry.conversation });
      if (text !== undefined) await this.sendContent(entry.conversation, text, entry.ciphertext);
      return;
    }
    this.outbox.retry(clientMessageId);
    this.#held.delete(clientMessageId);
    this.#transmit(clientMessageId);
  }

  /**
   * The person accepted the messaging agreement: every message refused for want of it
   * goes again, same bytes, in the order written.
   */
  afterAgreement() {
    if (this.#stopped) return;
    for (const entry of this.outbox.entries()) {
      if (entry.state === 'failed' && entry.error === 'agreement_required') {
        this.outbox.retry(entry.clientMessageId);
        this.#held.delete(entry.clientMessageId);
        this.#transmit(entry.clientMessageId);
      }
    }
  }

  /**
   * After every `ready`: everything waiting goes again, in order, same bytes (failed ones
   * wait for Retry). A new connection has a fresh rate allowance: no pause is owed.
   */
  resendWaiting() {
    if (this.#stopped) return;
    this.#held.clear();
    for (const entry of this.outbox.entries()) {
      if (entry.state !== 'failed') {
        this.outbox.markQueued(entry.clientMessageId, entry.error);
        this.#transmit(entry.clientMessageId);
      }
    }
  }

  /**
   * The unacknowledged messages of a conversation, with their text where it is known.
   * @param {string} id
   * @returns {PendingMessage[]}
   */
  pending(id) {
    const timeline = this.conversations.get(id)?.timeline;
    return (
      this.outbox
        .entries(id)
        // Between its push and its ack a message is both held and still in the outbox:
        // shown once, as held. Only an opened message counts, as the id of one that did
        // not open is unauthenticated and could hide this one.
        .filter((entry) => !timeline?.hasMessageId(entry.clientMessageId))
        .map((entry) => {
          const content = this.#text.get(entry.clientMessageId);
          return {
            clientMessageId: entry.clientMessageId,
            state: entry.state,
            error: entry.error,
            createdAt: entry.createdAt,
            text: content === undefined ? null : textOf(content),
            attachments: content === undefined ? [] : attachmentsOf(content),
          };
        })
    );
  }

  /**
   * The server stored one of this person's messages: out of the outbox, into the timeline.
   * The one way out of the outbox; a second ack of the same message changes nothing.
   * Returns whether the ack settled an entry.
   * @param {Ack} ack
   * @returns {boolean}
   */
  settle(ack) {
    const waiting = this.outbox.get(ack.client_message_id);
    // An ack names its conversation: one for another conversation settles nothing here.
    if (!waiting || waiting.conversation !== ack.conversation) return false;
    const entry = this.outbox.acknowledge(ack.client_message_id);
    if (!entry) return false;
    this.#held.delete(entry.clientMessageId);
    this.#resealFirst.delete(entry.clientMessageId);
    const clientMessageId = entry.clientMessageId;
    const content = this.#text.get(clientMessageId);
    const text = content === undefined ? null : textOf(content);
    const attachments = content === undefined ? [] : attachmentsOf(content);
    const writtenTo = this.#writtenTo.get(clientMessageId);
    this.#forget(clientMessageId);
    const conversation = this.conversations.get(entry.conversation);
    if (conversation) {
      this.conversations.noteStored(conversation, ack.seq, entry.epoch, ack.sent_at);
      this.incoming.holdOwn(conversation, {
        seq: ack.seq,
        sender: this.me.id,
        clientMessageId,
        epoch: entry.epoch,
        sentAt: ack.sent_at,
        text,
        ...(attachments.length ? { attachments } : {}),
        problem: text === null ? 'not shown' : null,
        // Sealed by this tab, so its order is this person's own word.
        ...this.keys.orderFacts(entry.ciphertext, true),
        // The bytes stored: what goes again should a restore of the server lose them, to
        // the keys they were sealed for.
        ciphertext: entry.ciphertext,
        writtenTo: writtenTo ?? recipientsOf(conversation.members.values()),
      });
    }
    this.emit('timeline', { conversation: entry.conversation });
    this.emit('conversations');
    this.#release(entry.conversation);
    return true;
  }

  /**
   * One of this person's messages opened in a timeline (its push or a page arrived), so
   * it is stored. If its sending gave up meanwhile (three timeouts), one more send of the
   * same bytes fetches the `duplicate` ack that takes it out of the outbox; otherwise the
   * ack under way does.
   * @param {string} clientMessageId
   */
  heardStored(clientMessageId) {
    if (this.outbox.get(clientMessageId)?.state !== 'failed') return;
    this.outbox.retry(clientMessageId);
    this.#transmit(clientMessageId);
  }

  /**
   * The conversation is no longer active (discharged, or being erased): nothing waiting
   * for it goes, and nothing is tried again. Discharged, each waiting message becomes
   * *Not sent* saying the conversation is read-only; erased, they are dropped with the
   * rest of its history. One on its way gets the server's `conversation_closed`.
   * @param {string} id
   */
  closed(id) {
    const status = this.conversations.get(id)?.status;
    if (status === undefined || status === 'active') return;
    for (const entry of this.outbox.entries(id)) {
      if (status === 'erasing' || status === 'erased') {
        this.outbox.discard(entry.clientMessageId);
        this.#held.delete(entry.clientMessageId);
        this.#resealFirst.delete(entry.clientMessageId);
        this.#forget(entry.clientMessageId);
      } else if (entry.state !== 'sending') {
        this.#closedEntry(entry.clientMessageId);
      }
    }
    this.emit('timeline', { conversation: id });
  }

  /** @param {string} clientMessageId */
  #closedEntry(clientMessageId) {
    this.#held.delete(clientMessageId);
    this.outbox.markFailed(clientMessageId, 'conversation_closed');
  }

  /** The session ended: nothing more is sent, and no text is kept. */
  stop() {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#held.clear();
    this.#resealFirst.clear();
    this.#text.clear();
    this.#writtenTo.clear();
    this.#reuploaded.clear();
  }

  /**
   * What is kept of a message here for as long as it is unacknowledged, forgotten.
   * @param {string} clientMessageId
   */
  #forget(clientMessageId) {
    this.#text.delete(clientMessageId);
    this.#writtenTo.delete(clientMessageId);
    this.#reuploaded.delete(clientMessageId);
  }

  /**
   * Whether the message may be sealed again to the conversation's members now: always,
   * unless it is one sent again after a restore of the server and the members' keys are
   * not those it was written to.
   * @param {string} clientMessageId
   * @param {import('./conversations.js').Conversation} conversation
   */
  #mayReseal(clientMessageId, conversation) {
    if (!this.#reuploaded.has(clientMessageId)) return true;
    return this.#writtenTo.get(clientMessageId) === recipientsOf(conversation.members.values());
  }

  /**
   * A message sent again after a restore is not sealed to keys other than those it was
   * written to: it goes no further, and the conversation shows it as no longer on the
   * server (counted in the restore's notice).
   * @param {string} clientMessageId
   */
  #keysChangedSince(clientMessageId) {
    const entry = this.outbox.discard(clientMessageId);
    this.#resealFirst.delete(clientMessageId);
    this.#held.delete(clientMessageId);
    this.#forget(clientMessageId);
    if (!entry) return;
    const note = this.conversations.get(entry.conversation)?.restore;
    if (note) {
      note.resent = Math.max(0, note.resent - 1);
      note.keysChanged += 1;
    }
    this.emit('timeline', { conversation: entry.conversation });
    this.emit('conversations');
  }

  /** @param {string} clientMessageId */
  #transmit(clientMessageId) {
    const entry = this.outbox.get(clientMessageId);
    if (!entry || entry.state === 'sending' || entry.state === 'failed' || this.#stopped) return;
    // Discharged or erased: the server would refuse it; it is not sent, nor tried again.
    const status = this.conversations.get(entry.conversation)?.status;
    if (status !== undefined && status !== 'active') {
      this.#closedEntry(clientMessageId);
      this.emit('timeline', { conversation: entry.conversation });
      this.#release(entry.conversation);
      return;
    }
    if (this.#heldBehind(entry)) {
      this.#held.set(clientMessageId, true);
      this.outbox.markQueued(clientMessageId, entry.error);
      return;
    }
    if (!this.socket.connected) {
      this.outbox.markQueued(clientMessageId, entry.error);
      this.emit('timeline', { conversation: entry.conversation });
      return;
    }
    if (this.#resealFirst.delete(clientMessageId)) {
      this.#resealThenSend(clientMessageId, 'stale_epoch', true);
      this.emit('timeline', { conversation: entry.conversation });
      return;
    }
    this.outbox.markSending(clientMessageId);
    this.emit('timeline', { conversation: entry.conversation });
    this.socket.request(sendFrame(entry), ACK_TIMEOUT_MS).then(
      (reply) => {
        // A reply that is not this message's ack is taken as no reply at all.
        if (!this.settle(reply) && this.outbox.get(clientMessageId)?.state === 'sending') {
          this.#refused(clientMessageId, new SocketError('timeout', 'The reply was not its ack'));
        }
      },
      (error) => this.#refused(clientMessageId, error),
    );
  }

  /**
   * The send request failed: the protocol says whether the same bytes may go again.
   * @param {string} clientMessageId
   * @param {unknown} error
   */
  #refused(clientMessageId, error) {
    const entry = this.outbox.get(clientMessageId);
    if (!entry) return; // settled meanwhile, by a late ack
    const code = error instanceof SocketError ? error.code : 'client_error';
    if (code === 'disconnected') {
      this.outbox.markQueued(clientMessageId, null); // resent after the next `ready`
    } else if (code === 'timeout') {
      // Stored or not, nobody knows: the same bytes again are safe (the server keeps one).
      if (entry.attempts >= MAX_TIMEOUTS) this.outbox.markFailed(clientMessageId, 'timeout');
      else {
        this.outbox.markQueued(clientMessageId, 'timeout');
        this.#transmit(clientMessageId);
      }
    } else if (RESEND.has(code)) {
      this.outbox.markQueued(clientMessageId, code);
      const told = error instanceof SocketError ? error.data.retry_after_ms : undefined;
      this.#later(clientMessageId, typeof told === 'number' ? told : backoffDelay(entry.attempts));
    } else if (code === 'stale_epoch') {
      this.#resealThenSend(clientMessageId, code, this.#resealFirst.delete(clientMessageId));
    } else {
      this.outbox.markFailed(clientMessageId, code);
      // Held until the agreement is accepted (`afterAgreement`); the page shows it.
      if (code === 'agreement_required') this.emit('agreement-required', { conversation: entry.conversation });
    }
    this.emit('timeline', { conversation: entry.conversation });
    // What waited behind it goes now, unless it waits out its own pause.
    if (this.outbox.get(clientMessageId)?.state !== 'sending') this.#release(entry.conversation);
  }

  /**
   * Send again after `wait` milliseconds.
   * @param {string} clientMessageId
   * @param {number} wait
   */
  #later(clientMessageId, wait) {
    this.#held.set(clientMessageId, false);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const entry = this.outbox.get(clientMessageId);
      if (!entry || !this.#held.has(clientMessageId)) return;
      this.#held.set(clientMessageId, true);
      this.#release(entry.conversation);
    }, wait);
    this.#timers.add(timer);
  }

  /**
   * Whether an earlier entry of the conversation waits out a pause, is held itself, or is
   * still on its way: a conversation has one message in flight at a time, so that a later
   * one can never be stored before an earlier one the server refused for now
   * (`rate_limited`, `overloaded`) and that goes again after its pause.
   * @param {import('./outbox.js').OutboxEntry} entry
   */
  #heldBehind(entry) {
    for (const earlier of this.outbox.entries(entry.conversation)) {
      if (earlier.clientMessageId === entry.clientMessageId) return false;
      if (
        this.#held.has(earlier.clientMessageId) ||
        this.#resealing.has(earlier.clientMessageId) ||
        earlier.state === 'sending'
      ) {
        return true;
      }
    }
    return false;
  }

  /**
   * Sends, in the order they were written, the held entries of a conversation that may
   * go, up to the first that still waits out its pause.
   * @param {string} conversation
   */
  #release(conversation) {
    for (const entry of this.outbox.entries(conversation)) {
      const due = this.#held.get(entry.clientMessageId);
      if (due === undefined) continue;
      if (!due) return;
      this.#held.delete(entry.clientMessageId);
      this.#transmit(entry.clientMessageId);
    }
  }

  /**
   * Seal the entry again, then send it; *Not sent* when that cannot be done.
   * @param {string} clientMessageId
   * @param {string} code the error it fails with
   * @param {boolean} force whether its bytes must not go even in an epoch of the same number
   */
  #resealThenSend(clientMessageId, code, force) {
    const entry = this.outbox.get(clientMessageId);
    if (!entry) return;
    this.outbox.markQueued(clientMessageId, code);
    // In flight until resealed: nothing written later overtakes it (its order).
    this.#resealing.add(clientMessageId);
    this.#reseal(clientMessageId, force)
      .catch((failure) => {
        if (failure instanceof KeysChangedSinceError) {
          this.#keysChangedSince(clientMessageId);
          return;
        }
        this.outbox.markFailed(
          clientMessageId,
          failure instanceof VerifiedKeyChangedError ? 'verified_key_changed' : code,
        );
        if (force) this.#resealFirst.add(clientMessageId); // a Retry seals it again too
        this.emit('timeline', { conversation: entry.conversation });
      })
      .finally(() => {
        this.#resealing.delete(clientMessageId);
        this.#release(entry.conversation);
      });
  }

  /**
   * After `stale_epoch`: the same text and message id, sealed under the current epoch.
   * An epoch begun before a restore of the server that it lists as current is not written
   * in: a new epoch begins first (its number may be one the server lost; its key is new).
   * With `force` the bytes are sealed again even when the epoch's number did not change:
   * they were sealed under a key forgotten since. A message sent again after a restore is
   * sealed only to the keys it was written to (KeysChangedSinceError otherwise), checked
   * before a new epoch is wrapped to them and again right before it is sealed.
   * @param {string} clientMessageId
   * @param {boolean} [force]
   */
  async #reseal(clientMessageId, force = false) {
    const entry = this.outbox.get(clientMessageId);
    const text = this.#text.get(clientMessageId);
    if (!entry || text === undefined) throw new Error('Nothing to reseal');
    entry.reseals = (entry.reseals ?? 0) + 1;
    if (entry.reseals > MAX_RESEALS) throw new Error('The epoch keeps changing');
    const conversation = await this.conversations.refresh(entry.conversation);
    // Nothing is sealed to a verified peer's changed key (crypto/SPEC.md, "Pins").
    if (conversation.identityChanged?.verified) throw new VerifiedKeyChangedError();
    if (!this.#mayReseal(clientMessageId, conversation)) throw new KeysChangedSinceError();
    if (writesRefused(conversation, this.keys)) {
      await this.epochs.rotateIfDue(conversation);
      if (writesRefused(conversation, this.keys)) throw new Error('No new epoch could begin');
    } else if (!force && conversation.currentEpoch === entry.epoch) {
      throw new Error('The epoch did not change');
    }
    // Checked again after the waits: a listing meanwhile may have changed the members.
    if (conversation.identityChanged?.verified) throw new VerifiedKeyChangedError();
    if (!this.#mayReseal(clientMessageId, conversation)) throw new KeysChangedSinceError();
    const ciphertext = this.keys.seal(text, entry.conversation, conversation.currentEpoch, clientMessageId, {
      keepOrderOf: entry.ciphertext,
    });
    this.outbox.reseal(clientMessageId, conversation.currentEpoch, ciphertext);
    this.#writtenTo.set(clientMessageId, recipientsOf(conversation.members.values()));
    this.#transmit(clientMessageId);
  }

  /**
   * After a reload the outbox holds only ciphertext: open our own message to show it.
   * @param {import('./outbox.js').OutboxEntry} entry
   * @returns {boolean} whether its text was read now
   */
  #recoverText(entry) {
    if (this.#text.has(entry.clientMessageId)) return false;
    // Nothing to open with until the conversation is listed (its epoch's key).
    if (!this.conversations.get(entry.conversation)) return false;
    try {
      const content = this.keys.openContent(
        entry.ciphertext,
        this.keys.publicIdentity,
        entry.conversation,
        entry.epoch,
        entry.clientMessageId,
      );
      this.#text.set(entry.clientMessageId, content);
      return true;
    } catch {
      // Shown as "a message you sent" without text; it is still delivered.
      return false;
    }
  }
}
