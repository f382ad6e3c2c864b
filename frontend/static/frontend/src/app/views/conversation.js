/**
 * One conversation: its messages (sending, sent, read; failed, with retry), older history
 * on scroll, read receipts while visible, a typing indicator, and the composer.
 *
 * Message text is only ever set with textContent.
 *
 * @module
 */

import { h, focusHeading, dayKey, dayLabel } from '../dom.js';
import { filesOf } from '../attachments.js';
import { composerFiles, messageFiles } from './attachments.js';
import { availabilityBanner } from './availability-banner.js';
import { conversationSearch } from './conversation-search.js';
import { dischargeControls } from './discharge.js';
import { disclosureControls } from './disclosures.js';
import { exportAction } from './export.js';
import { VerifiedKeyChangedError } from '../messenger.js';

const TYPING_SEND_MS = 3_000;
const TYPING_SHOW_MS = 6_000;
const STATE_LABEL = /** @type {Record<string, string>} */ ({
  queued: 'Waiting to send',
  sending: 'Sending…',
  failed: 'Not sent',
  sent: 'Sent',
  read: 'Read',
  restored: 'No longer on the server',
});

/** Why a message was not sent, by the error code that stopped it (docs/protocol.md). */
const FAILURE_TEXT = /** @type {Record<string, string>} */ ({
  conversation_closed: 'The conversation is read-only.',
  agreement_required: 'It is sent once you accept the messaging agreement.',
  timeout: 'The server did not answer.',
  stale_epoch: 'The conversation keys changed while it was sent.',
  not_found: 'This conversation is no longer available.',
  bad_ciphertext: 'It could not be sealed correctly.',
  client_message_id_reused: 'It could not be sealed correctly.',
  verified_key_changed: 'Not sent: the key you verified changed. Compare the safety number again, or accept the new key, then retry.',
});

/**
 * @param {HTMLElement} root
 * @param {{messenger: import('../messenger.js').Messenger, me: any, conversationId: string,
 *          announce: (text: string) => void, showBack: boolean}} ctx
 * @returns {() => void} cleanup
 */
/**
 * The warning of a key change that an assisted recovery made: who confirmed it, and when,
 * as the succession that therapist signed states it (conversations.js, `recoveryOf`).
 * Comparing the safety number is still the check of the new keys themselves.
 * @param {string} name
 * @param {import('../conversations.js').RecoveryNote} recovery
 * @param {number} myId
 */
export function recoveryText(name, recovery, myId) {
  return `${name}'s security keys changed by ${recoveryWords(recovery, myId)}. To be sure nobody else is reading along, compare the safety number with them.`;
}

/**
 * The calm note of a peer whose identity an assisted recovery gave them, once any warning
 * is dealt with (or when this browser never saw the earlier identity).
 * @param {string} name
 * @param {import('../conversations.js').RecoveryNote} recovery
 * @param {number} myId
 */
export function recoveryNote(name, recovery, myId) {
  return `${name}'s keys are new since ${recoveryWords(recovery, myId)}.`;
}

/**
 * "an account recovery confirmed by you on 4 December 2026"
 * @param {import('../conversations.js').RecoveryNote} recovery
 * @param {number} myId
 */
function recoveryWords(recovery, myId) {
  const date = new Date(recovery.at);
  const when = Number.isNaN(date.getTime()) ? 'a recent date' : date.toLocaleDateString(undefined, { year: 'numeric', month: 'long', day: 'numeric' });
  const who = recovery.confirmedBy === myId ? 'you' : recovery.confirmedByName || 'their therapist';
  return `an account recovery confirmed by ${who} on ${when}`;
}

/**
 * What the conversation says after the server said it was restored from a backup and lost
 * some of its messages (incoming.js): plainly, what is gone from the server, that this
 * browser still shows it, and what happens now. It is the server's word (a server can
 * claim a restore it never had), and it says so.
 * @param {import('../conversations.js').RestoreNote} restore
 * @param {string} peer the other member's name
 */
export function restoreNoticeText(restore, peer) {
  const { lost, theirs, resent, notResent } = restore;
  const keysChanged = restore.keysChanged ?? 0;
  const one = lost === 1;
  let text = `The portal's server says it was restored from a backup: ${one ? 'the last message of this conversation is' : `the last ${lost} messages of this conversation are`} no longer on it. This browser still shows ${one ? 'it' : 'them'}.`;
  if (resent && (notResent || keysChanged)) {
    text += ` ${resent === 1 ? 'One of yours is' : `${resent} of yours are`} being sent again.`;
  } else if (resent) {
    text += ` ${resent === 1 && !theirs && one ? 'It is' : resent === 1 ? 'Yours is' : 'Yours are'} being sent again.`;
  }
  if (keysChanged) {
    text += ` ${keysChanged === 1 ? 'One of yours was' : `${keysChanged} of yours were`} not sent again: the keys of the people in this conversation changed since you wrote ${keysChanged === 1 ? 'it' : 'them'}.`;
  }
  if (notResent) {
    text += ` ${notResent === 1 ? 'One older message of yours' : `${notResent} older messages of yours`} could not be sent again: if ${notResent === 1 ? 'it' : 'they'} mattered, write ${notResent === 1 ? 'it' : 'them'} again.`;
  }
  if (theirs) text += ` ${theirs === 1 ? `The one from ${peer} comes` : `Those from ${peer} come`} back when ${peer}'s device connects again.`;
  return text;
}

/** The latest instant a Date holds; a signed time beyond it is a wrong clock's. */
const MAX_DATE_MS = 8.64e15;

/**
 * The time a message was written, as its sender signed it (version 2), or `fallback`
 * (the server's) when it carries none or one no date can hold.
 * @param {{sentAt: number}|null|undefined} order
 * @param {string} fallback
 */
function writtenAt(order, fallback) {
  return order && order.sentAt <= MAX_DATE_MS ? new Date(order.sentAt).toISOString() : fallback;
}

/**
 * A sender's time (milliseconds) in words: "14:02" today, "yesterday at 14:02",
 * "Monday, December 7 at 14:02".
 * @param {number} ms
 */
function senderTime(ms) {
  if (ms > MAX_DATE_MS) return 'an impossible time';
  const iso = new Date(ms).toISOString();
  const day = dayLabel(iso);
  if (day === 'Today') return clockTime(iso);
  return `${day === 'Yesterday' ? 'yesterday' : day} at ${clockTime(iso)}`;
}

/**
 * What an order notice tells the reader (crypto/SPEC.md, "Order"), calmly and in the
 * sender's own times.
 * @param {import('../keys.js').OrderNotice} notice
 * @param {string|null} sender the sender's name, or null when it is the reader
 * @param {string} peer the other member's name
 */
export function orderNoticeText(notice, sender, peer) {
  const before = notice.before === null ? '' : senderTime(notice.before);
  const after = notice.after === null ? null : senderTime(notice.after);
  const when =
    after === null ? `before ${before}` : after === before ? `at ${before}` : `between ${after} and ${before}`;
  const who = sender ?? 'you';
  switch (notice.kind) {
    case 'missing': {
      const count = (notice.last ?? 0) - (notice.first ?? 0) + 1;
      const what = count === 1 ? 'A message' : `${count} messages`;
      return sender === null
        ? `${what} you wrote ${when} did not arrive here, so ${peer} may not have ${count === 1 ? 'it' : 'them'} either. If it mattered, send it again.`
        : `${what} from ${sender}, written ${when}, did not arrive. If it mattered, ask ${sender} about it.`;
    }
    case 'out_of_order':
      return `This message from ${who} was written before the one above it, but arrived after it.`;
    case 'repeated':
      return `Two different messages from ${who} claim the same place in the order they were written.`;
    default:
      return `${sender ?? 'You'} wrote this after reading a message that has not reached this browser.`;
  }
}

/**
 * A message's time of day in the reader's locale ("2:05 PM", "14:05"); its day is the
 * separator above it.
 * @param {string} iso
 */
function clockTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : formats().clock.format(date);
}

/** @param {string} iso */
function fullTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : formats().full.format(date);
}

/** @type {{clock: Intl.DateTimeFormat, full: Intl.DateTimeFormat}|null} */
let made = null;

/** The reader's formats of a message's time, made once (each costs far more than a use). */
function formats() {
  made ??= {
    clock: new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }),
    full: new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' }),
  };
  return made;
}

export function renderConversation(root, { messenger, me, conversationId, announce, showBack }) {
  const conversation = messenger.conversations.get(conversationId);
  const peer = conversation && messenger.peer(conversation);
  if (!conversation || !peer) {
    root.replaceChildren(
      h('section', { class: 'screen' }, h('h1', {}, 'Conversation not found'),
        h('p', {}, 'It may have ended, or the link is wrong.'), h('p', {}, h('a', { href: '#/' }, 'Back'))),
    );
    focusHeading(root);
    return () => {};
  }
  const isClient = me.role === 'client';
  const readOnly = conversation.status !== 'active';

  /** @type {Map<string, HTMLElement>} */
  const rows = new Map();
  /** What each row's meta line was made from (`row`). */
  /** @type {WeakMap<HTMLElement, string>} */
  const metaShown = new WeakMap();
  const list = h('ol', { class: 'message-list', 'aria-label': `Messages with ${peer.displayName}` });
  const older = h('button', { type: 'button', class: 'load-older link-button' }, 'Load earlier messages');
  const emptyNote = h('p', { class: 'messages-empty', hidden: true }, `No messages yet. Write to ${peer.displayName} below.`);
  const scroller = h('div', { class: 'messages', tabindex: '0', 'aria-label': 'Message history' }, older, emptyNote, list);
  const banner = h('div', { class: 'banner', role: 'status', hidden: true });
  const recoveredNote = h('p', { class: 'notice identity-note', hidden: true });
  const downgradeNote = h('p', { class: 'notice downgrade-note', role: 'status', hidden: true });
  // Said once through the page's polite live region when it happens (`onRestored`).
  const restoreNote = h('p', { class: 'notice restore-note', hidden: true });
  const typing = h('p', { class: 'typing', 'aria-live': 'polite' });
  const textarea = /** @type {HTMLTextAreaElement} */ (h('textarea', {
    id: 'composer-text', name: 'message', rows: '2', required: true, maxlength: '20000',
    'aria-describedby': isClient ? 'composer-hint' : null, disabled: readOnly,
  }));
  const sendButton = h('button', { type: 'submit', class: 'primary', disabled: readOnly }, 'Send');
  const composerError = h('p', { class: 'form-error', role: 'alert' });
  const hint = isClient ? h('p', { class: 'hint', id: 'composer-hint' }, `${me.practice?.reply_promise ?? 'Usually answered within two business days.'} Not for emergencies.`) : null;
  // The therapist's hours and away status, before the client writes.
  const availability = isClient && !readOnly
    ? availabilityBanner({ conversationId, crisisLines: me.practice?.crisis_lines ?? [], hint })
    : null;
  // The files this page uploaded, by attachment id: shown without downloading them again.
  /** @type {Map<string, Blob>} */
  const local = new Map();
  let blocked = false;
  const files = composerFiles({
    messenger, conversationId, announce, problem: composerError, local,
    onChange: () => {
      sendButton.disabled = readOnly || blocked || files.busy;
      textarea.readOnly = files.busy;
    },
  });
  const shownFiles = messageFiles({ messenger, announce, local });
  const composer = h('form', { class: 'composer', novalidate: true },
    h('label', { for: 'composer-text' }, `Message to ${peer.displayName}`),
    hint,
    files.list,
    h('div', { class: 'composer-row' }, readOnly ? null : files.picker, textarea, sendButton),
    composerError);

  const title = h('h1', { id: 'conversation-title' }, peer.displayName);
  const exporter = exportAction({ messenger, me, conversationId, announce });
  const disclosures = disclosureControls({ messenger, me, conversationId, announce });
  const search = conversationSearch({
    list,
    name: peer.displayName,
    complete: () => Boolean(conversation.timeline?.complete),
    loadOlder: () => messenger.loadOlder(conversationId),
  });
  // Discharge (the therapist's action) and the notice of a read-only or erased conversation.
  const closed = dischargeControls({
    messenger, me, conversationId, peerName: peer.displayName, announce,
    composer: [composer, typing, availability?.element, availability?.autoReply],
    history: [scroller, exporter.element, disclosures, search.toggle],
  });
  const section = h('section', { class: 'screen conversation', 'aria-labelledby': 'conversation-title' },
      h('header', { class: 'conversation-head' },
        showBack ? h('a', { class: 'back', href: '#/' }, '← All conversations') : null,
        title,
        search.toggle,
        closed.action,
        h('a', { class: 'button secondary', href: `#/safety/${conversationId}` }, 'Safety number'),
        disclosures,
        exporter.element),
      exporter.status,
      search.bar,
      banner,
      recoveredNote,
      downgradeNote,
      restoreNote,
      closed.notice,
      closed.dialog,
      scroller,
      availability?.autoReply ?? null,
      typing,
      availability?.element ?? null,
      composer,
      files.dropHint);
  if (!readOnly) files.dropOn(section);
  root.replaceChildren(section);
  focusHeading(root);

  // --- drawing ---------------------------------------------------------------------------

  const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;

  /**
   * @param {string} key
   * @param {{mine: boolean, text: string|null, problem?: string|null, time: string|null,
   *          state: string|null, clientMessageId?: string, error?: string|null,
   *          attachments?: import('../keys.js').AttachmentReference[]}} item
   */
  const row = (key, item) => {
    let li = rows.get(key);
    if (!li) {
      const body = h('p', { class: 'message-text' });
      const meta = h('p', { class: 'message-meta' });
      // The files a message presents never change: listed once, between text and meta.
      const attached = item.text !== null && item.attachments?.length ? shownFiles.list(filesOf(item.attachments)) : null;
      li = h('li', { class: `message ${item.mine ? 'mine' : 'theirs'}`, dataset: { key } }, body, attached, meta);
      rows.set(key, li);
    }
    const body = /** @type {HTMLElement} */ (li.firstElementChild);
    const meta = /** @type {HTMLElement} */ (li.lastElementChild);
    const text = item.text ?? (item.problem ? 'This message could not be verified or opened, so it is not shown.' : 'A message you sent from this browser.');
    if (body.textContent !== text) body.textContent = text;
    li.classList.toggle('unopened', item.text === null);
    li.dataset.state = item.state ?? '';
    // The line under the message is made again only when what it shows changed: every
    // page of history drawn would otherwise format every row's dates again.
    const shows = `${item.time}|${item.state}|${item.error}|${item.clientMessageId}`;
    if (metaShown.get(li) === shows) return li;
    metaShown.set(li, shows);
    const parts = [];
    parts.push(item.mine ? 'You' : peer.displayName);
    if (item.time) parts.push(h('time', { datetime: item.time, title: fullTime(item.time) }, clockTime(item.time)));
    if (item.state) parts.push(h('span', { class: `state state-${item.state}` }, STATE_LABEL[item.state] ?? item.state));
    if (item.state === 'failed' && item.clientMessageId) {
      const id = item.clientMessageId;
      parts.push(h('span', { class: 'failure' }, FAILURE_TEXT[item.error ?? ''] ?? 'The server did not accept it.'));
      // Held for a changed verified key, a retry does nothing; the failure says why.
      parts.push(h('button', { type: 'button', class: 'link-button retry', onclick: () => messenger.retry(id).catch(() => {}) }, 'Retry'));
    }
    meta.replaceChildren(...parts.flatMap((part, i) => (i ? [' · ', part] : [part])));
    return li;
  };

  /** One line a day, above its first message: "Today", "Monday, December 7". */
  /** @type {Map<string, HTMLElement>} */
  const separators = new Map();
  let lastDay = '';
  /** @param {string|null} iso */
  const daySeparator = (iso) => {
    if (!iso) return null;
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return null;
    const key = dayKey(date);
    if (key === lastDay) return null;
    lastDay = key;
    let li = separators.get(key);
    if (!li) {
      li = h('li', { class: 'day-separator', dataset: { key: `d${key}` } }, h('time', { datetime: key }));
      separators.set(key, li);
    }
    const label = dayLabel(iso);
    const time = /** @type {HTMLElement} */ (li.firstChild);
    if (time.textContent !== label) time.textContent = label;
    return li;
  };

  /** @type {Map<string, HTMLElement>} */
  const noticeRows = new Map();
  /**
   * @param {import('../keys.js').OrderNotice} notice
   */
  const noticeRow = (notice) => {
    const key = `n${notice.seq}-${notice.kind}-${notice.first ?? ''}`;
    const text = orderNoticeText(notice, notice.sender === me.id ? null : peer.displayName, peer.displayName);
    let li = noticeRows.get(key);
    if (!li) {
      li = h('li', { class: 'order-notice', dataset: { key } }, h('p', {}));
      noticeRows.set(key, li);
    }
    const p = /** @type {HTMLElement} */ (li.firstChild);
    if (p.textContent !== text) p.textContent = text;
    return li;
  };

  const draw = () => {
    const timeline = conversation.timeline;
    const stick = nearBottom();
    const wanted = [];
    const notices = messenger.orderNotices(conversation);
    lastDay = '';
    for (const message of timeline?.sorted() ?? []) {
      const mine = message.sender === me.id;
      // A version-2 message carries the time its sender wrote it, signed: shown in place
      // of the time the server says it arrived.
      const time = writtenAt(message.order, message.sentAt);
      const separator = daySeparator(time);
      if (separator) wanted.push(separator);
      if (message.lost) {
        // Taken off the server by a restore: shown where it was, under its old number
        // (which the server has given to another message since), without order notices.
        const { state, error } = messenger.lostState(conversation, message);
        wanted.push(row(`r${message.lost.round}.${message.seq}`, {
          mine,
          text: message.text,
          attachments: message.attachments,
          problem: message.problem,
          time,
          state,
          clientMessageId: mine ? message.clientMessageId : undefined,
          error,
        }));
        continue;
      }
      for (const notice of notices.get(message.seq) ?? []) wanted.push(noticeRow(notice));
      wanted.push(row(`s${message.seq}`, {
        mine,
        text: message.text,
        attachments: message.attachments,
        problem: message.problem,
        time,
        state: mine ? messenger.ownState(conversation, message.seq) : null,
      }));
    }
    for (const pending of messenger.pending(conversationId)) {
      const separator = daySeparator(pending.createdAt);
      if (separator) wanted.push(separator);
      wanted.push(row(`p${pending.clientMessageId}`, {
        mine: true,
        text: pending.text,
        attachments: pending.attachments,
        time: pending.createdAt,
        state: pending.state,
        clientMessageId: pending.clientMessageId,
        error: pending.error,
      }));
    }
    const keep = new Set(wanted);
    for (const drawn of [rows, separators, noticeRows]) {
      for (const [key, li] of drawn) {
        if (!keep.has(li)) {
          li.remove();
          drawn.delete(key);
        }
      }
    }
    wanted.forEach((li, index) => {
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
    });
    older.hidden = !timeline || timeline.complete || timeline.size === 0;
    emptyNote.hidden = !timeline?.complete || wanted.length > 0;
    older.textContent = conversation.loading ? 'Loading…' : 'Load earlier messages';
    const change = conversation.identityChanged;
    banner.hidden = !change && !messenger.seen.unreadable;
    // A verified key that changed: nothing goes until it is compared again or accepted.
    blocked = Boolean(change?.verified) && !readOnly;
    textarea.disabled = readOnly || blocked;
    sendButton.disabled = readOnly || blocked || files.busy;
    files.setDisabled(readOnly || blocked);
    const shown = messenger.peer(conversation);
    recoveredNote.hidden = Boolean(change) || !shown?.recovery;
    if (shown?.recovery && !change) {
      recoveredNote.textContent = recoveryNote(shown.displayName, shown.recovery, me.id);
    }
    if (change?.verified) {
      banner.replaceChildren(
        h('p', {}, h('strong', {}, `${peer.displayName}'s security key changed since you verified it.`),
          ` Nothing you write is sent until you compare the safety number with ${peer.displayName} again, in person, or accept the new key. ${change.recovery ? recoveryText(peer.displayName, change.recovery, me.id) : 'This happens when they set up a new device or recover their account, and also when someone tries to read along.'}`),
        h('p', { class: 'banner-actions' },
          h('a', { href: `#/safety/${conversationId}` }, 'Compare safety number'),
          h('button', { type: 'button', class: 'link-button', onclick: () => messenger.acknowledgeIdentity(conversationId) }, 'Accept the new key without comparing')),
      );
    } else if (change) {
      banner.replaceChildren(
        h('p', {}, change.recovery
          ? recoveryText(peer.displayName, change.recovery, me.id)
          : `${peer.displayName}'s security keys have changed since you last saw them. This happens when they set up a new device or recover their account. To be sure nobody else is reading along, compare the safety number with them.`),
        h('p', { class: 'banner-actions' },
          h('a', { href: `#/safety/${conversationId}` }, 'Compare safety number'),
          h('button', { type: 'button', class: 'link-button', onclick: () => messenger.acknowledgeIdentity(conversationId) }, 'Dismiss')),
      );
    } else if (messenger.seen.unreadable) {
      banner.replaceChildren(
        h('p', {}, 'The record of the security keys you have seen could not be read: it may have been altered on the server. Compare the safety number with the people you write to.'),
      );
    }
    const downgrade = conversation.downgradeRefused;
    downgradeNote.hidden = !downgrade;
    if (downgrade) {
      downgradeNote.textContent = `A key for this conversation arrived without the protection against future quantum computers that your account has, so it was refused. Your next message starts new keys. The server may have given ${downgrade.wrapper === me.id ? 'your browser' : peer.displayName} an old copy of your security key.`;
    }
    const restore = conversation.restore;
    restoreNote.hidden = !restore;
    if (restore) {
      const text = restoreNoticeText(restore, peer.displayName);
      if (restoreNote.textContent !== text) restoreNote.textContent = text;
    }
    search.refresh();
    if (stick) scroller.scrollTop = scroller.scrollHeight;
  };

  // --- reading ---------------------------------------------------------------------------

  const visible = () => document.visibilityState === 'visible';
  const readIfVisible = () => {
    if (visible()) messenger.markRead(conversationId);
  };

  const loadOlder = async () => {
    const before = scroller.scrollHeight;
    await messenger.loadOlder(conversationId);
    // Keep the message that was at the top where it was.
    scroller.scrollTop += scroller.scrollHeight - before;
  };
  older.addEventListener('click', loadOlder);
  scroller.addEventListener('scroll', () => {
    const timeline = conversation.timeline;
    if (scroller.scrollTop < 40 && timeline && !timeline.complete && timeline.size > 0 && !conversation.loading) {
      loadOlder();
    }
  }, { passive: true });

  // --- typing ----------------------------------------------------------------------------

  let lastTypingSent = 0;
  /** @type {number|undefined} */
  let typingTimer;
  textarea.addEventListener('input', () => {
    const now = Date.now();
    if (textarea.value && now - lastTypingSent > TYPING_SEND_MS) {
      lastTypingSent = now;
      messenger.typing(conversationId);
    }
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  composer.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (files.busy) return;
    composerError.textContent = '';
    const text = textarea.value;
    const withFiles = files.count > 0;
    if (!text.trim() && !withFiles) return;
    /** @type {import('../keys.js').AttachmentReference[]} */
    let references = [];
    if (withFiles) {
      // Uploaded first, the text kept in the composer; nothing is sent if one stops.
      const uploaded = await files.upload();
      if (!uploaded) {
        textarea.focus();
        return;
      }
      references = uploaded;
    }
    // What was typed meanwhile (the composer was read-only) is the text sent.
    const words = withFiles && !textarea.value.trim() ? '' : textarea.value;
    textarea.value = '';
    lastTypingSent = 0;
    try {
      if (withFiles) {
        await messenger.sendFiles(conversationId, words, references);
        files.clear();
      } else {
        await messenger.sendText(conversationId, words);
      }
      availability?.sent();
      scroller.scrollTop = scroller.scrollHeight;
    } catch (error) {
      textarea.value = words;
      composerError.textContent =
        error instanceof VerifiedKeyChangedError
          ? `Not sent: ${peer.displayName}'s key changed since you verified it. Compare the safety number again, or accept the new key.`
          : 'The message could not be prepared for sending. Try again.';
    }
    textarea.focus();
  });

  // --- events ----------------------------------------------------------------------------

  /** @param {Event} event */
  const onTimeline = (event) => {
    const detail = /** @type {CustomEvent} */ (event).detail;
    if (detail.conversation !== conversationId) return;
    draw();
    // Messages a catch-up brought (at sign-in, after a reconnect) are read as they show,
    // as a live one is; nothing is sent when nothing new is held.
    readIfVisible();
  };
  /** @param {Event} event */
  const onIncoming = (event) => {
    const detail = /** @type {CustomEvent} */ (event).detail;
    if (detail.conversation !== conversationId) return;
    typing.textContent = '';
    announce(`New message from ${peer.displayName}.`);
    readIfVisible();
  };
  /** @param {Event} event */
  const onTyping = (event) => {
    const detail = /** @type {CustomEvent} */ (event).detail;
    if (detail.conversation !== conversationId) return;
    typing.textContent = `${peer.displayName} is typing…`;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      typing.textContent = '';
    }, TYPING_SHOW_MS);
  };
  /** @param {Event} event */
  const onRestored = (event) => {
    const detail = /** @type {CustomEvent} */ (event).detail;
    if (detail.conversation !== conversationId || !conversation.restore) return;
    draw();
    announce(restoreNoticeText(conversation.restore, peer.displayName));
  };
  const onIdentity = () => draw();
  messenger.addEventListener('timeline', onTimeline);
  messenger.addEventListener('incoming', onIncoming);
  messenger.addEventListener('typing', onTyping);
  messenger.addEventListener('identity-changed', onIdentity);
  messenger.addEventListener('identity-recovered', onIdentity);
  messenger.addEventListener('key-downgrade', onIdentity);
  messenger.addEventListener('restored', onRestored);
  document.addEventListener('visibilitychange', readIfVisible);

  draw();
  messenger.open(conversationId).then(() => {
    draw();
    scroller.scrollTop = scroller.scrollHeight;
    readIfVisible();
  });
  if (!readOnly) textarea.focus({ preventScroll: true });

  return () => {
    clearTimeout(typingTimer);
    files.stop();
    shownFiles.stop();
    availability?.stop();
    closed.stop();
    messenger.removeEventListener('timeline', onTimeline);
    messenger.removeEventListener('incoming', onIncoming);
    messenger.removeEventListener('typing', onTyping);
    messenger.removeEventListener('identity-changed', onIdentity);
    messenger.removeEventListener('identity-recovered', onIdentity);
    messenger.removeEventListener('key-downgrade', onIdentity);
    messenger.removeEventListener('restored', onRestored);
    document.removeEventListener('visibilitychange', readIfVisible);
  };
}
