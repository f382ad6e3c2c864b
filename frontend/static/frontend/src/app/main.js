/**
 * The Confide web client: start-up, routing between screens, and the signed-in session.
 *
 * Keys live in memory only, inside one Keys object held by the Messenger; every way out
 * (sign-out, inactivity, session ended, quick exit) goes through `endSession`, which
 * wipes them and the outbox, and unsubscribes this browser from push.
 *
 * The service worker of the installable app (`/service-worker.js`) is registered at every
 * start; it only shows push notifications (push.js).
 *
 * Routes: `/invite#<token>.<fingerprint>` (a client accepting an invitation), `/recover` (forgot
 * password: the recovery key sets a new one), `/setup#<token>` (a
 * new therapist or admin opening their setup link), and on `/`: `#/` home (therapist:
 * inbox; client: their conversation; admin: the console), `#/c/<id>` a conversation,
 * `#/safety/<id>` its safety number, `#/disclosures/<id>` its accounting of disclosures, `#/recovery/<id>` a client's assisted recovery to
 * compare and confirm (therapists), `#/availability` a therapist's office hours and away
 * status, `#/admin/<part>` a part of the admin's console.
 *
 * @module
 */

import * as api from './api.js';
import { fetchAgreement, hasAccepted } from './agreement.js';
import { Alerts } from './alerts.js';
import { h } from './dom.js';
import { IdleTimer } from './idle.js';
import { Messenger } from './messenger.js';
import { disablePush, registerWorker } from './push.js';
import { fingerprintOf, isCryptoError, serverPinStore } from './keys.js';
import { SeenIdentities } from './seen.js';
import { forgetStored, storageOf } from './storage.js';
import { renderAgreement } from './views/agreement.js';
import { renderAvailability } from './views/availability.js';
import { renderConsole } from './views/console.js';
import { renderConversation } from './views/conversation.js';
import { renderEnrol } from './views/enrol.js';
import { renderInbox } from './views/inbox.js';
import { renderInvite } from './views/invite.js';
import { renderRecover } from './views/recover.js';
import { renderRecoveryConfirm } from './views/recoveries.js';
import { renderSafety } from './views/safety.js';
import { renderDisclosures } from './views/disclosures.js';
import { renderSetup } from './views/setup.js';
import { renderSignIn } from './views/signin.js';

const EXIT_URL = 'https://www.weather.gov/';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const root = /** @type {HTMLElement} */ (document.getElementById('app'));
const connection = /** @type {HTMLElement} */ (document.getElementById('connection'));
const announcer = /** @type {HTMLElement} */ (document.getElementById('announcer'));
const crisis = /** @type {HTMLElement} */ (document.getElementById('crisis'));
const quickExit = /** @type {HTMLElement} */ (document.getElementById('quick-exit'));
const signOutButton = /** @type {HTMLElement} */ (document.getElementById('sign-out'));
// The account's second factors, beside "Sign out" while signed in.
const securityLink = h('a', { href: '#/security', class: 'button secondary', hidden: true }, 'Settings');
signOutButton.before(securityLink);
const idleSeconds = Number(document.body.dataset.idleSeconds) || 900;
// A mark, under the header in any view but the inbox, that another conversation has a new
// message; it names no one.
const elsewhere = h('p', { class: 'elsewhere', role: 'status', hidden: true });
crisis.before(elsewhere);
// Desktop notifications and their sound, when this browser's person turned them on.
const alerts = new Alerts(storageOf('localStorage'));
/**
 * Each conversation's unread count when last looked at, from the end of the session's
 * start on (null before): a count that grows is a message that just arrived.
 * @type {Map<string, number>|null}
 */
let unreadSeen = null;

/**
 * The signed-in session; `agreement` is the practice's messaging agreement as the server
 * last sent it (clients only; null for therapists and admins).
 * @type {{me: any, messenger: Messenger, idle: IdleTimer,
 *         agreement: import('./agreement.js').CurrentAgreement|null} | null}
 */
let session = null;
/** @type {() => void} */
let cleanup = () => {};

/** Remove every `confide.*` entry of both storages (each way out of a session). */
function forgetBrowserState() {
  forgetStored(storageOf('sessionStorage'), storageOf('localStorage'));
}

/** @param {string} text */
function announce(text) {
  announcer.textContent = '';
  // A fresh text node after a tick is announced even when the text repeats.
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

const DEFAULT_CRISIS = crisis.cloneNode(true).childNodes;

/**
 * The crisis lines beside every screen of a client: their practice's, once signed in
 * (`me.practice.crisis_lines`), the page's default (988, 911) before.
 * @param {{label: string, number: string}[]|null} lines
 */
function showCrisisLines(lines) {
  if (!lines || lines.length === 0) {
    crisis.replaceChildren(...[...DEFAULT_CRISIS].map((node) => node.cloneNode(true)));
    return;
  }
  const items = lines.flatMap((line, index) => [
    index ? '; ' : ' ',
    `${line.label}: `,
    h('a', { href: `tel:${line.number.replace(/[^0-9+]/g, '')}` }, line.number),
  ]);
  crisis.replaceChildren(h('p', {}, 'Messaging is not for emergencies.', ...items, '.'));
}

/** @param {boolean} client whether this screen is (or may be) a client's */
function chrome(client) {
  showCrisisLines(session?.me.practice?.crisis_lines ?? null);
  crisis.hidden = !client;
  quickExit.hidden = !client;
  signOutButton.hidden = session === null;
  securityLink.hidden = session === null;
  document.body.classList.toggle('therapist', !client);
  document.body.classList.toggle('admin', session?.me.role === 'admin');
}

const CONNECTION_TEXT = /** @type {Record<string, string>} */ ({
  open: '',
  connecting: 'Connecting…',
  waiting: 'Connection lost. Reconnecting…',
  offline: 'You are offline. Messages will be sent when you are back online.',
  closed: '',
});

/** @param {string} state */
function showConnection(state) {
  connection.textContent = CONNECTION_TEXT[state] ?? '';
  connection.dataset.state = state;
}

// --- the session ---------------------------------------------------------------------

/**
 * @param {any} me
 * @param {import('./keys.js').Keys} keys
 * @param {string|null} [conversation] where to go first
 */
async function beginSession(me, keys, conversation = null) {
  // A subscription this browser still holds is an earlier session's, which the server has
  // dropped with it (one that expired while the page was closed): Settings must not show
  // push as on.
  await disablePush(null);
  if (me.second_factor_enrolment_required) {
    // Nothing else is open to them until they have one (the server says so too).
    chrome(false);
    signOutButton.hidden = true;
    cleanup();
    cleanup = renderEnrol(root, {
      me,
      required: true,
      onDone: () => beginSession({ ...me, second_factor_enrolment_required: false }, keys, conversation),
      onSignOut: () => {
        keys.wipe();
        endSession('You signed out. Your keys were removed from this page.');
      },
    });
    return;
  }
  // The peers' identities this person saw and verified, from the record the server keeps
  // sealed for them (crypto/SPEC.md, "Pins"), read before any conversation is listed.
  const seen = new SeenIdentities(serverPinStore(keys, api), fingerprintOf);
  const messenger = new Messenger({ me, keys, storage: storageOf('sessionStorage'), seen });
  const idle = new IdleTimer(idleSeconds * 1000, () =>
    endSession('You were signed out after a period without activity. Your keys were removed from this page.'),
  );
  session = { me, messenger, idle, agreement: null };
  messenger.addEventListener('status', (event) => showConnection(/** @type {CustomEvent} */ (event).detail.state));
  messenger.addEventListener('conversations', () => showWaiting());
  messenger.addEventListener('session-ended', () =>
    endSession('Your session ended. Please sign in again.', false),
  );
  // The server refused a message: the practice published an agreement not yet accepted.
  messenger.addEventListener('agreement-required', () => askAgreementAgain());
  idle.start();
  try {
    // A person whose identity is of version 1 publishes its X-Wing key now; if that fails
    // (a network error), the next sign-in tries again.
    const published = await keys.publishXWingKey(api.post).catch((/** @type {unknown} */ error) => {
      if (isCryptoError(error)) throw error;
      return null;
    });
    if (published) me.public_identity = published;
    if (me.role === 'client') session.agreement = await fetchAgreement(api.get);
    await seen.load();
    await messenger.start();
    // The inbox shows with the listing's first page; a screen of a conversation held only
    // by a later page (a reload on it) waits for the rest.
    const named = (conversation ? `#/c/${conversation}` : location.hash).match(new RegExp(UUID));
    if (named && !messenger.conversations.has(named[0])) await messenger.listed;
    if (session?.messenger !== messenger) return; // it ended meanwhile (signed out, expired)
    unreadSeen = unreadCounts(messenger.list());
    // Messages a reload left, refused for want of an agreement accepted since: they go.
    if (hasAccepted(session.agreement)) messenger.agreementAccepted();
  } catch {
    await endSession('Your conversations could not be loaded. Please sign in again.');
    return;
  }
  if (conversation) location.hash = `#/c/${conversation}`;
  route();
}

/**
 * Wipe the keys and the outbox, end the server session, show the sign-in screen.
 * @param {string} [notice]
 * @param {boolean} [tellServer]
 */
async function endSession(notice, tellServer = true) {
  const current = session;
  session = null;
  unreadSeen = null;
  cleanup();
  cleanup = () => {};
  leaveInboxBeside();
  if (current) {
    current.idle.stop();
    // A pin set just before leaving (a verification) is written first, briefly: the keys
    // that seal it are wiped next. Quick exit does not wait.
    await Promise.race([current.messenger.seen.flush(), new Promise((r) => setTimeout(r, 2000))]);
    current.messenger.wipe();
  }
  showWaiting();
  // Before the sign-out: the server drops the session's subscriptions itself.
  await disablePush(null);
  forgetBrowserState();
  showConnection('closed');
  if (tellServer) {
    try {
      await api.post('/api/auth/signout');
    } catch {
      // The session cookie expires on its own; the keys are already gone from this page.
    }
  }
  api.forgetCsrf();
  if (location.pathname !== '/' || location.hash) history.replaceState(null, '', '/');
  showSignIn(notice);
}

function showSignIn(/** @type {string|undefined} */ notice) {
  cleanup();
  cleanup = () => {};
  chrome(true);
  renderSignIn(root, {
    notice,
    onSignedIn: (me, keys) => {
      beginSession(me, keys);
    },
  });
}

// --- the messaging agreement -----------------------------------------------------------

let askingAgreement = false;

/**
 * Fetch the current agreement again (after `agreement_required`); show it unless it was
 * accepted meanwhile (in another tab), in which case the refused messages go again at once.
 */
async function askAgreementAgain() {
  const current = session;
  if (!current || askingAgreement) return;
  askingAgreement = true;
  try {
    current.agreement = await fetchAgreement(api.get);
  } catch {
    // Shown as it was last fetched, as not accepted: accepting it tells whether it is current.
    if (current.agreement) current.agreement = { ...current.agreement, accepted: null };
  } finally {
    askingAgreement = false;
  }
  if (session !== current) return;
  if (hasAccepted(current.agreement)) current.messenger.agreementAccepted();
  else route();
}

/** @param {NonNullable<typeof session>} current */
function showAgreement(current) {
  const { me, messenger, agreement } = current;
  const first = messenger.list()[0];
  const therapist = first ? messenger.peer(first)?.displayName ?? null : null;
  if (!agreement) {
    // Still on its way (beginSession routes again once it is here).
    root.replaceChildren(h('p', { role: 'status' }, 'Loading the messaging agreement…'));
    return;
  }
  renderAgreement(root, {
    me,
    current: agreement,
    therapistName: therapist,
    renewed: Boolean(me.agreement) && me.agreement.version !== agreement.agreement.version,
    onAccepted: () => {
      messenger.agreementAccepted();
      route();
    },
    onOutdated: () => {
      askAgreementAgain();
    },
  });
}

// --- messages waiting ----------------------------------------------------------------

/**
 * The unread count in the tab's title, "(2) Confide", never a name or a word of a message
 * (a tab title shows on a shared screen, in the taskbar and in screen sharing); and the
 * mark that another conversation than the one shown has a new message.
 */
function showWaiting() {
  const list = session ? session.messenger.list() : [];
  const total = list.reduce((sum, conversation) => sum + Math.max(0, conversation.unread || 0), 0);
  document.title = total > 0 ? `(${total}) Confide` : 'Confide';
  const shown = location.hash.match(new RegExp(`^#/c/(${UUID})$`))?.[1] ?? null;
  noticeArrivals(list, shown);
  const others = list.filter((conversation) => conversation.id !== shown && conversation.unread > 0).length;
  // The therapist's inbox lists every conversation with its count already.
  const inbox = session?.me.role === 'therapist' && ['', '#', '#/'].includes(location.hash);
  if (!others || inbox || session?.me.role === 'admin') {
    elsewhere.hidden = true;
    elsewhere.replaceChildren();
    return;
  }
  const text = others === 1 ? 'A new message in another conversation' : `New messages in ${others} other conversations`;
  if (elsewhere.textContent !== text) elsewhere.replaceChildren(h('a', { href: '#/' }, text));
  elsewhere.hidden = false;
}

/** @param {{id: string, unread: number}[]} list */
function unreadCounts(list) {
  return new Map(list.map((conversation) => [conversation.id, Math.max(0, conversation.unread || 0)]));
}

/**
 * A desktop notification (when turned on) for a message that just arrived while the page
 * is hidden, or in another conversation than the one shown.
 * @param {{id: string, unread: number}[]} list
 * @param {string|null} shown
 */
function noticeArrivals(list, shown) {
  if (!session || unreadSeen === null) return;
  const before = unreadSeen;
  unreadSeen = unreadCounts(list);
  const hidden = document.visibilityState !== 'visible';
  // A conversation first listed by a later page of the sign-in's listing is not news.
  const listing = session.messenger.listing;
  const arrived = list.some(
    (conversation) =>
      !(listing && !before.has(conversation.id)) &&
      (conversation.unread || 0) > (before.get(conversation.id) ?? 0) &&
      (hidden || conversation.id !== shown),
  );
  if (arrived) alerts.notify();
}

// --- routing -------------------------------------------------------------------------

/**
 * A therapist's inbox, kept beside the open conversation from one route to the next (what
 * was typed in its search stays): two panes on a wide screen, one at a time on a phone
 * (portal.css). Returns the pane the conversation goes in.
 * @type {{element: HTMLElement, main: HTMLElement, cleanup: () => void}|null}
 */
let inboxPane = null;

/** @param {NonNullable<typeof session>} current */
function inboxBeside(current) {
  if (!inboxPane || !root.contains(inboxPane.element)) {
    leaveInboxBeside();
    const element = h('div', { class: 'pane-inbox' });
    const main = h('div', { class: 'pane-main' });
    root.replaceChildren(element, main);
    root.classList.add('two-pane');
    document.body.classList.add('two-pane');
    const shown = () => location.hash.match(new RegExp(`^#/c/(${UUID})$`))?.[1] ?? null;
    inboxPane = { element, main, cleanup: renderInbox(element, { messenger: current.messenger, me: current.me, current: shown }) };
  }
  return inboxPane.main;
}

function leaveInboxBeside() {
  inboxPane?.cleanup();
  inboxPane = null;
  root.classList.remove('two-pane', 'has-conversation');
  document.body.classList.remove('two-pane');
}

function route() {
  if (!session) return;
  const { me, messenger } = session;
  const client = me.role === 'client';
  chrome(client);
  showWaiting();
  cleanup();
  cleanup = () => {};
  const paned = me.role === 'therapist'
    && (new RegExp(`^#/c/(${UUID})$`).test(location.hash) || ['', '#', '#/'].includes(location.hash));
  if (!paned) leaveInboxBeside();
  if (client && !hasAccepted(session.agreement)) {
    showAgreement(session);
    return;
  }
  const hash = location.hash;
  if (hash === '#/security') {
    cleanup = renderEnrol(root, {
      me,
      alerts,
      required: false,
      onDone: () => {
        location.hash = '#/';
      },
      onSignOut: () => endSession('You signed out. Your keys were removed from this page.'),
    });
    return;
  }
  if (hash === '#/availability' && me.role === 'therapist') {
    cleanup = renderAvailability(root, { me });
    return;
  }
  if (me.role === 'admin') {
    const part = hash.match(/^#\/admin\/([a-z]+)$/);
    renderConsole(root, { me, part: part ? part[1] : 'people' });
    return;
  }
  const conversation = hash.match(new RegExp(`^#/c/(${UUID})$`));
  const safety = hash.match(new RegExp(`^#/safety/(${UUID})$`));
  const disclosures = hash.match(new RegExp(`^#/disclosures/(${UUID})$`));
  const recovery = me.role === 'therapist' ? hash.match(/^#\/recovery\/([1-9][0-9]*)$/) : null;
  if (me.role === 'therapist' && (conversation || ['', '#', '#/'].includes(hash))) {
    const main = inboxBeside(session);
    if (conversation) {
      cleanup = renderConversation(main, { messenger, me, conversationId: conversation[1], announce, showBack: true });
    } else {
      main.replaceChildren(h('p', { class: 'pane-placeholder' }, 'Choose a client to read and write.'));
    }
    root.classList.toggle('has-conversation', Boolean(conversation));
    return;
  }
  if (conversation) {
    cleanup = renderConversation(root, {
      messenger,
      me,
      conversationId: conversation[1],
      announce,
      showBack: !client || messenger.conversations.size > 1,
    });
  } else if (safety) {
    cleanup = renderSafety(root, { messenger, conversationId: safety[1] });
  } else if (disclosures) {
    cleanup = renderDisclosures(root, { messenger, me, conversationId: disclosures[1], announce });
  } else if (recovery) {
    cleanup = renderRecoveryConfirm(root, { messenger, recoveryId: Number(recovery[1]), announce });
  } else if (client && messenger.conversations.size === 1) {
    location.replace(`#/c/${messenger.list()[0].id}`);
  } else {
    cleanup = renderInbox(root, { messenger, me });
  }
}

// --- start-up ------------------------------------------------------------------------

quickExit.addEventListener('click', () => {
  // Leave first in spirit: wipe synchronously, tell the server without waiting, go.
  const current = session;
  session = null;
  unreadSeen = null;
  if (current) {
    current.idle.stop();
    current.messenger.wipe();
    api.post('/api/auth/signout', {}, { keepalive: true }).catch(() => {});
  }
  // Not waited for; the sign-out above drops the subscription on the server regardless.
  disablePush(null);
  forgetBrowserState();
  try {
    sessionStorage.clear();
  } catch {
    // nothing to clear
  }
  location.replace(EXIT_URL);
});
// Where a browser scrolls the visible part of the page under the on-screen keyboard instead
// of resizing the page (the viewport meta asks it to resize), the top bar with Quick exit
// follows what is visible.
const topbar = /** @type {HTMLElement} */ (document.querySelector('.topbar'));
const keepTopbarInView = () => {
  const offset = Math.max(0, Math.round(window.visualViewport?.offsetTop ?? 0));
  topbar.style.transform = offset ? `translateY(${offset}px)` : '';
};
window.visualViewport?.addEventListener('resize', keepTopbarInView);
window.visualViewport?.addEventListener('scroll', keepTopbarInView);
signOutButton.addEventListener('click', () => {
  endSession('You signed out. Your keys were removed from this page.');
});
window.addEventListener('hashchange', route);
// Sound needs a gesture on the page first (the browsers' autoplay rule).
document.addEventListener('pointerdown', () => {
  if (alerts.on) alerts.prime();
});
registerWorker();

if (location.pathname === '/setup') {
  chrome(false);
  renderSetup(root, {
    token: location.hash.slice(1),
    onDone: (me, keys) => {
      beginSession(me, keys);
    },
  });
} else if (location.pathname === '/recover') {
  // Forgot password: the recovery key sets a new one; signed in afterwards, elsewhere out.
  chrome(true);
  renderRecover(root, {
    onRecovered: (me, keys) => {
      history.replaceState(null, '', '/');
      announce('Your new password is set. Your other devices were signed out.');
      beginSession(me, keys);
    },
  });
} else if (location.pathname === '/invite') {
  chrome(true);
  renderInvite(root, {
    fragment: location.hash.slice(1),
    onDone: (me, keys, conversation) => {
      beginSession(me, keys, conversation);
    },
  });
} else {
  showSignIn();
}
