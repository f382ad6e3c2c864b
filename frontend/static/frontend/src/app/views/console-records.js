/**
 * The admin console's records (`#/admin/records`): the practice's discharged conversations,
 * when the retention period erases each, and a recorded request to erase one now (a
 * client's request, a court order, the practice closing, or one made in error). The worker
 * erases it shortly after: its messages and keys are destroyed on the server, and a
 * tombstone and the audit events remain (docs/records.md).
 *
 * An admin never reads a conversation: the rows hold names and dates, nothing more.
 *
 * @module
 */

import * as api from '../api.js';
import { h } from '../dom.js';
import { explain, fillRows, when } from './console-common.js';

/** The reasons an erasure may be requested for (protocol/practice.py, ErasureReason). */
export const REASONS = /** @type {Record<string, string>} */ ({
  client_request: 'The client asked for it',
  court_order: 'A court order',
  practice_closing: 'The practice is closing',
  made_in_error: 'The conversation was made in error',
});

/**
 * What a record's status cell says.
 * @param {{status: string, erase_after: string|null, erasure_requested_at: string|null, erased_at: string|null}} record
 */
export function recordState(record) {
  if (record.status === 'erased') return `Erased ${when(record.erased_at)}`;
  if (record.status === 'erasing') return 'Being erased';
  if (record.erasure_requested_at) return `Erasure requested ${when(record.erasure_requested_at)}`;
  return `Kept until ${when(record.erase_after)}`;
}

/** @param {HTMLElement} body */
export function renderRecordsPanel(body) {
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const status = h('p', { class: 'form-status', role: 'status' });
  const kept = h('p', { class: 'hint' });
  const rows = h('tbody', {});
  const empty = h('p', { class: 'empty', hidden: true }, 'No conversation has been discharged.');
  const dialog = erasureDialog(async (record) => {
    status.textContent = `Erasure of the conversation with ${record.client} is recorded; it runs shortly.`;
    await load();
  });

  const load = async () => {
    problem.textContent = '';
    let answer;
    try {
      answer = await api.get('/api/admin/records');
    } catch (failure) {
      problem.textContent = explain(failure, 'The records could not be loaded. Try again.');
      return;
    }
    const years = answer.retention_years;
    kept.textContent =
      `A discharged conversation is kept read-only for ${years} year${years === 1 ? '' : 's'} ` +
      '(Practice settings), then erased: its messages and keys are destroyed on the server, and ' +
      'only a tombstone and the audit log say it existed. Backups keep it until they expire.';
    fillRows(rows, answer.records.map((/** @type {any} */ record) => recordRow(record, dialog.open)));
    empty.hidden = answer.records.length > 0;
  };

  body.replaceChildren(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'admin-records-title' },
      h('h2', { id: 'admin-records-title' }, 'Discharged conversations'),
      kept,
      problem,
      status,
      h(
        'div',
        { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Discharged conversations table' },
        h(
          'table',
          { class: 'table records-table' },
          h('thead', {}, h('tr', {}, ...['Client', 'Therapist', 'Discharged', 'State', ''].map((label) => h('th', { scope: 'col' }, label)))),
          rows,
        ),
      ),
      empty,
    ),
    dialog.node,
  );
  load();
}

/**
 * @param {any} record
 * @param {(record: any, from: HTMLElement) => void} askErasure
 */
function recordRow(record, askErasure) {
  const canErase = record.status === 'discharged' && !record.erasure_requested_at;
  const action = canErase
    ? h('button', { type: 'button', class: 'link-button', 'aria-haspopup': 'dialog', 'aria-label': `Erase now: the conversation with ${record.client}` }, 'Erase now')
    : null;
  action?.addEventListener('click', () => askErasure(record, action));
  return h(
    'tr',
    { dataset: { conversation: record.conversation } },
    h('td', {}, record.client || '—'),
    h('td', {}, record.therapist || '—'),
    h('td', {}, when(record.discharged_at)),
    h('td', {}, recordState(record)),
    h('td', {}, action ?? ''),
  );
}

/**
 * The confirmation of an erasure request: its reason, and what it destroys. A native modal
 * `<dialog>`: focus moves into it, Escape cancels, and focus returns to the row's button.
 * @param {(record: any) => Promise<void>} onRecorded
 */
function erasureDialog(onRecorded) {
  const reason = h(
    'select',
    { id: 'erasure-reason', required: true },
    h('option', { value: '' }, 'Choose a reason'),
    ...Object.entries(REASONS).map(([value, label]) => h('option', { value }, label)),
  );
  const title = h('h2', { id: 'erasure-title' }, 'Erase this conversation now?');
  const error = h('p', { class: 'form-error', role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const confirm = h('button', { type: 'submit', class: 'danger' }, 'Erase');
  const form = h(
    'form',
    { method: 'dialog', class: 'form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'erasure-reason' }, 'Why'), reason),
    error,
    h('p', { class: 'dialog-actions' }, cancel, confirm),
  );
  const node = /** @type {HTMLDialogElement} */ (
    h(
      'dialog',
      { class: 'dialog erasure-dialog', 'aria-labelledby': 'erasure-title', 'aria-describedby': 'erasure-explained' },
      title,
      h(
        'p',
        { id: 'erasure-explained' },
        'Every message and key of the conversation is destroyed on the server, for both people in it; this cannot be undone. The audit log records who asked and why.',
      ),
      form,
    )
  );
  /** @type {any} */
  let record = null;
  /** @type {HTMLElement|null} */
  let from = null;

  reason.addEventListener('change', () => {
    error.textContent = '';
  });
  cancel.addEventListener('click', () => node.close());
  node.addEventListener('close', () => from?.isConnected && from.focus());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const value = /** @type {HTMLSelectElement} */ (reason).value;
    if (!value) {
      error.textContent = 'Choose why it is erased.';
      reason.focus();
      return;
    }
    confirm.setAttribute('disabled', '');
    try {
      await api.post(`/api/admin/records/${record.conversation}/erase`, { reason: value });
    } catch (failure) {
      error.textContent = explain(failure, 'The erasure could not be recorded. Nothing changed; try again.');
      confirm.removeAttribute('disabled');
      return;
    }
    node.close();
    await onRecorded(record);
  });

  return {
    node,
    /** @param {any} chosen @param {HTMLElement} button */
    open(chosen, button) {
      record = chosen;
      from = button;
      title.textContent = `Erase the conversation with ${chosen.client} now?`;
      /** @type {HTMLSelectElement} */ (reason).value = '';
      error.textContent = '';
      confirm.removeAttribute('disabled');
      node.showModal();
      reason.focus();
    },
  };
}
