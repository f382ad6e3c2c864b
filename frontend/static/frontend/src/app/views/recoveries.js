/**
 * Assisted recovery, the therapist's screens: the notice of a client's pending request
 * (shown above the inbox), and the screen to compare its number with the client and
 * confirm or decline it (`#/recovery/<id>`). recoveries.js does the work.
 *
 * The number shown here is made from the identity the server holds for the request; the
 * client's new browser shows the number of the identity it made. Confirming only when the
 * two match is what stops anyone else (a stranger who knows the email, or the server) from
 * taking the client's place: nothing changes without it.
 *
 * @module
 */

import * as api from '../api.js';
import { shownName } from '../conversations.js';
import { h, focusHeading, shortTime } from '../dom.js';
import { MissingKeyError, identityNumber, isCryptoError } from '../keys.js';
import { drawQr, qrModules } from '../qr.js';
import { UnknownIdentityError, confirmRecovery, declineRecovery, newIdentityOf, pendingRecoveries } from '../recoveries.js';

/** @typedef {import('../recoveries.js').PendingRecovery} PendingRecovery */
/** @typedef {import('../messenger.js').Messenger} Messenger */

/**
 * The name the therapist knows the client by: their own label of the conversation, else
 * the client's display name.
 * @param {Messenger} messenger
 * @param {PendingRecovery} item
 */
function clientName(messenger, item) {
  for (const { conversation: id } of item.conversations) {
    const conversation = messenger.conversations.get(id);
    if (conversation) return shownName(conversation, messenger.peer(conversation));
  }
  return item.client.display_name;
}

/**
 * The pending requests of this therapist's clients, as a notice with a link to each;
 * hidden when there is none. Listed again when a client asks (`recoveries` event) and
 * when a change is confirmed.
 * @param {Messenger} messenger
 * @returns {{node: HTMLElement, cleanup: () => void}}
 */
export function recoveryNotices(messenger) {
  const list = h('ul', { class: 'recovery-list' });
  const node = h(
    'section',
    { class: 'card banner recovery-notices', hidden: true, 'aria-labelledby': 'recovery-notices-title' },
    h('h2', { id: 'recovery-notices-title' }, 'Account recoveries waiting'),
    h('p', { class: 'hint' }, 'Compare the number with your client in a session before you confirm.'),
    list,
  );
  let stopped = false;
  const reload = async () => {
    let items;
    try {
      items = await pendingRecoveries();
    } catch {
      return; // shown again at the next change
    }
    if (stopped) return;
    list.replaceChildren(
      ...items.map((item) =>
        h(
          'li',
          { dataset: { recovery: String(item.id) } },
          h('a', { href: `#/recovery/${item.id}` }, `${clientName(messenger, item)} asked to recover their account`),
          h('span', { class: 'hint' }, ` (${shortTime(item.requested_at)})`),
        ),
      ),
    );
    node.hidden = items.length === 0;
  };
  messenger.addEventListener('recoveries', reload);
  messenger.addEventListener('identity-recovered', reload);
  reload();
  return {
    node,
    cleanup: () => {
      stopped = true;
      messenger.removeEventListener('recoveries', reload);
      messenger.removeEventListener('identity-recovered', reload);
    },
  };
}

/**
 * The compare-and-confirm screen of one request.
 * @param {HTMLElement} root
 * @param {{messenger: Messenger, recoveryId: number, announce: (text: string) => void}} ctx
 * @returns {() => void} cleanup
 */
export function renderRecoveryConfirm(root, { messenger, recoveryId, announce }) {
  let stopped = false;
  root.replaceChildren(h('section', { class: 'screen narrow' }, h('h1', {}, 'Account recovery'), h('p', { role: 'status' }, 'Loading the request…')));
  pendingRecoveries()
    .then((items) => {
      if (stopped) return;
      const item = items.find((candidate) => candidate.id === recoveryId);
      if (item) showRequest(root, messenger, item, announce);
      else showGone(root);
    })
    .catch(() => {
      if (!stopped) showGone(root, 'The request could not be loaded. Check your connection and reload the page.');
    });
  return () => {
    stopped = true;
  };
}

/**
 * @param {HTMLElement} root
 * @param {string} [text]
 */
function showGone(root, text) {
  root.replaceChildren(
    h('section', { class: 'screen narrow', 'aria-labelledby': 'recovery-title' },
      h('h1', { id: 'recovery-title' }, 'This request is no longer waiting'),
      h('p', { class: 'lead' }, text ?? 'It was confirmed or declined, your client made a newer one, or it expired after a week.'),
      h('p', {}, h('a', { href: '#/' }, 'Back to your clients'))),
  );
  focusHeading(root);
}

/**
 * @param {HTMLElement} root
 * @param {Messenger} messenger
 * @param {PendingRecovery} item
 * @param {(text: string) => void} announce
 */
function showRequest(root, messenger, item, announce) {
  const name = clientName(messenger, item);
  let identity;
  try {
    identity = newIdentityOf(item);
  } catch (error) {
    if (!isCryptoError(error)) throw error;
    showInvalid(root, messenger, item, name);
    return;
  }
  const { digits, qrPayload } = identityNumber(identity);
  const groups = digits.split(' ');
  const canvas = /** @type {HTMLCanvasElement} */ (h('canvas', { class: 'qr', role: 'img', 'aria-label': `QR code of ${name}'s new number` }));
  drawQr(canvas, qrModules(qrPayload), 6);
  const compared = h('input', { id: 'recovery-compared', type: 'checkbox' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  compared.addEventListener('change', () => {
    error.textContent = '';
  });
  const status = h('p', { class: 'form-status', role: 'status' });
  const confirmButton = h('button', { type: 'submit', class: 'primary' }, `Confirm and give ${name} their messages back`);
  const declineButton = h('button', { type: 'button' }, 'Decline');
  const epochs = item.conversations.reduce((sum, c) => sum + c.epochs.length, 0);
  const form = h('form', { class: 'form', novalidate: true },
    h('div', { class: 'check' }, compared,
      h('label', { for: 'recovery-compared' }, `${name} showed me this number on their screen, and all six groups match`)),
    error, status,
    h('div', { class: 'rename-actions' }, confirmButton, declineButton));
  const busy = (/** @type {boolean} */ on) => {
    for (const button of [confirmButton, declineButton]) {
      if (on) button.setAttribute('disabled', '');
      else button.removeAttribute('disabled');
    }
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!(/** @type {HTMLInputElement} */ (compared).checked)) {
      error.textContent = `Compare the number with ${name} first, then tick the box.`;
      compared.focus();
      return;
    }
    busy(true);
    status.textContent = `Giving ${name} the keys of your conversations…`;
    let answer;
    try {
      answer = await confirmRecovery(item, messenger);
    } catch (failure) {
      busy(false);
      status.textContent = '';
      error.textContent = describe(failure, name);
      return;
    }
    status.textContent = 'Starting new conversation keys…';
    await messenger.confirmedRecovery(item.client.id, item.new_identity, answer.conversations);
    announce(`${name}'s account is recovered. They can sign in with their new password.`);
    location.hash = answer.conversations.length ? `#/c/${answer.conversations[0]}` : '#/';
  });
  declineButton.addEventListener('click', async () => {
    error.textContent = '';
    busy(true);
    try {
      await declineRecovery(item);
    } catch (failure) {
      busy(false);
      error.textContent = describe(failure, name);
      return;
    }
    announce(`Declined. ${name}'s account stays as it was.`);
    location.hash = '#/';
  });
  root.replaceChildren(
    h('section', { class: 'screen narrow', 'aria-labelledby': 'recovery-title' },
      h('p', { class: 'back' }, h('a', { href: '#/' }, '← Back to your clients')),
      h('h1', { id: 'recovery-title' }, `${name} asked to recover their account`),
      h('p', { class: 'lead' },
        `${name} lost both their password and their recovery key, and made new keys on ${new Date(item.requested_at).toLocaleString()}. ` +
        `Ask them to show you the number their screen showed after they asked, in a session or a video call, and compare it with this one, group by group.`),
      h('div', { class: 'card safety' },
        h('p', { class: 'safety-digits identity-digits', 'aria-label': `${name}'s new number: ${groups.join(', ')}` }, ...groups.map((group) => h('span', {}, group))),
        h('figure', { class: 'qr-figure' }, canvas, h('figcaption', {}, 'Or compare the codes.'))),
      h('p', {},
        `If they match, confirm: your browser gives ${name} the keys of your conversations with them (${epochs} ${epochs === 1 ? 'key' : 'keys'}), their new password takes over, and their other devices are signed out. ` +
        `If they differ, or ${name} did not ask, decline: someone else may have made this request.`),
      form),
  );
  focusHeading(root);
}

/**
 * The server sent an identity that is not one: nothing to compare, only to decline.
 * @param {HTMLElement} root
 * @param {Messenger} messenger
 * @param {PendingRecovery} item
 * @param {string} name
 */
function showInvalid(root, messenger, item, name) {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const decline = h('button', { type: 'button' }, 'Decline');
  decline.addEventListener('click', async () => {
    try {
      await declineRecovery(item);
      location.hash = '#/';
    } catch (failure) {
      error.textContent = describe(failure, name);
    }
  });
  root.replaceChildren(
    h('section', { class: 'screen narrow', 'aria-labelledby': 'recovery-title' },
      h('h1', { id: 'recovery-title' }, `${name}'s request cannot be checked`),
      h('p', { class: 'lead' }, 'The keys in this request are not valid keys, so there is no number to compare. Decline it, and ask your client to make a new request.'),
      error, decline),
  );
  focusHeading(root);
}

/**
 * @param {unknown} failure
 * @param {string} name
 */
function describe(failure, name) {
  if (failure instanceof UnknownIdentityError) {
    return `${name}'s keys changed since this browser last saw them. Open your conversation with ${name}, compare the safety number with them, then confirm again. Nothing was changed.`;
  }
  if (failure instanceof MissingKeyError) {
    return `This browser cannot open epoch ${failure.epoch} of your conversation with ${name}, so it cannot give it back. Reload the page and try again.`;
  }
  if (failure instanceof api.ApiError) {
    if (failure.code === 'recovery_invalid') return failure.message;
    if (failure.code === 'network') return 'The server could not be reached. Check your connection.';
    return `The server refused it (${failure.code}): ${failure.message}`;
  }
  return 'It could not be done. Reload the page and try again.';
}
