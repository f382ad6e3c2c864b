/**
 * The messaging engine of a signed-in tab, as the views see it: the glue between the
 * conversation list (conversations.js), epochs (epochs.js), incoming messages
 * (incoming.js), sending (delivery.js, outbox.js) and the websocket (socket.js). Every
 * frame the server sends without a request waiting for it is dispatched here, in one
 * place (`#dispatch`); every frame this tab sends is built by frames.js.
 *
 * Views read its state and listen to its events; they never see a key or a frame.
 *
 * Events (CustomEvent, `detail` in brackets): `conversations`, `timeline` [{conversation}],
 * `incoming` [{conversation, message}], `typing` [{conversation, user}], `status`
 * [{state}], `identity-changed` [{conversation, user}], `conversation-refused`
 * [{conversation, reason}], `session-ended` [{code}], `epoch` [{conversation, epoch}] (a
 * new epoch began, here or at the peer), `agreement-required` [{conversation}] (the server
 * refused a message until the practice's current messaging agreement is accepted),
 * `recoveries` [{recovery}] (a client of this therapist asked for an assisted recovery),
 * `identity-recovered` [{user, confirmedBy}] (a member's identity changed by an assisted
 * recovery; the conversations were listed again), `restored` [{conversation}] (the server
 * was restored from a backup and lost messages of the conversation that this tab holds:
 * `conversation.restore` says what; incoming.js), `conversation-status` [{conversation,
 * status}] (discharged, being erased or erased: `conversation.status`).
 *
 * @module
 */

import * as api from './api.js';
import { attachmentName, attachmentType, downloadAttachment, uploadAttachment } from './attachments.js';
import { ConversationList } from './conversations.js';
import { Delivery, VerifiedKeyChangedError } from './delivery.js';
import { Epochs } from './epochs.js';
import { readFrame, typingFrame } from './frames.js';
import { Incoming } from './incoming.js';
import { messageContent } from './keys.js';
import { Outbox } from './outbox.js';
import { Socket } from './socket.js';
import { Timeline } from './timeline.js';

const SYNC_EVERY_MS = 60_000;

/** @typedef {import('./conversations.js').Conversation} Conversation */
/** @typedef {import('./conversations.js').Member} Member */
/** @typedef {import('./keys.js').OrderNotice} OrderNotice */

export { VerifiedKeyChangedError };

export class Messenger extends EventTarget {
  /** @type {ConversationList} */
  #conversations;
  /** @type {Incoming} */
  #incoming;
  /** @type {Epochs} */
  #epochs;
  /** @type {Delivery} */
  #delivery;
  /** @type {number|undefined} */
  #syncTimer;
  #stopped = false;
  /** Resolves once the first listing's last page is in (or failed). */
  /** @type {Promise<void>} */
  listed = Promise.resolve();
  /** Whether the socket was ready once already (its first connect follows the sign-in's listing). */
  #readyBefore = false;
  /** @type {Map<string, {version: number, notices: Map<number, OrderNotice[]>}>} */
  #orderNotices = new Map();

  /**
   * @param {{me: any, keys: import('./keys.js').Keys, storage: any,
   *          seen: import('./seen.js').SeenIdentities}} options
   */
  constructor({ me, keys, storage, seen }) {
    super();
    this.me = me;
    this.keys = keys;
    this.seen = seen;
    /** @type {import('./conversations.js').Emit} */
    const emit = (type, detail) => this.#emit(type, detail);
    const outbox = new Outbox(storage, `confide.outbox.${me.id}`);
    const socket = new Socket({
      url: '/ws',
      onFrame: (frame) => this.#dispatch(frame),
      onReady: (frame) => this.#onReady(frame),
      onState: (state) => emit('status', { state }),
      onSessionGone: (code) => emit('session-ended', { code }),
    });
    const conversations = new ConversationList({ me, keys, seen, emit });
    const incoming = new Incoming({
      me,
      keys,
      socket,
      conversations,
      emit,
      ownStored: (clientMessageId) => this.#delivery.heardStored(clientMessageId),
      reupload: (conversation, messages, rolledBackTo) =>
        this.#delivery.reupload(conversation.id, messages, rolledBackTo),
    });
    const epochs = new Epochs({
      keys,
      socket,
      conversations,
      emit,
      loadOlder: (conversation) => this.#incoming.loadOlder(conversation),
    });
    this.outbox = outbox;
    this.socket = socket;
    this.#conversations = conversations;
    this.#incoming = incoming;
    this.#epochs = epochs;
    this.#delivery = new Delivery({ me, keys, socket, outbox, conversations, incoming, epochs, emit });
    // However the news came (an event, a page, a listing), a conversation no longer active
    // sends nothing more.
    this.addEventListener('conversation-status', (event) =>
      this.#delivery.closed(/** @type {CustomEvent} */ (event).detail.conversation),
    );
    // A conversation listed after the outbox was taken up (a later listing brought it):
    // the texts of its messages waiting there are read now.
    this.addEventListener('conversations', () => this.#delivery.readBack());
  }

  /** The conversations by id (read them; the messenger changes them). */
  get conversations() {
    return this.#conversations.byId;
  }

  /**
   * Load the conversations, connect, and take up the outbox a reload left. Resolves once
   * the listing's first page is in (the inbox can show; a failure there rejects), and
   * connects then; the rest of a long listing follows (`listed`), and the outbox is taken
   * up after it.
   */
  async start() {
    /** @type {() => void} */
    let firstPage = () => {};
    const shown = new Promise((resolve) => {
      firstPage = () => resolve(undefined);
    });
    const whole = this.#conversations.refreshAll({ shown: firstPage });
    // Heard of either way: a later page that failed is listed again at the first connect.
    this.listed = whole.catch(() => undefined);
    await Promise.race([shown, whole]);
    this.socket.start();
    this.#syncTimer = setInterval(() => {
      if (this.socket.connected) this.#incoming.syncHeld();
    }, SYNC_EVERY_MS);
    // The outbox a reload left, once every conversation's key is in (a message of one may
    // need sealing again, in a new epoch).
    this.listed.then(() => {
      if (!this.#stopped) this.#delivery.restore();
    });
  }

  /**
   * Whether no whole listing has come yet since the sign-in: conversations that appear
   * meanwhile are the listing's, not news.
   */
  get listing() {
    return !this.#conversations.complete;
  }

  /** Disconnect and forget everything: keys (wiped), outbox (here and in storage), text. */
  wipe() {
    this.#stopped = true;
    clearInterval(this.#syncTimer);
    this.socket.stop();
    this.#delivery.stop();
    this.keys.wipe();
    this.outbox.clear();
    this.seen.close();
    this.#conversations.clear();
    this.#orderNotices.clear();
  }

  // --- conversations -------------------------------------------------------------------

  /** Conversations, newest activity first. */
  list() {
    return this.#conversations.list();
  }

  /**
   * The other member (the person this conversation is with).
   * @param {Conversation} conversation
   * @returns {Member|undefined}
   */
  peer(conversation) {
    return this.#conversations.peer(conversation);
  }

  refreshConversations() {
    return this.#conversations.refreshAll();
  }

  /** @param {string} id */
  refreshConversation(id) {
    return this.#conversations.refresh(id);
  }

  /**
   * Start showing a conversation: its newest page of history, then whatever follows.
   * @param {string} id
   */
  async open(id) {
    const conversation = this.#conversations.get(id);
    if (!conversation) return;
    if (!conversation.timeline) conversation.timeline = new Timeline();
    await this.#incoming.open(conversation);
  }

  /**
   * Load the page before the oldest message held. Resolves to whether more may follow.
   * @param {string} id
   */
  async loadOlder(id) {
    const conversation = this.#conversations.get(id);
    return conversation ? this.#incoming.loadOlder(conversation) : false;
  }

  /**
   * Acknowledge that the peer's new identity has been seen (the warning goes away).
   * @param {string} id
   */
  acknowledgeIdentity(id) {
    const conversation = this.#conversations.get(id);
    const peer = conversation && this.peer(conversation);
    if (!conversation || !peer) return;
    this.seen.acknowledge(peer.id, peer.identityB64);
    conversation.identityChanged = null;
    this.#emit('timeline', { conversation: id });
  }

  /**
   * The person compared the safety number with the peer in person and it matched: the
   * identity whose number they compared (`shown`) is pinned as verified, and a change
   * warning goes away. Returns false, pinning nothing, when the peer's identity changed
   * since the number was shown.
   * @param {string} id
   * @param {string} shown the peer's base64url identity whose number was shown
   */
  verifyIdentity(id, shown) {
    const conversation = this.#conversations.get(id);
    const peer = conversation && this.peer(conversation);
    if (!conversation || !peer || peer.identityB64 !== shown) return false;
    this.seen.verify(peer.id, peer.identityB64);
    conversation.identityChanged = null;
    this.#emit('timeline', { conversation: id });
    return true;
  }

  /**
   * Whether the person verified the peer's identity as it is served now.
   * @param {Conversation} conversation
   */
  isVerified(conversation) {
    const peer = this.peer(conversation);
    return Boolean(peer && this.seen.isVerified(peer.id, peer.identityB64));
  }

  /**
   * This therapist confirmed a client's assisted recovery (views/recoveries.js): the new
   * identity is the one they compared in session, so it is remembered as seen (no warning
   * here), the conversations are listed again, and each begins a new epoch at once, its
   * key wrapped to the new identity (crypto/SPEC.md, "Epoch rotation").
   * @param {number} client
   * @param {string} identityB64 the new identity, as compared
   * @param {string[]} conversations
   */
  async confirmedRecovery(client, identityB64, conversations) {
    this.seen.acknowledge(client, identityB64);
    for (const id of conversations) {
      let conversation;
      try {
        conversation = await this.#conversations.refresh(id);
      } catch {
        continue; // listed again at the next reconnect; its next message rotates then
      }
      if (this.peer(conversation)?.identityB64 !== identityB64) continue;
      conversation.identityChanged = null;
      conversation.keysChanged = true;
      await this.#epochs.rotateIfDue(conversation);
    }
    this.#emit('conversations');
  }

  // --- sending -------------------------------------------------------------------------

  /**
   * Seal `text` and send it until acknowledged. Returns the client message id. Throws
   * `VerifiedKeyChangedError`, sealing nothing, while the peer's key differs from the one
   * the person verified (crypto/SPEC.md, "Pins"): their next message would be wrapped to a
   * key nobody has compared.
   * @param {string} id
   * @param {string} text
   */
  sendText(id, text) {
    return this.#delivery.sendText(id, text);
  }

  /**
   * Send a message presenting files, already uploaded (attachments.js,
   * `uploadAttachment`), with `text` (possibly empty): one message, sealed and sent like a
   * text, its content kept until acknowledged so that it goes again after a reconnect or
   * is sealed again after `stale_epoch`. Throws as `sendText`.
   * @param {string} id
   * @param {string} text
   * @param {import('./keys.js').AttachmentReference[]} attachments
   */
  sendFiles(id, text, attachments) {
    return this.#delivery.sendContent(id, messageContent(text, attachments));
  }

  /**
   * Seal and upload one file to a conversation, as it is read (attachments.js): resolves
   * to the reference a message presenting it carries (`sendFiles`). Rejects with the
   * server's refusal (`attachment_too_large`, `quota_exceeded`, ...), or the signal's
   * reason once it is aborted.
   * @param {string} id
   * @param {File} file
   * @param {{signal?: AbortSignal, onProgress?: (progress: import('./attachments.js').Progress) => void}} [options]
   */
  uploadFile(id, file, { signal, onProgress } = {}) {
    return uploadAttachment({
      conversation: id,
      file,
      name: attachmentName(file.name),
      type: attachmentType(file),
      signal,
      onProgress,
    });
  }

  /**
   * Download and open a file a message presents: its bytes, only once the whole stream
   * was checked against the message (attachments.js, `downloadAttachment`).
   * @param {import('./keys.js').AttachmentReference} reference
   * @param {{signal?: AbortSignal, onProgress?: (progress: import('./attachments.js').Progress) => void}} [options]
   */
  downloadFile(reference, { signal, onProgress } = {}) {
    return downloadAttachment(reference, { signal, onProgress });
  }

  /**
   * The person asked to try a failed message again.
   * @param {string} clientMessageId
   */
  retry(clientMessageId) {
    return this.#delivery.retry(clientMessageId);
  }

  /**
   * The person accepted the messaging agreement: the messages refused for want of it go
   * again (same bytes, in the order they were written).
   */
  agreementAccepted() {
    this.#delivery.afterAgreement();
  }

  /**
   * The unacknowledged messages of a conversation that the timeline does not show yet.
   * @param {string} id
   */
  pending(id) {
    return this.#delivery.pending(id);
  }

  /**
   * Tell the members this person has read everything shown (when it is visible).
   * @param {string} id
   */
  async markRead(id) {
    const conversation = this.#conversations.get(id);
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
      const reply = await this.socket.request(readFrame(id, seq));
      conversation.lastReadSeq = Math.max(conversation.lastReadSeq, reply.seq);
    } catch {
      conversation.lastReadSeq = Math.min(conversation.lastReadSeq, seq - 1);
    }
  }

  /** @param {string} id */
  typing(id) {
    this.socket.send(typingFrame(id));
  }

  /**
   * What the held messages' own order says the server's numbering hides (crypto/SPEC.md,
   * "Order"): the notices by the `seq` of the message each goes with. Worked out again
   * only when the timeline has changed.
   * @param {Conversation} conversation
   * @returns {Map<number, OrderNotice[]>}
   */
  orderNotices(conversation) {
    const timeline = conversation.timeline;
    if (!timeline) return new Map();
    const kept = this.#orderNotices.get(conversation.id);
    if (kept && kept.version === timeline.version) return kept.notices;
    const { run, fromStart } = timeline.orderRun();
    /** @type {Map<number, OrderNotice[]>} */
    const notices = new Map();
    for (const notice of this.keys.checkOrder(run, fromStart)) {
      notices.set(notice.seq, [...(notices.get(notice.seq) ?? []), notice]);
    }
    this.#orderNotices.set(conversation.id, { version: timeline.version, notices });
    return notices;
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

  /**
   * The state of a message a restore of the server took off it (`message.lost`), which the
   * timeline still shows: this person's own is *Sent* or *Read* again once it is stored
   * under a new number, and while it goes again it is in the outbox (*Sending…*, or *Not
   * sent* with Retry); otherwise, and for the other member's until their device sends it
   * again, it is no longer on the server (`restored`).
   * @param {Conversation} conversation
   * @param {import('./timeline.js').HeldMessage} message
   * @returns {{state: string|null, error: string|null}}
   */
  lostState(conversation, message) {
    const mine = message.sender === this.me.id;
    const seq = message.text === null ? undefined : conversation.timeline?.seqOf(message.clientMessageId);
    if (seq !== undefined) return { state: mine ? this.ownState(conversation, seq) : null, error: null };
    const entry = mine && message.text !== null ? this.outbox.get(message.clientMessageId) : undefined;
    if (entry && entry.conversation === conversation.id) return { state: entry.state, error: entry.error };
    return { state: 'restored', error: null };
  }

  // --- the socket's side ---------------------------------------------------------------

  /** @param {any} frame the server's `ready` */
  #onReady(frame) {
    if (this.#stopped) return;
    this.#incoming.ready(frame?.generation);
    this.#delivery.resendWaiting();
    this.#incoming.catchUp({ first: !this.#readyBefore });
    this.#readyBefore = true;
  }

  /**
   * Every frame the server sent that no request was waiting for: the events, and a reply
   * whose request gave up (of those only a late `ack` matters).
   * @param {any} frame
   */
  #dispatch(frame) {
    switch (frame.type) {
      case 'message':
        this.#incoming.push(frame);
        break;
      case 'ack':
        this.#delivery.settle(frame);
        break;
      case 'read':
        this.#conversations.noteRead(frame);
        break;
      case 'typing':
        if (frame.user !== this.me.id) {
          this.#emit('typing', { conversation: frame.conversation, user: frame.user });
        }
        break;
      case 'epoch':
        this.#incoming.enqueue(() => this.#epochs.accept(frame));
        break;
      case 'conversation_added':
        // A client accepted an invitation: list the conversations again (the event carries
        // nothing else). Lost events are made up by the listing after each reconnect.
        this.#incoming.enqueue(() => this.#conversations.refreshAll().catch(() => undefined));
        break;
      case 'disclosure_recorded':
        // The therapist recorded a disclosure: an open accounting view lists them again.
        this.#emit('disclosure', { conversation: frame.conversation, disclosure: frame.disclosure });
        break;
      case 'conversation_status':
        // Discharged (read-only), or being erased or erased (nothing of it is kept).
        this.#incoming.enqueue(() => this.#closed(frame.conversation, frame.status, frame.at));
        break;
      case 'recovery_requested':
        // A client of this therapist asked for an assisted recovery: the views list them.
        this.#emit('recoveries', { recovery: frame.recovery });
        break;
      case 'identity_changed':
        // A member's identity changed by a confirmed recovery: read the new one (and the
        // earlier ones its history is signed with), then say so. Or a member published the
        // X-Wing key of the same keys: read it before the next epoch is wrapped to them
        // (nothing to say: the fingerprint is the same).
        this.#incoming.enqueue(async () => {
          await this.#conversations.refreshAll().catch(() => undefined);
          if (frame.reason === 'post_quantum') return;
          this.#emit('identity-recovered', { user: frame.user, confirmedBy: frame.confirmed_by });
        });
        break;
      default:
        break;
    }
  }

  /**
   * The therapist discharges the conversation (docs/protocol.md, "Discharge and erasure"):
   * read-only for both from then on. Resolves once the server stored it.
   * @param {string} id
   */
  async discharge(id) {
    const answer = await api.post(`/api/conversations/${encodeURIComponent(id)}/discharge`);
    const raw = answer?.conversation;
    this.#closed(id, raw?.status ?? 'discharged', raw?.discharged_at ?? null);
  }

  /**
   * @param {string} id
   * @param {string} status
   * @param {string|null} at
   */
  #closed(id, status, at) {
    // Its `conversation-status` event closes the outbox's entries (see the constructor).
    this.#conversations.noteStatus(id, status, at);
  }

  /**
   * @param {string} type
   * @param {object} [detail]
   */
  #emit(type, detail = {}) {
    // After sign-out nothing may reach a view, except the news that the session ended.
    if (type !== 'session-ended' && this.#stopped) return;
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
