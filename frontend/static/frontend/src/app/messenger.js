/**
 * The messaging engine of a signed-in tab: conversations, their keys and timelines, the
 * outbox, and the websocket protocol of docs/protocol.md.
 *
 * Views read its state and listen to its events; they never see a key or a frame.
 * Incoming messages are handled one at a time, in the order they arrived (a promise
 * chain), so a timeline never sees two changes at once.
 *
 * Events (CustomEvent, `detail` in brackets): `conversations`, `timeline` [{conversation}],
 * `incoming` [{conversation, message}], `typing` [{conversation, user}], `status`
 * [{state}], `identity-changed` [{conversation, user}], `session-ended` [{code}],
 * `epoch` [{conversation, epoch}] (a new epoch began, here or at the peer).
 *
 * @module
 */

import * as api from './api.js';
import { backoffDelay } from './backoff.js';
import { MissingKeyError, isCryptoError, needsRotation, parseIdentity } from './keys.js';
import { Outbox } from './outbox.js';
import { Socket, SocketError } from './socket.js';
import { Timeline } from './timeline.js';

export const ACK_TIMEOUT_MS = 10_000;
export const HISTORY_PAGE = 50;
const SYNC_EVERY_MS = 60_000;
const MAX_TIMEOUTS = 3;
const MAX_RESEALS = 3;
/** Errors after which the same bytes will never be accepted: the person decides. */
const RETRYABLE = new Set(['unavailable', 'server_error', 'rate_limited', 'overloaded']);

/**
 * @typedef {object} Member
 * @property {number} id
 * @property {string} displayName
 * @property {string} role
 * @property {string} identityB64
 * @property {import('../crypto/index.js').PublicIdentity} identity
 */

/**
 * @typedef {object} Conversation
 * @property {string} id
 * @property {string} status
 * @property {number} currentEpoch
 * @property {string|null} epochStartedAt when the server says the current epoch began
 * @property {number} epochMessages messages of the current epoch (the server's count at the
 *   last listing, plus those stored since)
 * @property {number} countedSeq the highest `seq` counted in `epochMessages`
 * @property {boolean} keysChanged a member's identity changed since this browser last saw
 *   it: the next send begins a new epoch first (crypto/SPEC.md, "Epoch rotation")
 * @property {string|null} rotatedFor the peer's identity when the current epoch began here
 *   (so one change of keys begins one epoch, not one per listing)
 * @property {number} lastSeq
 * @property {string|null} lastMessageAt
 * @property {number} lastReadSeq
 * @property {number} unread
 * @property {Map<number, Member>} members
 * @property {Map<number, number>} readSeqs
 * @property {Timeline|null} timeline
 * @property {boolean} loading
 * @property {{user: number, previous: string}|null} identityChanged
 */

export class Messenger extends EventTarget {
  /** @type {Map<string, Conversation>} */
  conversations = new Map();
  /** Plaintext of unacknowledged messages, in memory only (never stored). */
  /** @type {Map<string, string>} */
  #pendingText = new Map();
  /** @type {Promise<unknown>} */
  #queue = Promise.resolve();
  /** @type {Set<string>} */
  #syncing = new Set();
  /** @type {number|undefined} */
  #syncTimer;
  #stopped = false;

  /**
   * @param {{me: any, keys: import('./keys.js').Keys, storage: any,
   *          seen: import('./seen.js').SeenIdentities}} options
   */
  constructor({ me, keys, storage, seen }) {
    super();
    this.me = me;
    this.keys = keys;
    this.seen = seen;
    this.outbox = new Outbox(storage, `confide.outbox.${me.id}`);
    this.socket = new Socket({
      url: '/ws',
      onFrame: (frame) => this.#onFrame(frame),
      onReady: () => this.#onReady(),
      onState: (state) => this.#emit('status', { state }),
      onSessionGone: (code) => this.#emit('session-ended', { code }),
    });
  }

  /** Load the conversations and the outbox a reload left, then connect. */
  async start() {
    await this.refreshConversations();
    for (const entry of this.outbox.load()) this.#recoverText(entry);
    this.socket.start();
    this.#syncTimer = setInterval(() => {
      if (this.socket.connected) this.#enqueue(() => this.#syncLoaded());
    }, SYNC_EVERY_MS);
  }

  /** Disconnect and forget everything: keys (wiped), outbox (here and in storage), text. */
  wipe() {
    this.#stopped = true;
    clearInterval(this.#syncTimer);
    this.socket.stop();
    this.keys.wipe();
    this.outbox.clear();
    this.seen.close();
    this.#pendingText.clear();
    for (const conversation of this.conversations.values()) conversation.timeline?.clear();
    this.conversations.clear();
  }

  // --- conversations -------------------------------------------------------------------

  /** Conversations, newest activity first. */
  list() {
    return [...this.conversations.values()].sort((a, b) =>
      (b.lastMessageAt ?? '').localeCompare(a.lastMessageAt ?? ''),
    );
  }

  /**
   * The other member (the person this conversation is with).
   * @param {Conversation} conversation
   * @returns {Member|undefined}
   */
  peer(conversation) {
    return [...conversation.members.values()].find((m) => m.id !== this.me.id);
  }

  async refreshConversations() {
    const answer = await api.get('/api/conversations');
    const listed = new Set();
    for (const raw of answer.conversations ?? []) {
      try {
        listed.add(this.#absorb(raw).id);
      } catch (error) {
        if (!(error instanceof ConversationRefused)) throw error;
        this.#emit('conversation-refused', { conversation: raw.id, reason: error.message });
      }
    }
    for (const id of [...this.conversations.keys()]) {
      if (!listed.has(id)) this.conversations.delete(id);
    }
    this.#emit('conversations');
  }

  /** @param {string} id */
  async refreshConversation(id) {
    const answer = await api.get(`/api/conversations/${encodeURIComponent(id)}`);
    const conversation = this.#absorb(answer.conversation);
    this.#emit('conversations');
    return conversation;
  }

  /**
   * Start showing a conversation: its newest page of history, then whatever follows.
   * @param {string} id
   */
  async open(id) {
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    if (!conversation.timeline) conversation.timeline = new Timeline();
    if (this.socket.connected) await this.#enqueue(() => this.#loadNewest(conversation));
  }

  /**
   * Load the page before the oldest message held. Resolves to whether more may follow.
   * @param {string} id
   */
  async loadOlder(id) {
    const conversation = this.conversations.get(id);
    const timeline = conversation?.timeline;
    if (!conversation || !timeline || timeline.complete || conversation.loading) return false;
    if (!this.socket.connected) return true;
    conversation.loading = true;
    try {
      const reply = await this.socket.request({
        type: 'history',
        conversation: id,
        before: timeline.low || conversation.lastSeq + 1,
        limit: HISTORY_PAGE,
      });
      await this.#enqueue(() => this.#acceptPage(conversation, reply.messages, false));
      if (!reply.has_more) timeline.complete = true;
    } finally {
      conversation.loading = false;
      this.#emit('timeline', { conversation: id });
    }
    return !timeline.complete;
  }

  /**
   * Acknowledge that the peer's new identity has been seen (the warning goes away).
   * @param {string} id
   */
  acknowledgeIdentity(id) {
    const conversation = this.conversations.get(id);
    const peer = conversation && this.peer(conversation);
    if (!conversation || !peer) return;
    this.seen.acknowledge(peer.id, peer.identityB64);
    conversation.identityChanged = null;
    this.#emit('timeline', { conversation: id });
  }

  // --- sending -------------------------------------------------------------------------

  /**
   * Seal `text` and send it until acknowledged. Returns the client message id.
   * @param {string} id
   * @param {string} text
   */
  async sendText(id, text) {
    const conversation = this.conversations.get(id);
    if (!conversation) throw new Error('No such conversation');
    await this.#rotateIfDue(conversation);
    const epoch = conversation.currentEpoch;
    if (!this.keys.hasKey(id, epoch)) await this.refreshConversation(id);
    const clientMessageId = globalThis.crypto.randomUUID();
    const ciphertext = this.keys.seal(text, id, epoch, clientMessageId);
    this.#pendingText.set(clientMessageId, text);
    this.outbox.add({ conversation: id, clientMessageId, epoch, ciphertext });
    this.#emit('timeline', { conversation: id });
    this.#transmit(clientMessageId);
    return clientMessageId;
  }

  /**
   * The person asked to try a failed message again.
   * @param {string} clientMessageId
   */
  async retry(clientMessageId) {
    const entry = this.outbox.get(clientMessageId);
    if (!entry) return;
    if (entry.error === 'bad_ciphertext' || entry.error === 'client_message_id_reused') {
      // Those bytes will never be accepted: the same text, sealed afresh under a new id.
      const text = this.#pendingText.get(clientMessageId);
      this.outbox.discard(clientMessageId);
      this.#pendingText.delete(clientMessageId);
      this.#emit('timeline', { conversation: entry.conversation });
      if (text !== undefined) await this.sendText(entry.conversation, text);
      return;
    }
    this.outbox.retry(clientMessageId);
    this.#transmit(clientMessageId);
  }

  /**
   * The unacknowledged messages of a conversation, with their text where it is known.
   * @param {string} id
   */
  pending(id) {
    return this.outbox.entries(id).map((entry) => ({
      clientMessageId: entry.clientMessageId,
      state: entry.state,
      error: entry.error,
      createdAt: entry.createdAt,
      text: this.#pendingText.get(entry.clientMessageId) ?? null,
    }));
  }

  /**
   * Tell the members this person has read everything shown (when it is visible).
   * @param {string} id
   */
  async markRead(id) {
    const conversation = this.conversations.get(id);
    const timeline = conversation?.timeline;
    if (!conversation || !timeline || !this.socket.connected) return;
    const seq = timeline.highest;
    if (seq <= conversation.lastReadSeq) {
      if (conversation.unread) {
        conversation.unread = 0;
        this.#emit('conversations');
      }
      return;
    }
    conversation.lastReadSeq = seq;
    conversation.unread = 0;
    this.#emit('conversations');
    try {
      const reply = await this.socket.request({ type: 'read', conversation: id, seq });
      conversation.lastReadSeq = Math.max(conversation.lastReadSeq, reply.seq);
    } catch {
      conversation.lastReadSeq = Math.min(conversation.lastReadSeq, seq - 1);
    }
  }

  /** @param {string} id */
  typing(id) {
    this.socket.send({ type: 'typing', conversation: id });
  }

  /**
   * The state of the person's own stored message: read when the peer has read up to it.
   * @param {Conversation} conversation
   * @param {number} seq
   */
  ownState(conversation, seq) {
    const peer = this.peer(conversation);
    return peer && (conversation.readSeqs.get(peer.id) ?? 0) >= seq ? 'read' : 'sent';
  }

  // --- internals -----------------------------------------------------------------------

  /**
   * @param {any} raw
   * @returns {Conversation}
   */
  #absorb(raw) {
    refuseUnlessTwoPeople(raw, this.me.id);
    /** @type {Map<number, Member>} */
    const members = new Map();
    for (const member of raw.members) {
      members.set(member.id, {
        id: member.id,
        displayName: member.display_name,
        role: member.role,
        identityB64: member.public_identity,
        identity: parseIdentity(member.public_identity),
      });
    }
    const known = this.conversations.get(raw.id);
    /** @type {Conversation} */
    const conversation = known ?? {
      id: raw.id,
      status: raw.status,
      currentEpoch: raw.current_epoch,
      epochStartedAt: null,
      epochMessages: 0,
      countedSeq: 0,
      keysChanged: false,
      rotatedFor: null,
      lastSeq: raw.last_seq,
      lastMessageAt: raw.last_message_at,
      lastReadSeq: raw.last_read_seq,
      unread: raw.unread,
      members,
      readSeqs: new Map(),
      timeline: null,
      loading: false,
      identityChanged: null,
    };
    conversation.status = raw.status;
    if (raw.current_epoch >= (known?.currentEpoch ?? 0)) {
      // The server's account of the current epoch, for the rotation policy. A server that
      // understates it is outvoted by what this browser holds (see rotationDue).
      conversation.epochStartedAt = typeof raw.epoch_started_at === 'string' ? raw.epoch_started_at : null;
      conversation.epochMessages = Number.isInteger(raw.epoch_messages) ? raw.epoch_messages : 0;
      conversation.countedSeq = raw.last_seq;
    }
    conversation.currentEpoch = Math.max(known?.currentEpoch ?? 0, raw.current_epoch);
    conversation.lastSeq = Math.max(known?.lastSeq ?? 0, raw.last_seq);
    conversation.lastMessageAt = raw.last_message_at ?? conversation.lastMessageAt;
    conversation.lastReadSeq = Math.max(known?.lastReadSeq ?? 0, raw.last_read_seq);
    conversation.unread = raw.unread;
    conversation.members = members;
    for (const [user, seq] of Object.entries(raw.read_seqs ?? {})) {
      const id = Number(user);
      conversation.readSeqs.set(id, Math.max(conversation.readSeqs.get(id) ?? 0, Number(seq)));
    }
    for (const member of members.values()) {
      if (member.id === this.me.id) continue;
      const { changed, previous } = this.seen.check(member.id, member.identityB64);
      if (changed && previous) {
        conversation.identityChanged = { user: member.id, previous };
        // Keys wrapped before the change must not protect what follows it.
        if (conversation.rotatedFor !== member.identityB64) conversation.keysChanged = true;
        this.#emit('identity-changed', { conversation: conversation.id, user: member.id });
      }
    }
    for (const item of raw.envelopes ?? []) {
      if (this.keys.hasKey(conversation.id, item.epoch)) continue;
      const wrapper = members.get(item.wrapper);
      if (!wrapper) continue;
      try {
        this.keys.unwrap(conversation.id, item.epoch, item.envelope, wrapper.identity);
      } catch (error) {
        if (!isCryptoError(error)) throw error;
        // An envelope that does not verify is ignored: its messages will show as unopenable.
      }
    }
    this.conversations.set(conversation.id, conversation);
    return conversation;
  }

  /**
   * Run `work` after every earlier incoming work item.
   * @template T
   * @param {() => Promise<T>} work
   * @returns {Promise<T>}
   */
  #enqueue(work) {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #onReady() {
    if (this.#stopped) return;
    for (const entry of this.outbox.entries()) {
      if (entry.state !== 'failed') {
        this.outbox.markQueued(entry.clientMessageId, entry.error);
        this.#transmit(entry.clientMessageId);
      }
    }
    this.#enqueue(async () => {
      try {
        await this.refreshConversations();
      } catch {
        // The list is refreshed again at the next reconnect.
      }
      for (const conversation of this.conversations.values()) {
        if (conversation.timeline && conversation.timeline.size === 0) {
          await this.#loadNewest(conversation);
        }
      }
      await this.#syncLoaded();
    });
  }

  /** @param {any} frame */
  #onFrame(frame) {
    switch (frame.type) {
      case 'message':
        this.#enqueue(() => this.#acceptMessage(frame, true));
        break;
      case 'ack':
        this.#settle(frame.client_message_id, frame.seq, frame.sent_at);
        break;
      case 'read': {
        const conversation = this.conversations.get(frame.conversation);
        if (!conversation) break;
        const seq = Math.max(conversation.readSeqs.get(frame.user) ?? 0, frame.seq);
        conversation.readSeqs.set(frame.user, seq);
        if (frame.user === this.me.id) {
          conversation.lastReadSeq = Math.max(conversation.lastReadSeq, seq);
          if (seq >= conversation.lastSeq) conversation.unread = 0;
          this.#emit('conversations');
        }
        this.#emit('timeline', { conversation: frame.conversation });
        break;
      }
      case 'typing':
        if (frame.user !== this.me.id) {
          this.#emit('typing', { conversation: frame.conversation, user: frame.user });
        }
        break;
      case 'epoch':
        this.#enqueue(() => this.#acceptEpoch(frame));
        break;
      case 'conversation_added':
        // A client accepted an invitation: list the conversations again (the event carries
        // nothing else). Lost events are made up by the listing after each reconnect.
        this.#enqueue(() => this.refreshConversations().catch(() => undefined));
        break;
      default:
        break;
    }
  }

  /** @param {any} frame */
  async #acceptEpoch(frame) {
    let conversation = this.conversations.get(frame.conversation);
    if (!conversation || !conversation.members.has(frame.wrapper)) {
      conversation = await this.refreshConversation(frame.conversation);
    }
    const wrapper = conversation.members.get(frame.wrapper);
    if (!wrapper) return;
    try {
      this.keys.unwrap(conversation.id, frame.epoch, frame.envelope, wrapper.identity);
      if (frame.epoch > conversation.currentEpoch) {
        this.#beganEpoch(conversation, frame.epoch, new Date().toISOString());
      }
    } catch (error) {
      if (!isCryptoError(error)) throw error;
    }
  }

  /**
   * @param {Conversation} conversation
   */
  async #loadNewest(conversation) {
    const timeline = conversation.timeline;
    if (!timeline || conversation.loading || !this.socket.connected) return;
    conversation.loading = true;
    try {
      const reply = await this.socket.request({
        type: 'history',
        conversation: conversation.id,
        limit: HISTORY_PAGE,
      });
      await this.#acceptPage(conversation, reply.messages, false);
      if (!reply.has_more) timeline.complete = true;
    } catch (error) {
      if (!(error instanceof SocketError)) throw error;
    } finally {
      conversation.loading = false;
      this.#emit('timeline', { conversation: conversation.id });
    }
  }

  /** Sync every conversation whose timeline is shown, from what it holds. */
  async #syncLoaded() {
    const loaded = [...this.conversations.values()].filter((c) => c.timeline);
    if (loaded.length) await this.#sync(loaded);
  }

  /**
   * Ask for what follows the held position, page after page, until nothing more follows.
   * @param {Conversation[]} targets
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
        reply = await this.socket.request({ type: 'sync', after });
      } catch (error) {
        if (error instanceof SocketError && error.code === 'not_found') {
          await this.refreshConversations();
          pending = pending.filter((c) => this.conversations.has(c.id));
          continue;
        }
        return; // lost connection or timeout: the next connection syncs again
      }
      const more = [];
      for (const page of reply.conversations ?? []) {
        const conversation = this.conversations.get(page.conversation);
        if (!conversation) continue;
        conversation.lastSeq = Math.max(conversation.lastSeq, page.last_seq);
        await this.#acceptPage(conversation, page.messages, true);
        if (page.has_more) more.push(conversation);
      }
      pending = more;
    }
  }

  /**
   * @param {Conversation} conversation
   * @param {any[]} messages
   * @param {boolean} fresh whether these may be new to the person (sync) or old (history)
   */
  async #acceptPage(conversation, messages, fresh) {
    for (const raw of messages ?? []) {
      if (raw.conversation !== conversation.id) continue;
      await this.#acceptMessage(raw, fresh, false);
    }
    this.#emit('timeline', { conversation: conversation.id });
  }

  /**
   * One stored message, from a push, a sync or a history page.
   * @param {any} raw
   * @param {boolean} fresh
   * @param {boolean} [notify]
   */
  async #acceptMessage(raw, fresh, notify = true) {
    let conversation = this.conversations.get(raw.conversation);
    if (!conversation) {
      // A conversation that began after the last listing (a client accepted an invitation).
      await this.refreshConversations();
      conversation = this.conversations.get(raw.conversation);
      if (!conversation) return;
    }
    const isNewest = raw.seq > conversation.lastSeq;
    this.#count(conversation, raw.seq, raw.epoch);
    conversation.lastSeq = Math.max(conversation.lastSeq, raw.seq);
    if (isNewest || !conversation.lastMessageAt) conversation.lastMessageAt = raw.sent_at;
    if (raw.sender === this.me.id && this.outbox.has(raw.client_message_id)) {
      this.#settle(raw.client_message_id, raw.seq, raw.sent_at);
    }
    const timeline = conversation.timeline;
    if (!timeline) {
      if (fresh && raw.sender !== this.me.id && raw.seq > conversation.lastReadSeq && isNewest) {
        conversation.unread += 1;
      }
      this.#emit('conversations');
      return;
    }
    if (timeline.has(raw.seq)) return;
    const skipped = notify && timeline.wouldSkip(raw.seq);
    const message = await this.#openMessage(conversation, raw);
    timeline.add(message);
    if (timeline.isReplay(raw.seq)) {
      // A genuine message again under another number: held so the number is no gap,
      // never shown twice, never announced.
      if (skipped) await this.#sync([conversation]);
      return;
    }
    if (fresh && raw.sender !== this.me.id && raw.seq > conversation.lastReadSeq) {
      conversation.unread = Math.max(conversation.unread, 0) + 1;
      this.#emit('conversations');
    }
    if (notify) {
      this.#emit('timeline', { conversation: conversation.id });
      if (raw.sender !== this.me.id) {
        this.#emit('incoming', { conversation: conversation.id, message });
      }
    }
    if (skipped) {
      // A number was skipped: the push of the one between was lost. Fetch it.
      await this.#sync([conversation]);
    }
  }

  /**
   * Verify and open; a message that does not is held with its problem, never its bytes.
   * @param {Conversation} conversation
   * @param {any} raw
   * @returns {Promise<import('./timeline.js').HeldMessage>}
   */
  async #openMessage(conversation, raw) {
    const base = {
      seq: raw.seq,
      sender: raw.sender,
      clientMessageId: raw.client_message_id,
      epoch: raw.epoch,
      sentAt: raw.sent_at,
    };
    try {
      let sender = conversation.members.get(raw.sender);
      if (!sender || !this.keys.hasKey(conversation.id, raw.epoch)) {
        conversation = await this.refreshConversation(conversation.id);
        sender = conversation.members.get(raw.sender);
      }
      if (!sender) return { ...base, text: null, problem: 'unknown sender' };
      const text = this.keys.open(
        raw.ciphertext,
        sender.identity,
        conversation.id,
        raw.epoch,
        raw.client_message_id,
      );
      return { ...base, text, problem: null };
    } catch (error) {
      if (error instanceof MissingKeyError) return { ...base, text: null, problem: 'no key' };
      if (isCryptoError(error)) {
        return { ...base, text: null, problem: /** @type {Error} */ (error).name };
      }
      if (error instanceof api.ApiError) return { ...base, text: null, problem: error.code };
      throw error;
    }
  }

  /**
   * After a reload the outbox holds only ciphertext: open our own message to show it.
   * @param {import('./outbox.js').OutboxEntry} entry
   */
  #recoverText(entry) {
    if (this.#pendingText.has(entry.clientMessageId)) return;
    try {
      const text = this.keys.open(
        entry.ciphertext,
        this.keys.publicIdentity,
        entry.conversation,
        entry.epoch,
        entry.clientMessageId,
      );
      this.#pendingText.set(entry.clientMessageId, text);
    } catch {
      // Shown as "a message you sent" without text; it is still delivered.
    }
  }

  /** @param {string} clientMessageId */
  #transmit(clientMessageId) {
    const entry = this.outbox.get(clientMessageId);
    if (!entry || entry.state === 'sending' || entry.state === 'failed' || this.#stopped) return;
    if (!this.socket.connected) {
      this.outbox.markQueued(clientMessageId, entry.error);
      this.#emit('timeline', { conversation: entry.conversation });
      return;
    }
    this.outbox.markSending(clientMessageId);
    this.#emit('timeline', { conversation: entry.conversation });
    this.socket
      .request(
        {
          type: 'send',
          conversation: entry.conversation,
          client_message_id: entry.clientMessageId,
          epoch: entry.epoch,
          ciphertext: entry.ciphertext,
        },
        ACK_TIMEOUT_MS,
      )
      .then(
        (ack) => this.#settle(ack.client_message_id, ack.seq, ack.sent_at),
        (error) => this.#sendFailed(clientMessageId, error),
      );
  }

  /**
   * @param {string} clientMessageId
   * @param {unknown} error
   */
  #sendFailed(clientMessageId, error) {
    const entry = this.outbox.get(clientMessageId);
    if (!entry) return; // settled meanwhile (a late ack or a sync)
    const code = error instanceof SocketError ? error.code : 'client_error';
    if (code === 'disconnected') {
      this.outbox.markQueued(clientMessageId, null); // resent after the next `ready`
    } else if (code === 'timeout') {
      if (entry.attempts >= MAX_TIMEOUTS) this.outbox.markFailed(clientMessageId, 'timeout');
      else {
        this.outbox.markQueued(clientMessageId, 'timeout');
        this.#transmit(clientMessageId);
      }
    } else if (RETRYABLE.has(code)) {
      this.outbox.markQueued(clientMessageId, code);
      const data = error instanceof SocketError ? error.data : {};
      const wait =
        (code === 'rate_limited' || code === 'overloaded') && typeof data.retry_after_ms === 'number'
          ? data.retry_after_ms
          : backoffDelay(entry.attempts);
      setTimeout(() => this.#transmit(clientMessageId), wait);
    } else if (code === 'stale_epoch') {
      this.outbox.markQueued(clientMessageId, code);
      this.#reseal(clientMessageId).catch(() => this.outbox.markFailed(clientMessageId, code));
    } else {
      this.outbox.markFailed(clientMessageId, code);
    }
    this.#emit('timeline', { conversation: entry.conversation });
  }

  /**
   * After `stale_epoch`: the same text and message id, sealed under the current epoch.
   * @param {string} clientMessageId
   */
  async #reseal(clientMessageId) {
    const entry = this.outbox.get(clientMessageId);
    const text = this.#pendingText.get(clientMessageId);
    if (!entry || text === undefined) throw new Error('Nothing to reseal');
    entry.reseals = (entry.reseals ?? 0) + 1;
    if (entry.reseals > MAX_RESEALS) throw new Error('The epoch keeps changing');
    const conversation = await this.refreshConversation(entry.conversation);
    if (conversation.currentEpoch === entry.epoch) throw new Error('The epoch did not change');
    const ciphertext = this.keys.seal(
      text,
      entry.conversation,
      conversation.currentEpoch,
      clientMessageId,
    );
    this.outbox.reseal(clientMessageId, conversation.currentEpoch, ciphertext);
    this.#transmit(clientMessageId);
  }

  /**
   * The server stored a message of ours: out of the outbox, into the timeline.
   * @param {string} clientMessageId
   * @param {number} seq
   * @param {string} sentAt
   */
  #settle(clientMessageId, seq, sentAt) {
    const entry = this.outbox.acknowledge(clientMessageId);
    if (!entry) return;
    const text = this.#pendingText.get(clientMessageId) ?? null;
    this.#pendingText.delete(clientMessageId);
    const conversation = this.conversations.get(entry.conversation);
    if (conversation) {
      this.#count(conversation, seq, entry.epoch);
      conversation.lastSeq = Math.max(conversation.lastSeq, seq);
      if (!conversation.lastMessageAt || sentAt > conversation.lastMessageAt) {
        conversation.lastMessageAt = sentAt;
      }
      const timeline = conversation.timeline;
      if (timeline && !timeline.has(seq)) {
        const skipped = timeline.wouldSkip(seq);
        timeline.add({
          seq,
          sender: this.me.id,
          clientMessageId,
          epoch: entry.epoch,
          sentAt,
          text,
          problem: text === null ? 'not shown' : null,
        });
        if (skipped) this.#enqueue(() => this.#sync([conversation]));
      }
    }
    this.#emit('timeline', { conversation: entry.conversation });
    this.#emit('conversations');
  }

  /**
   * Begin a new epoch before sending when the policy says so (crypto/SPEC.md, "Epoch
   * rotation"): the epoch holds 100 messages or is 7 days old, or a member's keys changed.
   * @param {Conversation} conversation
   */
  async #rotateIfDue(conversation) {
    if (!this.socket.connected) return;
    const local = conversation.timeline?.epochUsage(conversation.currentEpoch) ?? { count: 0, oldest: null };
    const due = rotationDue({
      serverCount: conversation.epochMessages,
      serverStartedAt: conversation.epochStartedAt,
      localCount: local.count,
      localOldest: local.oldest,
      keysChanged: conversation.keysChanged,
      now: Date.now(),
    });
    if (!due) return;
    const epoch = conversation.currentEpoch + 1;
    const members = [...conversation.members.values()];
    const { key, envelopes } = this.keys.newEpoch(conversation.id, epoch, members);
    try {
      await this.socket.request({ type: 'rekey', conversation: conversation.id, epoch, envelopes });
      this.keys.keep(conversation.id, epoch, key);
      this.#beganEpoch(conversation, epoch, new Date().toISOString());
    } catch {
      // Someone else began it first, or the socket dropped: use whatever epoch is current.
      key.wipe();
      await this.refreshConversation(conversation.id);
    }
  }

  /**
   * A new epoch is current: its count and age start again.
   * @param {Conversation} conversation
   * @param {number} epoch
   * @param {string} startedAt
   */
  #beganEpoch(conversation, epoch, startedAt) {
    conversation.currentEpoch = epoch;
    conversation.epochStartedAt = startedAt;
    conversation.epochMessages = 0;
    conversation.countedSeq = conversation.lastSeq;
    conversation.keysChanged = false;
    conversation.rotatedFor = this.peer(conversation)?.identityB64 ?? null;
    this.#emit('epoch', { conversation: conversation.id, epoch });
  }

  /**
   * Count a stored message toward its epoch's total, once.
   * @param {Conversation} conversation
   * @param {number} seq
   * @param {number} epoch
   */
  #count(conversation, seq, epoch) {
    if (seq <= conversation.countedSeq) return;
    conversation.countedSeq = seq;
    if (epoch === conversation.currentEpoch) conversation.epochMessages += 1;
  }

  /**
   * @param {string} type
   * @param {object} [detail]
   */
  #emit(type, detail = {}) {
    if (type !== 'session-ended' && this.#stopped) return;
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/**
 * Whether the next message must begin a new epoch. The server's count and start time
 * (`epoch_messages`, `epoch_started_at`) and what this browser holds are both consulted,
 * and the larger count and the older start win: a server that understates either cannot
 * keep an epoch in use beyond the policy as far as this browser can see.
 * @param {{serverCount: number, serverStartedAt: string|null, localCount: number,
 *          localOldest: string|null, keysChanged: boolean, now: number}} usage
 */
export function rotationDue({ serverCount, serverStartedAt, localCount, localOldest, keysChanged, now }) {
  const count = Math.max(Number.isInteger(serverCount) ? serverCount : 0, localCount);
  const starts = [serverStartedAt, localOldest]
    .map((iso) => (iso ? Date.parse(iso) : Number.NaN))
    .filter((time) => Number.isFinite(time));
  const age = starts.length ? (now - Math.min(...starts)) / 1000 : 0;
  return needsRotation(count, Math.max(0, age), keysChanged);
}

/** A conversation whose member list no honest server would send. */
export class ConversationRefused extends Error {}

/**
 * A conversation is one client and one therapist, one of them this user. Any other member
 * list can only come from a server adding a reader (whose envelopes and messages would then
 * be trusted), so the conversation is refused whole: no key is opened, nothing is shown.
 * @param {any} raw
 * @param {number} myId
 */
export function refuseUnlessTwoPeople(raw, myId) {
  const members = Array.isArray(raw?.members) ? raw.members : [];
  const ids = new Set(members.map((/** @type {any} */ m) => m.id));
  const roles = members.map((/** @type {any} */ m) => m.role).sort().join(',');
  if (members.length !== 2 || ids.size !== 2 || !ids.has(myId) || roles !== 'client,therapist') {
    throw new ConversationRefused(
      `Conversation ${String(raw?.id)} does not consist of you and one other person; it is not shown.`,
    );
  }
}
