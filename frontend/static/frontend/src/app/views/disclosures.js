/**
 * The accounting of disclosures of one conversation: each disclosure the therapist made
 * outside the conversation (date, legal basis, to whom, what, why), which the client reads
 * for their own record; and the therapist's dialog that records one.
 *
 * The description is sealed to the conversation and signed by the therapist's browser
 * (keys.js, crypto/SPEC.md "Disclosure records"); the server keeps the date and the basis
 * in the clear. A record that does not verify or open, or whose sealed date or basis
 * differs from what the server lists, is shown as such, never left out. Text is only ever
 * set with textContent.
 *
 * @module
 */

import * as api from '../api.js';
import { h, focusHeading } from '../dom.js';
import { isCryptoError } from '../keys.js';

/** The legal bases, in the order of crypto/SPEC.md, as a person reads them. */
export const LEGAL_BASES = /** @type {Record<string, string>} */ ({
  duty_to_protect: 'Duty to protect or warn',
  mandated_report: 'Mandated report',
  court_order: 'Court order or subpoena',
  client_authorised: 'Authorised by the client',
  other_law: 'Another disclosure required or allowed by law',
});

/** @param {string} conversationId */
const path = (conversationId) => `/api/conversations/${conversationId}/disclosures`;

/** A calendar day (`YYYY-MM-DD`) in the reader's words, without shifting it by a zone. */
function dayText(/** @type {string} */ day) {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, date)).toLocaleDateString(undefined, {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    timeZone: 'UTC',
  });
}

/** Today in the reader's zone, `YYYY-MM-DD`. */
function today() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
}

/**
 * What the conversation view shows in its header: the way to the accounting, and for the
 * therapist of an active conversation the button that records a disclosure.
 * @param {{messenger: import('../messenger.js').Messenger, me: any, conversationId: string,
 *          announce: (text: string) => void}} ctx
 * @returns {HTMLElement}
 */
export function disclosureControls(ctx) {
  const { messenger, me, conversationId } = ctx;
  const conversation = messenger.conversations.get(conversationId);
  const canRecord = me.role === 'therapist' && conversation?.status === 'active';
  return h('span', { class: 'disclosure-controls' },
    h('a', { class: 'button secondary', href: `#/disclosures/${conversationId}` }, 'Disclosures'),
    canRecord
      ? h('button', { type: 'button', class: 'secondary', onclick: () => openRecordDialog(ctx) }, 'Record a disclosure')
      : null);
}

/**
 * The dialog in which the therapist records a disclosure: date, legal basis, recipient,
 * what was disclosed and why. It seals in the conversation's current epoch; nothing
 * leaves the browser but the sealed record and the date and basis.
 * @param {{messenger: import('../messenger.js').Messenger, conversationId: string,
 *          announce: (text: string) => void, onRecorded?: () => void}} ctx
 */
export function openRecordDialog({ messenger, conversationId, announce, onRecorded }) {
  const opener = /** @type {HTMLElement|null} */ (document.activeElement);
  const error = h('p', { class: 'form-error', role: 'alert' });
  const date = /** @type {HTMLInputElement} */ (h('input', { id: 'disclosure-date', name: 'disclosed_on', type: 'date', required: true, max: today(), value: today() }));
  const basis = /** @type {HTMLSelectElement} */ (h('select', { id: 'disclosure-basis', name: 'legal_basis', required: true },
    h('option', { value: '' }, 'Choose the legal basis…'),
    ...Object.entries(LEGAL_BASES).map(([value, label]) => h('option', { value }, label))));
  const text = (/** @type {string} */ id, /** @type {string} */ tag, /** @type {Record<string, any>} */ props = {}) =>
    /** @type {HTMLInputElement|HTMLTextAreaElement} */ (h(tag, { id, name: id, required: true, ...props }));
  const recipient = text('disclosure-recipient', 'input', { type: 'text', autocomplete: 'off', maxlength: 300 });
  const information = text('disclosure-information', 'textarea', { rows: 3, maxlength: 4000 });
  const purpose = text('disclosure-purpose', 'textarea', { rows: 2, maxlength: 2000 });
  const row = (/** @type {HTMLElement} */ input, /** @type {string} */ label, /** @type {string|undefined} */ hint = undefined) => {
    if (hint) input.setAttribute('aria-describedby', `${input.id}-hint`);
    return h('div', { class: 'field' },
      h('label', { for: input.id }, label),
      hint ? h('p', { class: 'hint', id: `${input.id}-hint` }, hint) : null,
      input);
  };
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Record the disclosure');
  const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel');
  const form = h('form', { method: 'dialog', class: 'disclosure-form', novalidate: true },
    h('h2', { id: 'disclosure-dialog-title' }, 'Record a disclosure'),
    h('p', { class: 'hint', id: 'disclosure-dialog-about' },
      'For the client\'s accounting of disclosures. The client can read all of it. The date and the legal basis are also kept by the portal for its audit log; the rest is encrypted and the portal cannot read it.'),
    row(date, 'Date of the disclosure'),
    row(basis, 'Legal basis'),
    row(recipient, 'Disclosed to', 'The person or agency, e.g. "Officer J. Ruiz, Oakland Police Department".'),
    row(information, 'What was disclosed'),
    row(purpose, 'Purpose'),
    error,
    h('div', { class: 'dialog-actions' }, submit, cancel));
  const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { class: 'disclosure-dialog', 'aria-labelledby': 'disclosure-dialog-title', 'aria-describedby': 'disclosure-dialog-about' }, form));
  dialog.addEventListener('close', () => {
    dialog.remove();
    opener?.focus();
  });
  form.addEventListener('input', () => {
    error.textContent = '';
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const fields = {
      disclosedOn: date.value,
      legalBasis: basis.value,
      recipient: recipient.value.trim(),
      information: information.value.trim().replace(/\r\n?/g, '\n'),
      purpose: purpose.value.trim().replace(/\r\n?/g, '\n'),
    };
    const missing = [[date, fields.disclosedOn, 'the date'], [basis, fields.legalBasis, 'the legal basis'],
      [recipient, fields.recipient, 'to whom'], [information, fields.information, 'what was disclosed'],
      [purpose, fields.purpose, 'the purpose']].find(([, value]) => !value);
    if (missing) {
      error.textContent = `Fill in ${missing[2]}.`;
      /** @type {HTMLElement} */ (missing[0]).focus();
      return;
    }
    submit.setAttribute('disabled', '');
    try {
      await record(messenger, conversationId, fields);
      dialog.close();
      announce('The disclosure was recorded in the accounting.');
      onRecorded?.();
    } catch (failure) {
      error.textContent = failureText(failure);
    } finally {
      submit.removeAttribute('disabled');
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  date.focus();
}

/**
 * Seals and records one disclosure, in the conversation's current epoch (once more in the
 * next if a new epoch began meanwhile).
 * @param {import('../messenger.js').Messenger} messenger
 * @param {string} conversationId
 * @param {{disclosedOn: string, legalBasis: string, recipient: string, information: string, purpose: string}} fields
 */
async function record(messenger, conversationId, fields) {
  const id = globalThis.crypto.randomUUID();
  for (let attempt = 0; ; attempt += 1) {
    const conversation = messenger.conversations.get(conversationId);
    if (!conversation) throw new api.ApiError('not_found', 'This conversation is no longer available.', 404);
    const epoch = conversation.currentEpoch;
    const sealed = messenger.keys.sealDisclosure(fields, conversationId, epoch, id);
    try {
      return await api.post(path(conversationId), {
        id,
        disclosed_on: fields.disclosedOn,
        legal_basis: fields.legalBasis,
        epoch,
        sealed,
      });
    } catch (failure) {
      if (attempt || !(failure instanceof api.ApiError) || failure.code !== 'stale_epoch') throw failure;
      await messenger.refreshConversation(conversationId);
    }
  }
}

/** @param {unknown} failure */
function failureText(failure) {
  if (failure instanceof api.ApiError) {
    if (failure.code === 'conversation_closed') return failure.message;
    return `Not recorded: ${failure.message}`;
  }
  if (isCryptoError(failure)) {
    return `Not recorded: ${/** @type {Error} */ (failure).message}.`;
  }
  return 'Not recorded: the keys of this conversation are not in this browser. Reload the page and try again.';
}

/**
 * The accounting of disclosures of one conversation, for either member.
 * @param {HTMLElement} root
 * @param {{messenger: import('../messenger.js').Messenger, me: any, conversationId: string,
 *          announce: (text: string) => void}} ctx
 * @returns {() => void} cleanup
 */
export function renderDisclosures(root, ctx) {
  const { messenger, me, conversationId, announce } = ctx;
  const conversation = messenger.conversations.get(conversationId);
  const peer = conversation && messenger.peer(conversation);
  if (!conversation || !peer) {
    root.replaceChildren(h('section', { class: 'screen' }, h('h1', {}, 'Conversation not found'), h('p', {}, h('a', { href: '#/' }, 'Back'))));
    focusHeading(root);
    return () => {};
  }
  const therapist = me.role === 'therapist';
  const list = h('ol', { class: 'disclosure-list', 'aria-labelledby': 'disclosures-title' });
  const status = h('p', { class: 'form-status', role: 'status' }, 'Loading…');
  const load = async () => {
    try {
      const answer = await api.get(path(conversationId));
      const items = /** @type {any[]} */ (answer.disclosures);
      list.replaceChildren(...items.map((item) => entry(messenger, me, conversationId, item)));
      status.textContent = items.length
        ? `${items.length === 1 ? 'One disclosure' : `${items.length} disclosures`} recorded.`
        : 'No disclosure has been recorded in this conversation.';
    } catch (failure) {
      status.textContent = failure instanceof api.ApiError ? failure.message : 'The accounting could not be loaded.';
    }
  };
  const recordButton = therapist && conversation.status === 'active'
    ? h('button', { type: 'button', class: 'primary', onclick: () => openRecordDialog({ messenger, conversationId, announce, onRecorded: load }) }, 'Record a disclosure')
    : null;
  const about = therapist
    ? `Each disclosure you made outside this conversation, as ${peer.displayName} can read it for their own record.`
    : `Each time your therapist shared information about you outside this conversation, as the law allows or requires (for example to protect someone from harm, a report the law requires, or a court order), or because you authorised it. Only you and ${peer.displayName} can read the details.`;
  root.replaceChildren(
    h('section', { class: 'screen narrow', 'aria-labelledby': 'disclosures-title' },
      h('p', { class: 'back' }, h('a', { href: `#/c/${conversationId}` }, `← Back to ${peer.displayName}`)),
      h('h1', { id: 'disclosures-title' }, 'Accounting of disclosures'),
      h('p', { class: 'lead' }, about),
      recordButton,
      status,
      list));
  focusHeading(root);
  const onEvent = (/** @type {Event} */ event) => {
    if (/** @type {CustomEvent} */ (event).detail?.conversation === conversationId) load();
  };
  messenger.addEventListener('disclosure', onEvent);
  load();
  return () => messenger.removeEventListener('disclosure', onEvent);
}

/**
 * One record of the accounting: the plain date and basis, and the description opened
 * against the therapist's identities, or why it cannot be shown.
 * @param {import('../messenger.js').Messenger} messenger
 * @param {any} me
 * @param {string} conversationId
 * @param {any} item
 */
function entry(messenger, me, conversationId, item) {
  const conversation = messenger.conversations.get(conversationId);
  const recorder = conversation?.members.get(item.recorded_by);
  const who = recorder ? (recorder.id === me.id ? 'you' : recorder.displayName) : 'someone who is not a member';
  const recorded = new Date(item.recorded_at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const basis = LEGAL_BASES[item.legal_basis] ?? item.legal_basis;
  const head = h('h2', { class: 'disclosure-head' }, `${dayText(item.disclosed_on)}: ${basis}`);
  const meta = h('p', { class: 'hint' }, `Recorded by ${who} on ${recorded}.`);
  let body;
  try {
    if (!recorder || recorder.role !== 'therapist') {
      throw new Error('not recorded by the therapist of this conversation');
    }
    const description = messenger.keys.openDisclosure(item, [recorder.identity, ...(recorder.previous ?? [])]);
    body = h('dl', { class: 'disclosure-details' },
      h('dt', {}, 'Disclosed to'), h('dd', {}, description.recipient),
      h('dt', {}, 'What was disclosed'), h('dd', {}, description.information),
      h('dt', {}, 'Purpose'), h('dd', {}, description.purpose));
  } catch (failure) {
    const why = failure instanceof Error && failure.name === 'BindingError' && /date|basis/.test(failure.message)
      ? 'the date or legal basis the portal lists is not the one the therapist sealed'
      : 'it could not be verified as written by the therapist, or it was altered';
    body = h('p', { class: 'banner disclosure-unreadable', role: 'note' },
      `This record cannot be shown: ${why}. Ask the practice about it.`);
  }
  return h('li', { class: 'card disclosure', 'data-disclosure': item.id }, head, meta, body);
}
