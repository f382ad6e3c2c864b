/**
 * The therapist's inbox: every client conversation (name, last activity, unread count)
 * and "Invite a client", which makes a one-time link to copy, with the invitations still
 * pending and a Revoke button for each (`GET /api/invitations`, `POST .../revoke`).
 *
 * @module
 */

import * as api from '../api.js';
import { h, shortTime, focusHeading } from '../dom.js';

/**
 * @param {HTMLElement} root
 * @param {{messenger: import('../messenger.js').Messenger, me: any, title?: string}} ctx
 * @returns {() => void} cleanup
 */
export function renderInbox(root, { messenger, me, title }) {
  const therapist = me.role === 'therapist';
  const list = h('ul', { class: 'inbox-list', 'aria-label': 'Conversations' });
  const empty = h('p', { class: 'empty' }, therapist ? 'No conversations yet. Invite a client to begin.' : 'No conversations yet.');

  const draw = () => {
    const conversations = messenger.list();
    empty.hidden = conversations.length > 0;
    list.replaceChildren(
      ...conversations.map((conversation) => {
        const peer = messenger.peer(conversation);
        const unread = conversation.unread;
        const when = conversation.lastMessageAt;
        return h(
          'li',
          {},
          h(
            'a',
            { class: `inbox-item${unread ? ' has-unread' : ''}`, href: `#/c/${conversation.id}`, dataset: { conversation: conversation.id } },
            h('span', { class: 'inbox-name' }, peer?.displayName ?? 'Conversation'),
            h('span', { class: 'inbox-when' }, when ? h('time', { datetime: when }, shortTime(when)) : 'No messages yet'),
            unread ? h('span', { class: 'badge', 'aria-label': `${unread} unread` }, String(unread)) : null,
            conversation.status === 'discharged' ? h('span', { class: 'tag' }, 'Read-only') : null,
          ),
        );
      }),
    );
  };

  const sections = [];
  if (therapist) sections.push(invitePanel());
  sections.push(
    h('section', { class: 'inbox', 'aria-labelledby': 'inbox-list-title' },
      h('h2', { id: 'inbox-list-title' }, 'Conversations'),
      list,
      empty),
  );
  root.replaceChildren(
    h('section', { class: 'screen', 'aria-labelledby': 'inbox-title' },
      h('h1', { id: 'inbox-title' }, title ?? (therapist ? 'Your clients' : 'Your conversations')),
      ...sections),
  );
  draw();
  focusHeading(root);
  // A client accepting an invitation reaches this list by the server's
  // `conversation_added` event (the messenger lists the conversations again).
  messenger.addEventListener('conversations', draw);
  return () => {
    messenger.removeEventListener('conversations', draw);
  };
}

function invitePanel() {
  const name = h('input', { id: 'invite-client-name', type: 'text', required: true, maxlength: 150, autocomplete: 'off' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const result = h('div', { class: 'invite-result', hidden: true });
  const pending = pendingInvitations(error);
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create invitation link');
  const form = h('form', { class: 'form inline-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'invite-client-name' }, "Client's name"), name),
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const clientName = /** @type {HTMLInputElement} */ (name).value.trim();
    if (!clientName) {
      error.textContent = "Enter the client's name.";
      name.focus();
      return;
    }
    submit.setAttribute('disabled', '');
    try {
      const answer = await api.post('/api/invitations', { client_name: clientName });
      showLink(result, clientName, `${location.origin}${answer.path}`, answer.expires_at);
      /** @type {HTMLInputElement} */ (name).value = '';
      pending.reload();
    } catch (problem) {
      error.textContent = problem instanceof api.ApiError && problem.code === 'forbidden'
        ? 'Only therapists can invite clients.'
        : 'The invitation could not be created. Try again.';
    } finally {
      submit.removeAttribute('disabled');
    }
  });
  return h('section', { class: 'card invite-panel', 'aria-labelledby': 'invite-panel-title' },
    h('h2', { id: 'invite-panel-title' }, 'Invite a client'),
    h('p', { class: 'hint' }, 'The link works once and expires. Give it to your client yourself, for example by email or in session.'),
    form, error, result, pending.node);
}

/**
 * The therapist's invitations still pending (the server lists them without their links),
 * each with a button that revokes it: its link then opens nothing.
 * @param {HTMLElement} problem where a failure is told (the panel's alert)
 */
function pendingInvitations(problem) {
  const list = h('ul', { class: 'invitation-list', 'aria-labelledby': 'invitations-title' });
  const node = h('section', { class: 'invitations', hidden: true },
    h('h3', { id: 'invitations-title' }, 'Pending invitations'), list);

  const reload = async () => {
    let answer;
    try {
      answer = await api.get('/api/invitations');
    } catch {
      return; // the list stays as it was; creating and revoking still work
    }
    const items = answer.invitations.filter((/** @type {any} */ item) => item.state === 'pending');
    node.hidden = items.length === 0;
    list.replaceChildren(...items.map((/** @type {any} */ item) => {
      const revoke = h('button', { type: 'button', class: 'link-button', 'aria-label': `Revoke the invitation for ${item.client_name}` }, 'Revoke');
      revoke.addEventListener('click', async () => {
        problem.textContent = '';
        revoke.setAttribute('disabled', '');
        try {
          await api.post(`/api/invitations/${item.id}/revoke`);
        } catch {
          problem.textContent = 'The invitation could not be revoked. Try again.';
          revoke.removeAttribute('disabled');
          return;
        }
        reload();
      });
      return h('li', { class: 'invitation-item', dataset: { invitation: String(item.id) } },
        h('div', { class: 'invitation-who' },
          h('span', { class: 'inbox-name' }, item.client_name),
          h('span', { class: 'hint' }, `Valid until ${new Date(item.expires_at).toLocaleString()}`)),
        revoke);
    }));
  };
  reload();
  return { node, reload };
}

/**
 * @param {HTMLElement} result
 * @param {string} clientName
 * @param {string} link
 * @param {string} expiresAt
 */
function showLink(result, clientName, link, expiresAt) {
  const field = h('input', { id: 'invite-link', type: 'text', readonly: true, value: link, class: 'link-field' });
  const copied = h('p', { class: 'form-status', role: 'status' });
  const copy = h('button', { type: 'button' }, 'Copy link');
  copy.addEventListener('click', async () => {
    /** @type {HTMLInputElement} */ (field).select();
    try {
      await navigator.clipboard.writeText(link);
      copied.textContent = 'Copied.';
    } catch {
      copied.textContent = 'Select the link and copy it.';
    }
  });
  const expires = new Date(expiresAt);
  result.replaceChildren(
    h('label', { for: 'invite-link' }, `Invitation link for ${clientName}`),
    h('div', { class: 'copy-row' }, field, copy),
    h('p', { class: 'hint' }, `Shown only now. Valid until ${expires.toLocaleString()}.`),
    copied,
  );
  result.hidden = false;
  field.focus();
  /** @type {HTMLInputElement} */ (field).select();
}
