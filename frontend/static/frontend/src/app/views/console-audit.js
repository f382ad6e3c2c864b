/**
 * The admin console's audit log (`#/admin/audit`): who did what, when and from where in
 * the practice, newest first, filtered by person, kind and dates, and downloaded as CSV
 * with the hashes that chain each event to the one before (docs/records.md).
 *
 * Events hold no content and no key: the log is the practice's record of actions.
 *
 * @module
 */

import * as api from '../api.js';
import { h } from '../dom.js';
import { explain, fillRows, when } from './console-common.js';

/** Each kind of event as the console names it (protocol/audit.py lists the kinds). */
export const KINDS = /** @type {Record<string, string>} */ ({
  signin: 'Signed in',
  signin_failed: 'Sign-in failed',
  second_factor_failed: 'Second factor failed',
  signout: 'Signed out',
  second_factor_added: 'Second factor added',
  second_factor_removed: 'Second factor removed',
  password_recovered: 'Password recovered with the recovery key',
  assisted_recovery_requested: 'Recovery asked of the therapist',
  assisted_recovery_confirmed: 'Recovery confirmed by the therapist',
  assisted_recovery_declined: 'Recovery declined by the therapist',
  identity_changed: 'Identity key changed',
  epoch_started: 'Conversation key rotated',
  invitation_created: 'Invitation made',
  invitation_accepted: 'Invitation accepted',
  invitation_revoked: 'Invitation revoked',
  invitation_renewed: 'Invitation link renewed',
  setup_link_created: 'Setup link made',
  setup_link_revoked: 'Setup link revoked',
  account_created: 'Account created',
  account_deactivated: 'Account deactivated',
  account_reactivated: 'Account reactivated',
  practice_created: 'Practice created',
  practice_settings_changed: 'Practice settings changed',
  agreement_published: 'Agreement version published',
  agreement_accepted: 'Agreement accepted',
  export_made: 'Conversation exported',
  disclosure_recorded: 'Disclosure recorded',
  conversation_discharged: 'Conversation discharged',
  erasure_requested: 'Erasure requested',
  erasure_started: 'Erasure started',
  conversation_erased: 'Conversation erased',
  audit_downloaded: 'Audit log downloaded',
  audit_pruned: 'Old audit events removed',
});

/**
 * The filters as a query string (only those set).
 * @param {{person: string, kind: string, since: string, until: string}} filters
 * @param {number|null} [before]
 */
export function auditQuery(filters, before = null) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  if (before !== null) query.set('before', String(before));
  const text = query.toString();
  return text ? `?${text}` : '';
}

/**
 * An event's details as a short line ("epoch: 4, envelopes: 2").
 * @param {Record<string, unknown>} details
 */
export function detailsLine(details) {
  return Object.entries(details)
    .filter(([, value]) => value !== null && value !== '')
    .map(([name, value]) => `${name.replaceAll('_', ' ')}: ${String(value)}`)
    .join(', ');
}

/** @param {HTMLElement} body */
export function renderAuditPanel(body) {
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const person = h('select', { id: 'audit-person', name: 'person' }, h('option', { value: '' }, 'Everyone'));
  const kind = h(
    'select',
    { id: 'audit-kind', name: 'kind' },
    h('option', { value: '' }, 'Every kind'),
    ...Object.entries(KINDS).map(([value, label]) => h('option', { value }, label)),
  );
  const since = h('input', { id: 'audit-since', name: 'since', type: 'date' });
  const until = h('input', { id: 'audit-until', name: 'until', type: 'date' });
  const download = h('a', { class: 'button secondary', href: '/api/admin/audit.csv', download: '' }, 'Download CSV');
  const rows = h('tbody', {});
  const empty = h('p', { class: 'empty', hidden: true }, 'No events match these filters.');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show older events');
  const status = h('p', { class: 'form-status', role: 'status' });
  /** @type {HTMLElement[]} */
  let shown = [];
  /** @type {number|null} */
  let before = null;

  const filters = () => ({
    person: /** @type {HTMLSelectElement} */ (person).value,
    kind: /** @type {HTMLSelectElement} */ (kind).value,
    since: /** @type {HTMLInputElement} */ (since).value,
    until: /** @type {HTMLInputElement} */ (until).value,
  });

  const load = async (/** @type {boolean} */ fresh) => {
    problem.textContent = '';
    if (fresh) {
      shown = [];
      before = null;
    }
    download.setAttribute('href', `/api/admin/audit.csv${auditQuery(filters())}`);
    let answer;
    try {
      answer = await api.get(`/api/admin/audit${auditQuery(filters(), before)}`);
    } catch (failure) {
      problem.textContent = explain(failure, 'The audit log could not be loaded. Try again.');
      return;
    }
    shown = [...shown, ...answer.events.map(eventRow)];
    before = answer.next_before;
    fillRows(rows, shown);
    empty.hidden = shown.length > 0;
    more.hidden = before === null;
    status.textContent = `${shown.length} event${shown.length === 1 ? '' : 's'} shown.`;
  };

  const form = h(
    'form',
    { class: 'audit-filters', 'aria-label': 'Filter the audit log' },
    h('div', { class: 'field' }, h('label', { for: 'audit-person' }, 'Person'), person),
    h('div', { class: 'field' }, h('label', { for: 'audit-kind' }, 'Kind'), kind),
    h('div', { class: 'field' }, h('label', { for: 'audit-since' }, 'From'), since),
    h('div', { class: 'field' }, h('label', { for: 'audit-until' }, 'To'), until),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show'), download),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load(true);
  });
  more.addEventListener('click', () => load(false));

  body.replaceChildren(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'admin-audit-title' },
      h('h2', { id: 'admin-audit-title' }, 'Who did what, and when'),
      h(
        'p',
        { class: 'hint' },
        'Sign-ins, key changes, invitations, exports, disclosures and every admin action. Each event holds the hash of the one before, so an edited or deleted event is found. No message content is ever in it.',
      ),
      form,
      problem,
      status,
      h(
        'div',
        { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Audit log table' },
        h(
          'table',
          { class: 'table audit-table' },
          h('thead', {}, h('tr', {}, ...['When', 'Who', 'What', 'Subject', 'From', 'Details'].map((label) => h('th', { scope: 'col' }, label)))),
          rows,
        ),
      ),
      empty,
      more,
    ),
  );
  loadPeople(person);
  load(true);
}

/** @param {HTMLElement} select */
async function loadPeople(select) {
  try {
    const answer = await api.get('/api/admin/members');
    select.append(
      ...answer.members.map((/** @type {any} */ member) => h('option', { value: String(member.id) }, `${member.display_name} (${member.email})`)),
    );
  } catch {
    // The filter still works by kind and date; the table says what failed, if anything.
  }
}

/** @param {any} event */
function eventRow(event) {
  return h(
    'tr',
    { dataset: { seq: String(event.seq) } },
    h('td', {}, when(event.at)),
    h('td', {}, event.actor || 'The portal'),
    h('td', {}, KINDS[event.kind] ?? event.kind),
    h('td', {}, event.subject),
    h('td', { title: event.user_agent }, event.address || '—'),
    h('td', {}, detailsLine(event.details)),
  );
}
