/**
 * The practice admin's console (`#/admin/<part>`): people (add a therapist or admin by a
 * one-time setup link, deactivate and reactivate anyone), client invitations of every
 * therapist, the practice's settings, the messaging agreement's versions, the audit log, and
 * the discharged conversations with their erasure.
 *
 * An admin manages people and texts. Nothing here asks for or shows a key, an envelope
 * or a message: the endpoints under `/api/admin/` carry none.
 *
 * @module
 */

import * as api from '../api.js';
import { h, focusHeading } from '../dom.js';
import { explain, fillRows, showOnce, when } from './console-common.js';
import { renderAuditPanel } from './console-audit.js';
import { renderRecordsPanel } from './console-records.js';
import { renderAgreementPanel, renderPracticePanel } from './console-practice.js';

export const PARTS = /** @type {const} */ (['people', 'invitations', 'practice', 'agreement', 'audit', 'records']);
const TITLES = /** @type {Record<string, string>} */ ({
  people: 'People',
  invitations: 'Client invitations',
  practice: 'Practice settings',
  agreement: 'Messaging agreement',
  audit: 'Audit log',
  records: 'Records',
});
const ROLE = /** @type {Record<string, string>} */ ({ admin: 'Admin', therapist: 'Therapist', client: 'Client' });
const STATE = /** @type {Record<string, string>} */ ({
  pending: 'Pending',
  used: 'Used',
  accepted: 'Accepted',
  expired: 'Expired',
  revoked: 'Revoked',
});

/**
 * @param {HTMLElement} root
 * @param {{me: any, part: string}} ctx
 */
export function renderConsole(root, { me, part }) {
  const current = PARTS.includes(/** @type {any} */ (part)) ? part : 'people';
  const nav = h(
    'nav',
    { class: 'console-nav', 'aria-label': 'Console' },
    h(
      'ul',
      {},
      ...PARTS.map((name) =>
        h('li', {}, h('a', { href: `#/admin/${name}`, 'aria-current': name === current ? 'page' : null }, TITLES[name])),
      ),
    ),
  );
  const body = h('div', { class: 'console-body' });
  root.replaceChildren(
    h(
      'section',
      { class: 'screen console', 'aria-labelledby': 'console-title' },
      h('h1', { id: 'console-title' }, `${TITLES[current]} · ${me.practice.name}`),
      nav,
      body,
    ),
  );
  if (current === 'people') renderPeople(body, me);
  else if (current === 'invitations') renderInvitations(body);
  else if (current === 'practice') renderPracticePanel(body);
  else if (current === 'audit') renderAuditPanel(body);
  else if (current === 'records') renderRecordsPanel(body);
  else renderAgreementPanel(body);
  focusHeading(root);
}

// --- people ----------------------------------------------------------------------------

/**
 * @param {HTMLElement} body
 * @param {any} me
 */
function renderPeople(body, me) {
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const links = setupLinks(problem);
  const members = memberTable(me, problem);
  body.replaceChildren(addStaffPanel(links.reload), problem, links.node, members.node);
}

/** @param {() => void} onAdded */
function addStaffPanel(onAdded) {
  const name = h('input', { id: 'staff-name', type: 'text', required: true, maxlength: 150, autocomplete: 'off' });
  const email = h('input', { id: 'staff-email', type: 'email', required: true, autocomplete: 'off' });
  const role = h(
    'select',
    { id: 'staff-role' },
    h('option', { value: 'therapist' }, 'Therapist'),
    h('option', { value: 'admin' }, 'Admin'),
  );
  const error = h('p', { class: 'form-error', role: 'alert' });
  const result = h('div', { class: 'invite-result', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create setup link');
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'staff-name' }, 'Name'), name),
    h('div', { class: 'field' }, h('label', { for: 'staff-email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'staff-role' }, 'Role'), role),
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const values = {
      display_name: /** @type {HTMLInputElement} */ (name).value.trim(),
      email: /** @type {HTMLInputElement} */ (email).value.trim(),
      role: /** @type {HTMLSelectElement} */ (role).value,
    };
    if (!values.display_name) {
      error.textContent = 'Enter their name.';
      name.focus();
      return;
    }
    if (!/^[^@\s]+@[^@\s]+$/.test(values.email)) {
      error.textContent = 'Enter a valid email address.';
      email.focus();
      return;
    }
    submit.setAttribute('disabled', '');
    try {
      const answer = await api.post('/api/admin/setup-links', values);
      showOnce(result, `Setup link for ${values.display_name}`, `${location.origin}${answer.path}`, answer.expires_at);
      /** @type {HTMLInputElement} */ (name).value = '';
      /** @type {HTMLInputElement} */ (email).value = '';
      onAdded();
    } catch (failure) {
      error.textContent = explain(failure, 'The link could not be created. Try again.');
    } finally {
      submit.removeAttribute('disabled');
    }
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'add-staff-title' },
    h('h2', { id: 'add-staff-title' }, 'Add a therapist or admin'),
    h(
      'p',
      { class: 'hint' },
      'They get a one-time link, valid for three days. They choose their password and make their keys in their own browser; you never hold them.',
    ),
    form,
    error,
    result,
  );
}

/** @param {HTMLElement} problem */
function setupLinks(problem) {
  const rows = h('tbody', {});
  const node = h(
    'section',
    { class: 'card', 'aria-labelledby': 'setup-links-title', hidden: true },
    h('h2', { id: 'setup-links-title' }, 'Setup links'),
    h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Setup links table' },
      h(
        'table',
        { class: 'table' },
        h('thead', {}, h('tr', {}, ...['Name', 'Email', 'Role', 'State', ''].map((label) => h('th', { scope: 'col' }, label)))),
        rows,
      ),
    ),
  );
  const reload = async () => {
    let answer;
    try {
      answer = await api.get('/api/admin/setup-links');
    } catch (failure) {
      problem.textContent = explain(failure, 'The setup links could not be loaded.');
      return;
    }
    node.hidden = answer.links.length === 0;
    fillRows(rows, [
      ...answer.links.map((/** @type {any} */ link) => {
        const action =
          link.state === 'pending'
            ? h('button', { type: 'button', class: 'link-button', 'aria-label': `Revoke the setup link for ${link.display_name}` }, 'Revoke')
            : null;
        action?.addEventListener('click', async () => {
          problem.textContent = '';
          action.setAttribute('disabled', '');
          try {
            await api.post(`/api/admin/setup-links/${link.id}/revoke`);
          } catch (failure) {
            problem.textContent = explain(failure, 'The link could not be revoked. Try again.');
            action.removeAttribute('disabled');
            return;
          }
          reload();
        });
        const state = link.state === 'pending' ? `Pending until ${when(link.expires_at)}` : STATE[link.state];
        return h(
          'tr',
          { dataset: { setupLink: String(link.id) } },
          h('td', {}, link.display_name),
          h('td', {}, link.email),
          h('td', {}, ROLE[link.role] ?? link.role),
          h('td', {}, state),
          h('td', {}, action),
        );
      }),
    ]);
  };
  reload();
  return { node, reload };
}

/**
 * @param {any} me
 * @param {HTMLElement} problem
 */
function memberTable(me, problem) {
  const rows = h('tbody', {});
  const node = h(
    'section',
    { class: 'card', 'aria-labelledby': 'members-title' },
    h('h2', { id: 'members-title' }, 'Members'),
    h('p', { class: 'hint' }, 'Deactivating someone signs them out everywhere at once; their conversations are kept. Reactivating lets them sign in again.'),
    h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Members table' },
      h(
        'table',
        { class: 'table' },
        h('thead', {}, h('tr', {}, ...['Name', 'Email', 'Role', 'Status', 'Last sign-in', ''].map((label) => h('th', { scope: 'col' }, label)))),
        rows,
      ),
    ),
  );
  const reload = async () => {
    let answer;
    try {
      answer = await api.get('/api/admin/members');
    } catch (failure) {
      problem.textContent = explain(failure, 'The members could not be loaded.');
      return;
    }
    fillRows(rows, [...answer.members.map((/** @type {any} */ member) => memberRow(member, me, problem, reload))]);
  };
  reload();
  return { node, reload };
}

/**
 * @param {any} member
 * @param {any} me
 * @param {HTMLElement} problem
 * @param {() => void} reload
 */
function memberRow(member, me, problem, reload) {
  const cell = h('td', { class: 'row-actions' });
  const set = async (/** @type {boolean} */ active) => {
    problem.textContent = '';
    try {
      await api.post(`/api/admin/members/${member.id}/active`, { active });
    } catch (failure) {
      problem.textContent = explain(failure, 'The change could not be saved. Try again.');
      return;
    }
    reload();
  };
  if (member.id !== me.id) {
    if (member.is_active) {
      const ask = h('button', { type: 'button', class: 'link-button', 'aria-label': `Deactivate ${member.display_name}` }, 'Deactivate');
      ask.addEventListener('click', () => {
        const yes = h('button', { type: 'button', class: 'danger' }, `Deactivate ${member.display_name}`);
        const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
        yes.addEventListener('click', () => set(false));
        no.addEventListener('click', () => {
          cell.replaceChildren(ask);
          ask.focus();
        });
        cell.replaceChildren(h('span', { class: 'confirm-row' }, yes, no));
        yes.focus();
      });
      cell.append(ask);
    } else {
      const back = h('button', { type: 'button', class: 'link-button', 'aria-label': `Reactivate ${member.display_name}` }, 'Reactivate');
      back.addEventListener('click', () => set(true));
      cell.append(back);
    }
  }
  return h(
    'tr',
    { dataset: { member: String(member.id) }, class: member.is_active ? null : 'inactive' },
    h('td', {}, member.display_name, member.id === me.id ? h('span', { class: 'hint' }, ' (you)') : null),
    h('td', {}, member.email),
    h('td', {}, ROLE[member.role] ?? member.role),
    h('td', {}, member.is_active ? 'Active' : 'Deactivated'),
    h('td', {}, when(member.last_login)),
    cell,
  );
}

// --- client invitations --------------------------------------------------------------------

/** @param {HTMLElement} body */
function renderInvitations(body) {
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const rows = h('tbody', {});
  const empty = h('p', { class: 'empty', hidden: true }, 'No client invitations yet.');
  const reload = async () => {
    let answer;
    try {
      answer = await api.get('/api/admin/invitations');
    } catch (failure) {
      problem.textContent = explain(failure, 'The invitations could not be loaded.');
      return;
    }
    empty.hidden = answer.invitations.length > 0;
    fillRows(rows, [
      ...answer.invitations.map((/** @type {any} */ item) => {
        const action =
          item.state === 'pending'
            ? h('button', { type: 'button', class: 'link-button', 'aria-label': `Revoke the invitation for ${item.client_name}` }, 'Revoke')
            : null;
        action?.addEventListener('click', async () => {
          problem.textContent = '';
          action.setAttribute('disabled', '');
          try {
            await api.post(`/api/admin/invitations/${item.id}/revoke`);
          } catch (failure) {
            problem.textContent = explain(failure, 'The invitation could not be revoked. Try again.');
            action.removeAttribute('disabled');
            return;
          }
          reload();
        });
        const state = item.state === 'pending' ? `Pending until ${when(item.expires_at)}` : STATE[item.state];
        return h(
          'tr',
          { dataset: { invitation: String(item.id) } },
          h('td', {}, item.client_name),
          h('td', {}, item.therapist),
          h('td', {}, when(item.created_at)),
          h('td', {}, state),
          h('td', {}, action),
        );
      }),
    ]);
  };
  body.replaceChildren(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'admin-invitations-title' },
      h('h2', { id: 'admin-invitations-title' }, 'Invitations of every therapist'),
      h('p', { class: 'hint' }, 'Revoke a link sent to the wrong person: it then opens nothing. Only its therapist can make a new one.'),
      problem,
      h(
        'div',
        { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Invitations table' },
        h(
          'table',
          { class: 'table' },
          h('thead', {}, h('tr', {}, ...['Client', 'Therapist', 'Created', 'State', ''].map((label) => h('th', { scope: 'col' }, label)))),
          rows,
        ),
      ),
      empty,
    ),
  );
  reload();
}
