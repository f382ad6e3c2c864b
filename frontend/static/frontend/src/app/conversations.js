/**
 * The person's conversations as the server lists them, checked before anything is trusted:
 * exactly one client and one therapist, this person one of them; every member's identity
 * verified and compared with the one this browser saw before; every envelope of the listing
 * unwrapped against its wrapper's identity. Also the bookkeeping every stored message and
 * read receipt adds to a conversation, and a therapist's own filing of it (a label, an
 * archive) that a message from the client undoes.
 *
 * @module
 */

import * as api from './api.js';
import { isCryptoError, isDowngrade, parseIdentity, verifySuccession } from './keys.js';


/** A conversation's statuses in the order they come; it never goes back. */
const STATUS_ORDER = ['active', 'discharged', 'erasing', 'erased'];
/**
 * @typedef {object} Member
 * @property {number} id
 * @property {string} displayName
 * @property {string} role
 * @property {string} identityB64
 * @property {import('../crypto/index.js').PublicIdentity} identity
 * @property {import('../crypto/index.js').PublicIdentity[]} previous identities an assisted
 *   recovery replaced, newest first, each taken from a succession the confirming therapist
 *   signed (never from the server's word): their earlier messages and envelopes are signed
 *   with them
 * @property {RecoveryNote|null} recovery the assisted recovery that gave them their current
 *   identity, as its succession states it (null: none that this browser can verify)
 * @property {import('../crypto/index.js').PublicIdentity[]} firstListed their identities as
 *   the page's first listing of the conversation named them: an earlier epoch's envelope,
 *   fetched only when first needed (`LISTING`), is opened under them too, as it would have
 *   been had it come with that listing
 */

/**
 * @typedef {object} RecoveryNote
 * @property {number} confirmedBy the therapist who confirmed it and signed its succession
 * @property {string} confirmedByName
 * @property {string} at when, as the therapist's signed succession dates it
 */

/**
 * @typedef {object} Conversation
 * @property {string} id
 * @property {string} status 'active', 'discharged' (read-only), 'erasing' or 'erased' (nothing
 *   of its history is kept, here or on the server)
 * @property {string|null} dischargedAt when the therapist discharged it
 * @property {string|null} erasedAt when its erasure finished
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
 * @property {import('./timeline.js').Timeline|null} timeline
 * @property {boolean} loading
 * @property {{user: number, previous: string, recovery: RecoveryNote|null, verified: boolean}|null} identityChanged
 *   the peer's identity differs from the pinned one; `verified`: the pinned one was
 *   verified, so nothing is sent until the person compares again or accepts the change
 *   the peer's identity is not the one this browser saw before; `recovery` when the server
 *   says an assisted recovery changed it
 * @property {string} label this person's own name for the conversation ('' for none), kept by
 *   the server and never shown to the other member
 * @property {string|null} archivedAt when this person archived it, null when it is not
 *   archived (a message from the other member after that time brings it back)
 * @property {string|null} lastIncomingAt when the other member last wrote, of the messages
 *   this page has seen
 * @property {{epoch: number, wrapper: number}|null} [downgradeRefused] an epoch's key came
 *   wrapped with X25519 alone after this person's identity held an X-Wing key, and was
 *   refused (the newest such epoch); the next send begins a new epoch
 * @property {{highest: number, seenAt: number}|null} [restoredFrom] set once a restore of
 *   the server seen in this conversation took its listing back to an older epoch: the
 *   highest epoch this browser held before (`highest`) and when the restore was seen (ms
 *   since 1970). Nothing new is written in an epoch up to `highest` unless its envelope
 *   signs a start after `seenAt` (an epoch begun since), so neither the older epoch listed
 *   nor a genuine later one the server brings back is written in (epochs.js,
 *   `writesRefused`)
 * @property {RestoreNote|null} [restore] the last restore of the server seen in this
 *   conversation, for the view to say
 */

/**
 * What a restore of the server from a backup took off it, as this browser saw it
 * (incoming.js): the number it went back to, the messages shown that are no longer on
 * it (this person's and the other member's), how many of this person's go again, how
 * many could not (their bytes were no longer kept), how many were not sent again because
 * the members' keys are no longer those they were written to (`keysChanged`: a server
 * could claim a restore to have them sealed to a key it put in a member's place), and
 * whether the server announced it (a new database generation) or only listed fewer
 * messages than held.
 * @typedef {object} RestoreNote
 * @property {number} restoredAt
 * @property {number} lost
 * @property {number} theirs
 * @property {number} resent
 * @property {number} notResent
 * @property {number} keysChanged
 * @property {boolean} announced
 */

/** @typedef {(type: string, detail?: object) => void} Emit */

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

/**
 * The listing, with each conversation's current epoch's envelope only: what a sign-in
 * downloads grows with the conversations, not with their years of epochs. An older epoch's
 * envelope comes with the conversation's detail (`refresh`), when one of its messages is
 * first opened (incoming.js) or its key is wrapped for a recovery (recoveries.js).
 */
export const LISTING = '/api/conversations?envelopes=current';
/**
 * Conversations a page of the listing holds, newest activity first: an inbox shows once the
 * first page is in, however many conversations follow (`refreshAll`).
 */
export const LISTING_PAGE = 50;

export class ConversationList {
  /** Read by the views through `Messenger.conversations`; changed only here. */
  /** @type {Map<string, Conversation>} */
  byId = new Map();
  /** Conversations being listed again after a restore was seen in them. */
  /** @type {Set<string>} */
  #afterRestore = new Set();
  /** The older epoch each of those went back to, when it did. */
  /** @type {Map<string, number>} */
  #rolledBack = new Map();
  /** When the last whole listing arrived (performance.now()), or null before any. */
  /** @type {number|null} */
  #listedAt = null;
  /** The last whole listing begun, while its pages are still coming. */
  /** @type {{began: number, whole: Promise<void>}|null} */
  #inFlight = null;
  /** The listing asked for while one was under way: it begins when that one ends. */
  /** @type {Promise<void>|null} */
  #following = null;
  /** Counts `clear()`s: a listing under way when the session ended absorbs nothing more. */
  #cleared = 0;

  /**
   * @param {{me: any, keys: import('./keys.js').Keys, seen: import('./seen.js').SeenIdentities,
   *          emit: Emit}} options
   */
  constructor({ me, keys, seen, emit }) {
    this.me = me;
    this.keys = keys;
    this.seen = seen;
    this.emit = emit;
  }

  /** @param {string} id */
  get(id) {
    return this.byId.get(id);
  }

  /**
   * Conversations, newest activity first: the last message, or for one without any the
   * start of its epoch (its beginning, unless a new epoch began before a first message), as
   * the server's listing orders them, so that a later page's rows come below those shown.
   */
  list() {
    const activity = (/** @type {Conversation} */ c) => c.lastMessageAt ?? c.epochStartedAt ?? '';
    return [...this.byId.values()].sort((a, b) => activity(b).localeCompare(activity(a)));
  }

  /**
   * The other member (the person this conversation is with).
   * @param {Conversation} conversation
   * @returns {Member|undefined}
   */
  peer(conversation) {
    return [...conversation.members.values()].find((m) => m.id !== this.me.id);
  }

  /**
   * List every conversation again, a page at a time (`LISTING_PAGE`), each page shown as
   * it comes; those no longer listed are forgotten once the last has come. `shown`, when
   * given, hears once that the first page is in (with the last, for a listing of one page).
   * The server lists again on the last page whatever moved while the pages were read
   * (docs/protocol.md), so a conversation may come twice: the later is the newer.
   * @param {{shown?: () => void}} [options]
   */
  refreshAll({ shown } = {}) {
    // One listing at a time, so that an older one's pages never land over a newer one's, nor
    // does it forget what a newer one listed: one asked for meanwhile begins when it ends,
    // and every request made meanwhile is answered by that one.
    if (this.#inFlight) {
      this.#following ??= this.#inFlight.whole
        .catch(() => undefined)
        .then(() => {
          this.#following = null;
          return this.#listOnce(shown);
        });
      return this.#following;
    }
    return this.#listOnce(shown);
  }

  /** @param {(() => void)|undefined} shown */
  async #listOnce(shown) {
    const whole = this.#listAll(shown);
    const flight = { began: performance.now(), whole };
    this.#inFlight = flight;
    try {
      await whole;
    } finally {
      if (this.#inFlight === flight) this.#inFlight = null;
    }
  }

  /** Whether a whole listing has come since the page began (the sign-in's, or a later one). */
  get complete() {
    return this.#listedAt !== null;
  }

  /** @param {(() => void)|undefined} shown */
  async #listAll(shown) {
    const session = this.#cleared;
    const listed = new Set();
    let query = `${LISTING}&limit=${LISTING_PAGE}`;
    for (;;) {
      const answer = await api.get(query);
      if (session !== this.#cleared) return; // the session ended meanwhile
      for (const raw of answer.conversations ?? []) {
        try {
          listed.add(this.#absorb(raw).id);
        } catch (error) {
          if (!(error instanceof ConversationRefused)) throw error;
          this.emit('conversation-refused', { conversation: raw.id, reason: error.message });
        }
      }
      if (typeof answer.next !== 'string') break;
      this.emit('conversations');
      shown?.();
      shown = undefined;
      query = `${LISTING}&limit=${LISTING_PAGE}&after=${encodeURIComponent(answer.next)}`;
    }
    for (const id of [...this.byId.keys()]) {
      if (!listed.has(id)) this.byId.delete(id);
    }
    this.#listedAt = performance.now();
    this.emit('conversations');
    shown?.();
  }

  /**
   * Whether the whole listing arrived less than `ms` ago, waiting first for one begun less
   * than `ms` ago whose pages are still coming: the socket's first connect, just after the
   * sign-in listed everything, need not list it all again.
   * @param {number} ms
   */
  async listedWithin(ms) {
    const flight = this.#inFlight;
    if (flight && performance.now() - flight.began < ms) await flight.whole.catch(() => undefined);
    return this.#listedAt !== null && performance.now() - this.#listedAt < ms;
  }

  /** @param {string} id */
  async refresh(id) {
    const answer = await api.get(`/api/conversations/${encodeURIComponent(id)}`);
    const conversation = this.#absorb(answer.conversation);
    this.emit('conversations');
    return conversation;
  }

  /**
   * List a conversation again after a restore of the server was seen in it (incoming.js):
   * its numbers, read positions and epoch count are the server's again, and only here may
   * the listing name an older current epoch than the one this browser knew. Then the keys
   * of the later epochs are forgotten (the server numbers its next epochs again, with new
   * keys), and no epoch up to the highest held before is written in unless it began after
   * this moment (`restoredFrom`). Resolves to the epoch it went back to, or null when it
   * did not.
   * @param {string} id
   * @returns {Promise<number|null>}
   */
  async refreshAfterRestore(id) {
    this.#afterRestore.add(id);
    try {
      await this.refresh(id);
      return this.#rolledBack.get(id) ?? null;
    } finally {
      this.#afterRestore.delete(id);
      this.#rolledBack.delete(id);
    }
  }

  /**
   * A message of this conversation is stored under `seq`: the last number, the last
   * activity and the epoch's count follow; one from the other member written after the
   * conversation was archived brings it back (as the server's listing does). Returns
   * whether it is the newest known.
   * @param {Conversation} conversation
   * @param {number} seq
   * @param {number} epoch
   * @param {string} sentAt
   * @param {number} [sender] the sender's id (unknown for this person's own acks)
   */
  noteStored(conversation, seq, epoch, sentAt, sender) {
    if (sender !== undefined && sender !== this.me.id) {
      if (conversation.lastIncomingAt === null || writtenAfter(sentAt, conversation.lastIncomingAt)) {
        conversation.lastIncomingAt = sentAt;
      }
      if (writtenAfter(sentAt, conversation.archivedAt)) conversation.archivedAt = null;
    }
    const isNewest = seq > conversation.lastSeq;
    // Counted once per number, whichever of the ack, the push or a page brings it first.
    if (seq > conversation.countedSeq) {
      conversation.countedSeq = seq;
      if (epoch === conversation.currentEpoch) conversation.epochMessages += 1;
    }
    conversation.lastSeq = Math.max(conversation.lastSeq, seq);
    if (isNewest || !conversation.lastMessageAt) conversation.lastMessageAt = sentAt;
    return isNewest;
  }

  /**
   * A member (this person too, from another tab) has read up to `seq`.
   * @param {{conversation: string, user: number, seq: number}} receipt
   */
  noteRead({ conversation: id, user, seq }) {
    const conversation = this.byId.get(id);
    if (!conversation) return;
    const position = Math.max(conversation.readSeqs.get(user) ?? 0, seq);
    conversation.readSeqs.set(user, position);
    if (user === this.me.id) {
      conversation.lastReadSeq = Math.max(conversation.lastReadSeq, position);
      if (position >= conversation.lastSeq) conversation.unread = 0;
      this.emit('conversations');
    }
    this.emit('timeline', { conversation: id });
  }

  /**
   * The server said the conversation's status changed (a `conversation_status` event, or a
   * history or sync page of a conversation being erased): discharged, it is read-only;
   * being erased or erased, nothing of its history is kept here either.
   * @param {string} id
   * @param {string} status
   * @param {string|null} at when, if the server said
   */
  noteStatus(id, status, at) {
    const conversation = this.byId.get(id);
    if (!conversation) return;
    const discharged = status === 'discharged' ? at : conversation.dischargedAt;
    const erased = status === 'erased' ? at : conversation.erasedAt;
    if (!this.#applyStatus(conversation, status, discharged, erased)) return;
    this.emit('conversation-status', { conversation: id, status });
    this.emit('timeline', { conversation: id });
    this.emit('conversations');
  }

  /**
   * @param {Conversation} conversation
   * @param {string} status
   * @param {string|null} dischargedAt
   * @param {string|null} erasedAt
   * @returns {boolean} whether anything changed
   */
  #applyStatus(conversation, status, dischargedAt, erasedAt) {
    const changed =
      conversation.status !== status ||
      conversation.dischargedAt !== dischargedAt ||
      conversation.erasedAt !== erasedAt;
    // A conversation never becomes active again, whatever a late answer says.
    if (conversation.status === 'active' || STATUS_ORDER.indexOf(status) > STATUS_ORDER.indexOf(conversation.status)) {
      conversation.status = status;
    }
    conversation.dischargedAt = dischargedAt;
    conversation.erasedAt = erasedAt;
    if (conversation.status === 'erasing' || conversation.status === 'erased') {
      conversation.timeline?.clear();
      conversation.timeline = null;
      conversation.unread = 0;
    }
    return changed;
  }

  /** Forget every conversation and its messages (the session ended). */
  clear() {
    this.#cleared += 1;
    for (const conversation of this.byId.values()) conversation.timeline?.clear();
    this.byId.clear();
  }

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
        previous: [],
        recovery: null,
        firstListed: [],
      });
    }
    for (const member of raw.members) {
      const known = /** @type {Member} */ (members.get(member.id));
      const confirmer = this.#confirmerOf(known, members);
      Object.assign(known, recoveryOf(member.identity_changed, known, confirmer));
    }
    const known = this.byId.get(raw.id);
    for (const member of members.values()) {
      const before = known?.members.get(member.id);
      member.firstListed = before ? before.firstListed : identitiesOf(member);
    }
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
      label: '',
      archivedAt: null,
      lastIncomingAt: null,
      restoredFrom: null,
      restore: null,
      dischargedAt: null,
      erasedAt: null,
    };
    this.#applyStatus(conversation, raw.status, raw.discharged_at ?? null, raw.erased_at ?? null);
    applyInboxEntry(conversation, raw);
    const restored = known !== undefined && this.#afterRestore.has(raw.id);
    // An older current epoch than one held is taken only after a restore was seen here: an
    // old epoch presented as current is otherwise not believed (crypto/SPEC.md, "Epoch
    // rotation"), and even then it is not written in.
    const rollback = restored && raw.current_epoch < (known?.currentEpoch ?? 0);
    if (rollback) {
      this.keys.forgetAfter(raw.id, raw.current_epoch);
      // Every epoch up to the highest held is refused, not only the one listed: the server
      // could otherwise bring back a later one with its genuine old envelope, as current.
      // An earlier restore's refusal stays (it keeps its highest epoch, from now on).
      conversation.restoredFrom = {
        highest: Math.max(known?.currentEpoch ?? 0, conversation.restoredFrom?.highest ?? 0),
        seenAt: Date.now(),
      };
      this.#rolledBack.set(raw.id, raw.current_epoch);
    }
    if (restored || raw.current_epoch >= (known?.currentEpoch ?? 0)) {
      // The server's account of the current epoch, for the rotation policy. A server that
      // understates it is outvoted by what this browser holds (see rotationDue).
      conversation.epochStartedAt = typeof raw.epoch_started_at === 'string' ? raw.epoch_started_at : null;
      conversation.epochMessages = Number.isInteger(raw.epoch_messages) ? raw.epoch_messages : 0;
      conversation.countedSeq = raw.last_seq;
    }
    conversation.currentEpoch = rollback ? raw.current_epoch : Math.max(known?.currentEpoch ?? 0, raw.current_epoch);
    // After a restore the server numbers anew: its numbers and read positions stand.
    conversation.lastSeq = restored ? raw.last_seq : Math.max(known?.lastSeq ?? 0, raw.last_seq);
    conversation.lastMessageAt = raw.last_message_at ?? conversation.lastMessageAt;
    conversation.lastReadSeq = restored ? raw.last_read_seq : Math.max(known?.lastReadSeq ?? 0, raw.last_read_seq);
    conversation.unread = raw.unread;
    conversation.members = members;
    if (restored) conversation.readSeqs.clear();
    for (const [user, seq] of Object.entries(raw.read_seqs ?? {})) {
      const id = Number(user);
      conversation.readSeqs.set(id, Math.max(conversation.readSeqs.get(id) ?? 0, Number(seq)));
    }
    for (const member of members.values()) {
      if (member.id === this.me.id) continue;
      const { changed, previous, verified } = this.seen.check(member.id, member.identityB64);
      if (changed && previous) {
        conversation.identityChanged = { user: member.id, previous, recovery: member.recovery, verified };
        // Keys wrapped before the change must not protect what follows it.
        if (conversation.rotatedFor !== member.identityB64) conversation.keysChanged = true;
        this.emit('identity-changed', { conversation: conversation.id, user: member.id });
      }
    }
    // Nothing kept unopened stands for the current epoch: its key comes from its own
    // envelope as listed now (or its `epoch` event), never from one kept from before.
    this.keys.undefer(conversation.id, conversation.currentEpoch);
    for (const item of raw.envelopes ?? []) {
      if (this.keys.ring.has(conversation.id, item.epoch)) continue;
      // An epoch after the current one is no epoch yet: a server's invention.
      if (item.epoch > conversation.currentEpoch) continue;
      const wrapper = members.get(item.wrapper);
      if (!wrapper) continue;
      // What this person wrapped is checked against their own keys, never against an
      // identity the server lists for them (it could list one of its own, and sign a key
      // of its choice with it).
      const wrappers = wrapperIdentities(this.keys, this.me.id, wrapper);
      /** @param {unknown} error */
      const refused = (error) => {
        if (!isCryptoError(error)) throw error;
        // An envelope that does not verify is ignored: its messages will show as unopenable.
        if (isDowngrade(error)) this.refusedDowngrade(conversation, item.epoch, item.wrapper);
      };
      if (item.epoch !== conversation.currentEpoch) {
        // An earlier epoch's key is opened when one of its messages is first read.
        const earlier = item.wrapper === this.me.id ? [] : wrapper.firstListed;
        this.keys.defer(conversation.id, item.epoch, item.envelope, [...wrappers, ...earlier], refused);
        continue;
      }
      try {
        this.keys.unwrapFromAny(conversation.id, item.epoch, item.envelope, wrappers);
      } catch (error) {
        refused(error);
      }
    }
    this.byId.set(conversation.id, conversation);
    return conversation;
  }

  /**
   * An epoch's key came wrapped without X-Wing after this person's identity held one: it
   * was refused (crypto/SPEC.md, "Version 3: wrapped with X-Wing"), and the conversation
   * says so once for the newest such epoch.
   * @param {Conversation} conversation
   * @param {number} epoch
   * @param {number} wrapper
   */
  refusedDowngrade(conversation, epoch, wrapper) {
    if ((conversation.downgradeRefused?.epoch ?? -1) >= epoch) return;
    conversation.downgradeRefused = { epoch, wrapper };
    this.emit('key-downgrade', { conversation: conversation.id, epoch, wrapper });
  }

  /**
   * The only therapist this browser knows who may have confirmed `member`'s recovery, for
   * checking its succession: the other member of the conversation, a therapist, with the
   * identity this browser knows (its own key, never the server's copy, when that is this
   * person; the listed one, compared with what this browser saw before, otherwise).
   * @param {Member} member
   * @param {Map<number, Member>} members
   * @returns {Confirmer|null}
   */
  #confirmerOf(member, members) {
    if (member.role !== 'client') return null;
    const other = [...members.values()].find((m) => m.id !== member.id);
    if (!other || other.role !== 'therapist') return null;
    if (other.id === this.me.id && this.keys.wiped) return null;
    const identity = other.id === this.me.id ? this.keys.publicIdentity : other.identity;
    return { id: other.id, displayName: other.displayName, identity };
  }
}

/**
 * @typedef {object} Confirmer
 * @property {number} id
 * @property {string} displayName
 * @property {import('../crypto/index.js').PublicIdentity} identity as this browser knows it
 */

/**
 * A member's identities, current first, then those an assisted recovery replaced, newest
 * first: what their messages and envelopes may be signed with.
 * @param {Member} member
 */
export function identitiesOf(member) {
  return [member.identity, ...member.previous];
}

/**
 * The identities an envelope `wrapper` signed may verify under: the member's
 * (`identitiesOf`), except for what this person wrapped, checked against the keys this page
 * holds, never an identity the server lists for them (it could list one of its own and sign
 * a key of its choice with it). Their listed identity (the same keys, with or without an
 * X-Wing key) and those an assisted recovery replaced count only when the server lists
 * the keys held here.
 * @param {import('./keys.js').Keys} keys
 * @param {number} myId
 * @param {Member} wrapper as listed
 */
export function wrapperIdentities(keys, myId, wrapper) {
  if (wrapper.id !== myId) return identitiesOf(wrapper);
  const held = keys.publicIdentity;
  return keys.signsAsMe(wrapper.identity) ? [held, wrapper.identity, ...wrapper.previous] : [held];
}

/**
 * A member's earlier identities, from the successions the server serves with them
 * (`identity_changed.successions`, crypto/SPEC.md "Assisted recovery"), and the recovery
 * that gave them their current one. An earlier identity is accepted only from a succession
 * that verifies under `confirmer`'s identity as this browser knows it and names this
 * member, that confirmer and, as the new identity, the member's current identity or an
 * earlier one accepted so (a chain of recoveries, newest first). Nothing else the server
 * says counts: with no confirmer, or no succession that verifies, there are none, and a
 * change of keys is an unexplained one.
 * @param {any} change
 * @param {{id: number, identity: import('../crypto/index.js').PublicIdentity}} member
 * @param {Confirmer|null} confirmer
 * @returns {{previous: import('../crypto/index.js').PublicIdentity[], recovery: RecoveryNote|null}}
 */
export function recoveryOf(change, member, confirmer) {
  /** @type {import('../crypto/index.js').PublicIdentity[]} */
  const previous = [];
  if (!confirmer || change?.reason !== 'recovery' || !Array.isArray(change.successions)) {
    return { previous, recovery: null };
  }
  const unused = new Set(change.successions.filter((text) => typeof text === 'string'));
  /** @type {RecoveryNote|null} */
  let recovery = null;
  let current = member.identity;
  for (;;) {
    const stated = nextSuccession(unused, current, member.id, confirmer);
    if (!stated || [member.identity, ...previous].some((known) => known.equals(stated.previousIdentity))) break;
    previous.push(stated.previousIdentity);
    recovery ??= {
      confirmedBy: confirmer.id,
      confirmedByName: confirmer.displayName,
      at: new Date(stated.confirmedAt * 1000).toISOString(),
    };
    current = stated.previousIdentity;
  }
  return { previous, recovery };
}

/**
 * The succession among `unused` that verifies under `confirmer` for `userId` with `current`
 * as its new identity (taken out of `unused`), or null.
 * @param {Set<string>} unused
 * @param {import('../crypto/index.js').PublicIdentity} current
 * @param {number} userId
 * @param {Confirmer} confirmer
 */
function nextSuccession(unused, current, userId, confirmer) {
  for (const text of unused) {
    try {
      const stated = verifySuccession(text, confirmer.identity, {
        userId,
        confirmerId: confirmer.id,
        newIdentity: current,
      });
      unused.delete(text);
      return stated;
    } catch (error) {
      if (!isCryptoError(error)) throw error;
    }
  }
  return null;
}

/**
 * This person's own label and archive time of a conversation, as the server answers them
 * (a listing, or `POST .../label` and `.../archive`). An answer written before a message
 * this page has already seen from the other member does not archive it again.
 * @param {Conversation} conversation
 * @param {{label?: unknown, archived_at?: unknown}} entry
 */
export function applyInboxEntry(conversation, entry) {
  conversation.label = typeof entry.label === 'string' ? entry.label : '';
  const archivedAt = typeof entry.archived_at === 'string' ? entry.archived_at : null;
  conversation.archivedAt = writtenAfter(conversation.lastIncomingAt ?? '', archivedAt) ? null : archivedAt;
}

/**
 * Whether a message sent at `sentAt` came after `archivedAt` (false when not archived).
 * Both are the server's times, in UTC as Python's `isoformat` writes them (protocol/common.py),
 * which compare as text in the order they happened, to the microsecond; times with another
 * offset are compared as dates.
 * @param {string} sentAt
 * @param {string|null} archivedAt
 */
export function writtenAfter(sentAt, archivedAt) {
  if (typeof archivedAt !== 'string' || typeof sentAt !== 'string') return false;
  const utc = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/;
  if (utc.test(sentAt) && utc.test(archivedAt)) return sentAt > archivedAt;
  return Date.parse(sentAt) > Date.parse(archivedAt);
}

/**
 * The name this person sees for a conversation: their own label, else the other member's
 * display name.
 * @param {Conversation} conversation
 * @param {Member|undefined} peer
 */
export function shownName(conversation, peer) {
  return conversation.label || peer?.displayName || 'Conversation';
}
