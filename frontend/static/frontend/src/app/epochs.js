/**
 * When a conversation begins a new epoch (crypto/SPEC.md, "Epoch rotation"): here, before
 * sending, when the policy says so (`rekey`); or at the peer (the `epoch` event).
 *
 * @module
 */

import { ROTATE_AFTER_MESSAGES, isCryptoError, isDowngrade, needsRotation } from './keys.js';
import { wrapperIdentities } from './conversations.js';
import { rekeyFrame } from './frames.js';

/**
 * Whether the next message must begin a new epoch.
 *
 * For an epoch whose version-2 envelope signs when it began (`signedStartedAt`, ms since
 * 1970), the age is taken from that and the count from the epoch's messages this browser
 * holds: nothing the server reports counts, so it can neither keep an old epoch in use by
 * presenting it as current nor force a rotation by claiming more messages
 * (crypto/SPEC.md, "Epoch rotation"). For a version-1 epoch, which signs no time, the
 * server's count and start (`epoch_messages`, `epoch_started_at`) and what this browser
 * holds are both consulted, and the larger count and the older start win.
 * @param {{serverCount: number, serverStartedAt: string|null, localCount: number,
 *          localOldest: string|null, keysChanged: boolean, now: number,
 *          signedStartedAt?: number|null}} usage
 */
export function rotationDue({
  serverCount,
  serverStartedAt,
  localCount,
  localOldest,
  keysChanged,
  now,
  signedStartedAt = null,
}) {
  if (signedStartedAt !== null) {
    return needsRotation(localCount, Math.max(0, (now - signedStartedAt) / 1000), keysChanged);
  }
  const count = Math.max(Number.isInteger(serverCount) ? serverCount : 0, localCount);
  const starts = [serverStartedAt, localOldest]
    .map((iso) => (iso ? Date.parse(iso) : Number.NaN))
    .filter((time) => Number.isFinite(time));
  const age = starts.length ? (now - Math.min(...starts)) / 1000 : 0;
  return needsRotation(count, Math.max(0, age), keysChanged);
}

/** @typedef {import('./conversations.js').Conversation} Conversation */

/**
 * Whether nothing new may be written in `epoch` (the conversation's current one unless
 * given) after a server restored from a backup listed an older epoch as current than one
 * this browser held (conversations.js, `refreshAfterRestore`, `restoredFrom`): any epoch up
 * to the highest held before, unless its envelope signs a start after the restore was
 * seen (an epoch this browser or the other member began since). What was sealed in the
 * epochs the server lost is gone with their numbers, and a server must not be able to
 * bring back a genuine older epoch (the one it listed, or a later one with its old
 * envelope, by an `epoch` event or a listing) to have new text written in it: the next
 * message begins a new epoch first, with a new key, as the Python client does. An epoch
 * whose start is not signed (a version-1 envelope) counts as begun before.
 * @param {Conversation} conversation
 * @param {import('./keys.js').Keys} keys
 * @param {number} [epoch]
 */
export function writesRefused(conversation, keys, epoch = conversation.currentEpoch) {
  const refused = conversation.restoredFrom;
  if (!refused || epoch > refused.highest) return false;
  const began = keys.ring.createdAt(conversation.id, epoch);
  return began === null || began < refused.seenAt;
}

export class Epochs {
  /**
   * @param {{keys: import('./keys.js').Keys, socket: import('./socket.js').Socket,
   *          conversations: import('./conversations.js').ConversationList,
   *          emit: import('./conversations.js').Emit}} options
   */
  constructor({ keys, socket, conversations, emit, loadOlder }) {
    this.keys = keys;
    this.socket = socket;
    this.conversations = conversations;
    this.emit = emit;
    /** Loads the page before the oldest message held; resolves to whether more follow. */
    this.loadOlder = loadOlder ?? (async () => false);
  }

  /**
   * The current epoch's messages this browser holds, reading older pages (at most three)
   * until it holds the epoch's start or as many as the rule allows: for an epoch that
   * signs its time, the count rests on what the members signed, not on the server's.
   * @param {Conversation} conversation
   */
  async #count(conversation) {
    const timeline = conversation.timeline;
    let usage = timeline?.epochUsage(conversation.currentEpoch) ?? { count: 0, oldest: null, fromStart: true };
    for (let page = 0; timeline && page < 3; page += 1) {
      if (usage.fromStart || usage.count >= ROTATE_AFTER_MESSAGES) break;
      const more = await this.loadOlder(conversation);
      usage = timeline.epochUsage(conversation.currentEpoch);
      if (!more) break;
    }
    return usage;
  }

  /**
   * Begin a new epoch before sending when the policy says so: the epoch holds 100
   * messages or is 7 days old, or a member's keys changed. A current epoch whose key this
   * browser cannot open counts as a change of keys: its envelope was wrapped to an identity
   * this person no longer has (after an assisted recovery, in a conversation whose history
   * nobody wrapped to the new one), or was refused as a downgrade, and a new epoch is the
   * way to write again. So does a key that came to this person without X-Wing although
   * they hold an X-Wing key. So does, after a restore of the server, an epoch begun before
   * it that the server lists or brings back as current (`writesRefused`).
   * @param {Conversation} conversation
   */
  async rotateIfDue(conversation) {
    if (!this.socket.connected) return;
    // No epoch key is wrapped to a verified peer's changed key (crypto/SPEC.md, "Pins").
    if (conversation.identityChanged?.verified) return;
    const signedStartedAt = this.keys.ring.createdAt(conversation.id, conversation.currentEpoch);
    const local =
      signedStartedAt === null
        ? conversation.timeline?.epochUsage(conversation.currentEpoch) ?? { count: 0, oldest: null }
        : await this.#count(conversation);
    const keyless = !this.keys.hasKey(conversation.id, conversation.currentEpoch);
    // A key that came to this person without X-Wing although they hold an X-Wing key: the
    // next epoch is wrapped with X-Wing to whoever holds one (crypto/SPEC.md, "Version 3:
    // wrapped with X-Wing"), whatever the server says of the others' identities.
    const forXWing =
      !keyless &&
      this.keys.publicIdentity.version === 2 &&
      !this.keys.ring.wrappedWithXWing(conversation.id, conversation.currentEpoch);
    const due = rotationDue({
      serverCount: conversation.epochMessages,
      serverStartedAt: conversation.epochStartedAt,
      localCount: local.count,
      localOldest: local.oldest,
      keysChanged: conversation.keysChanged || keyless || forXWing || writesRefused(conversation, this.keys),
      now: Date.now(),
      signedStartedAt,
    });
    if (!due) return;
    const epoch = conversation.currentEpoch + 1;
    const members = [...conversation.members.values()];
    const { key, envelopes, createdAt, xwing } = this.keys.newEpoch(conversation.id, epoch, members);
    try {
      await this.socket.request(rekeyFrame(conversation.id, epoch, envelopes));
      this.keys.keep(conversation.id, epoch, key, createdAt, xwing);
      this.#began(conversation, epoch, new Date().toISOString());
    } catch {
      // Someone else began it first, or the socket dropped: use whatever epoch is current.
      key.wipe();
      await this.conversations.refresh(conversation.id);
    }
  }

  /**
   * The `epoch` event: a member began a new epoch; this is our envelope of its key.
   * @param {{conversation: string, epoch: number, wrapper: number, envelope: string}} frame
   */
  async accept(frame) {
    let conversation = this.conversations.get(frame.conversation);
    if (!conversation || !conversation.members.has(frame.wrapper)) {
      conversation = await this.conversations.refresh(frame.conversation);
    }
    const wrapper = conversation.members.get(frame.wrapper);
    if (!wrapper) return;
    try {
      // A new epoch is signed by the wrapper's current keys; this person's own, by the
      // keys this page holds (conversations.js, `wrapperIdentities`).
      const mine = wrapper.id === this.conversations.me.id;
      const signers = mine ? wrapperIdentities(this.keys, wrapper.id, wrapper).slice(0, 2) : [wrapper.identity];
      this.keys.unwrapFromAny(conversation.id, frame.epoch, frame.envelope, signers);
      if (frame.epoch > conversation.currentEpoch) {
        this.#began(conversation, frame.epoch, new Date().toISOString());
      }
    } catch (error) {
      // An envelope that does not verify is not kept: the epoch's messages will not open.
      if (!isCryptoError(error)) throw error;
      if (isDowngrade(error)) {
        this.conversations.refusedDowngrade(conversation, frame.epoch, frame.wrapper);
        // What is written next goes under a new epoch, wrapped with X-Wing.
        conversation.currentEpoch = Math.max(conversation.currentEpoch, frame.epoch);
      }
    }
  }

  /**
   * A new epoch is current: its count and age start again.
   * @param {Conversation} conversation
   * @param {number} epoch
   * @param {string} startedAt
   */
  #began(conversation, epoch, startedAt) {
    conversation.currentEpoch = epoch;
    conversation.epochStartedAt = startedAt;
    conversation.epochMessages = 0;
    conversation.countedSeq = conversation.lastSeq;
    conversation.keysChanged = false;
    conversation.rotatedFor = this.conversations.peer(conversation)?.identityB64 ?? null;
    this.emit('epoch', { conversation: conversation.id, epoch });
  }
}
