/**
 * The therapist's inbox: every client conversation (name, last activity, unread count),
 * each with **Rename** (the therapist's own name for the client: kept by the server like
 * the client's name, never shown to the client) and **Archive**. Archived conversations
 * wait under "Show archived (N)" until the client writes again, which brings them back
 * (conversations.js applies the server's rule to the messages that arrive here). Above
 * the list, "Invite a client" makes a one-time link to copy, and lists the invitations
 * still pending, each with **Copy link again** (a new link; the one given before stops
 * working) and **Revoke** (`GET /api/invitations`, `POST .../renew`, `POST .../revoke`,
 * `POST /api/conversations/<id>/label`, `POST /api/conversations/<id>/archive`). Above
 * them, a client's pending assisted recovery, when there is one (views/recoveries.js).
 *
 * A client sees their conversations only, without any of that.
 *
 * @module
 */

import * as api from '../api.js';
import { applyInboxEntry, shownName, writtenAfter } from '../conversations.js';
import { fold, h, shortTime, focusHeading } from '../dom.js';
import { recoveryNotices } from './recoveries.js';

/** What a label may not hold (protocol/http.py, `Label`): the server refuses it too. */
const LABEL_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
const LABEL_MAX = 150;
// How long a therapist's list waits for the pending invitations above it, at most.
const INVITATIONS_WAIT_MS = 2000;

/**
 * @param {HTMLElement} root
 * @param {{messenger: import('../messenger.js').Messenger, me: any, title?: string,
 *          current?: () => string|null}} ctx `current`: the conversation open beside the
 *          inbox, marked in the list
 * @returns {() => void} cleanup
 */
export function renderInbox(root, { messenger, me, title, current }) {
  const therapist = me.role === 'therapist';
  const list = h('ul', { class: 'inbox-list', 'aria-label': 'Conversations' });
  const empty = h('p', { class: 'empty' });
  const status = h('p', { class: 'form-status', role: 'status' });
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const archivedList = h('ul', { class: 'inbox-list', 'aria-label': 'Archived conversations' });
  const archivedEmpty = h('p', { class: 'empty' }, 'No archived conversations.');
  const archived = h('section', { id: 'inbox-archived', class: 'inbox-archived', hidden: true, 'aria-labelledby': 'inbox-archived-title' },
    h('h3', { id: 'inbox-archived-title' }, 'Archived'),
    h('p', { class: 'hint' }, "A client's new message brings their conversation back to the list above."),
    archivedList,
    archivedEmpty);
  const toggle = h('button', {
    type: 'button', class: 'link-button archive-toggle', 'aria-expanded': 'false', 'aria-controls': 'inbox-archived', dataset: { key: 'archive-toggle' },
  });
  const heading = h('h2', { id: 'inbox-list-title', tabindex: '-1' }, 'Conversations');
  let showArchived = false;
  /** When each conversation archived at the last drawing was archived, to tell when the
   * client's message brings one back. @type {Map<string, string>} */
  let wereArchived = new Map();
  /** The row being renamed: its form is kept across redraws, with what was typed. */
  /** @type {{id: string, form: HTMLElement}|null} */
  let editing = null;

  /** @param {import('../conversations.js').Conversation} conversation */
  const row = (conversation) => {
    const id = conversation.id;
    const peer = messenger.peer(conversation);
    const name = shownName(conversation, peer);
    const unread = conversation.unread;
    const when = conversation.lastMessageAt;
    const link = h(
      'a',
      { class: `inbox-item${unread ? ' has-unread' : ''}`, href: `#/c/${id}`, 'aria-current': current?.() === id ? 'page' : null, dataset: { conversation: id, key: `${id}:open` } },
      h('span', { class: 'inbox-name' },
        name,
        conversation.label && peer ? h('span', { class: 'inbox-realname' }, ` (${peer.displayName})`) : null),
      h('span', { class: 'inbox-when' }, when ? h('time', { datetime: when }, shortTime(when)) : 'No messages yet'),
      unread ? h('span', { class: 'badge', 'aria-label': `${unread} unread` }, String(unread)) : null,
      conversation.status === 'active' ? null : h('span', { class: 'tag' }, conversation.status === 'discharged' ? 'Read-only' : 'Erased'),
    );
    if (!therapist) return h('li', {}, link);
    if (editing?.id === id) return h('li', { class: 'inbox-row editing', dataset: { row: id } }, editing.form);
    const isArchived = conversation.archivedAt !== null;
    const rename = h('button', { type: 'button', class: 'link-button', 'aria-label': `Rename ${name}`, dataset: { key: `${id}:rename` } }, 'Rename');
    rename.addEventListener('click', () => startRename(conversation));
    const file = h('button', {
      type: 'button', class: 'link-button', 'aria-label': `${isArchived ? 'Unarchive' : 'Archive'} ${name}`, dataset: { key: `${id}:archive` },
    }, isArchived ? 'Unarchive' : 'Archive');
    file.addEventListener('click', () => setArchived(conversation, !isArchived, file));
    return h('li', { class: 'inbox-row', dataset: { row: id } }, link, h('div', { class: 'inbox-actions' }, rename, file));
  };

  /**
   * The rows drawn, by conversation, with what each shows: a redraw (every message, read
   * receipt or listing) keeps a row whose conversation shows the same, so that a click
   * begun on it before the redraw still lands on it after (a replaced row loses it).
   * @type {Map<string, {conversation: import('../conversations.js').Conversation, shows: string, element: HTMLElement}>}
   */
  let drawn = new Map();
  /** @param {import('../conversations.js').Conversation} conversation */
  const rowOf = (conversation) => {
    const peer = messenger.peer(conversation);
    const when = conversation.lastMessageAt;
    const shows = JSON.stringify([
      shownName(conversation, peer), conversation.label, peer?.displayName ?? null,
      when ? [when, shortTime(when)] : null, conversation.unread, conversation.status,
      conversation.archivedAt, current?.() === conversation.id, editing?.id === conversation.id,
    ]);
    const kept = drawn.get(conversation.id);
    if (kept && kept.conversation === conversation && kept.shows === shows) return kept.element;
    const made = row(conversation);
    const element = kept ? refresh(kept.element, made) : made;
    drawn.set(conversation.id, { conversation, shows, element });
    return element;
  };
  /**
   * A row drawn before, made to show what `made` shows while the row and its link stay the
   * page's own elements (a press on the link survives); `made` itself when they differ in
   * shape (a row being renamed).
   * @param {HTMLElement} old
   * @param {HTMLElement} made
   */
  const refresh = (old, made) => {
    const oldLink = old.firstElementChild;
    const madeLink = made.firstElementChild;
    if (!(oldLink instanceof HTMLAnchorElement) || !(madeLink instanceof HTMLAnchorElement)
      || old.childElementCount !== made.childElementCount) return made;
    for (const { name } of [...oldLink.attributes]) {
      if (!madeLink.hasAttribute(name)) oldLink.removeAttribute(name);
    }
    for (const { name, value } of [...madeLink.attributes]) {
      if (oldLink.getAttribute(name) !== value) oldLink.setAttribute(name, value);
    }
    oldLink.replaceChildren(...madeLink.childNodes);
    for (const { name } of [...old.attributes]) {
      if (!made.hasAttribute(name)) old.removeAttribute(name);
    }
    for (const { name, value } of [...made.attributes]) {
      if (old.getAttribute(name) !== value) old.setAttribute(name, value);
    }
    // The rest of the row (its buttons, which act on this conversation as it is now).
    const rest = [...made.children].slice(1);
    [...old.children].slice(1).forEach((child, i) => child.replaceWith(rest[i]));
    return old;
  };
  /**
   * The list's rows, in order, touching only those that changed or moved: a row taken out
   * of the page, even to be put back at once, loses the click begun on it.
   * @param {HTMLElement} parent
   * @param {HTMLElement[]} rows
   */
  const put = (parent, rows) => {
    const wanted = new Set(rows);
    for (const child of [...parent.children]) {
      if (!wanted.has(/** @type {HTMLElement} */ (child))) child.remove();
    }
    rows.forEach((r, i) => {
      if (parent.children[i] !== r) parent.insertBefore(r, parent.children[i] ?? null);
    });
  };

  // Find a client by name (the therapist's label or the client's own), in the page only.
  const search = /** @type {HTMLInputElement} */ (h('input', {
    id: 'inbox-search', type: 'search', autocomplete: 'off', spellcheck: 'false', dataset: { key: 'inbox-search' },
  }));
  const searchField = therapist
    ? h('div', { class: 'field inbox-search', role: 'search' }, h('label', { for: 'inbox-search' }, 'Find a client'), search)
    : null;
  /** @param {import('../conversations.js').Conversation} conversation */
  const matches = (conversation) => {
    const query = fold(search.value.trim());
    if (!query) return true;
    const peer = messenger.peer(conversation);
    return fold(`${shownName(conversation, peer)} ${peer?.displayName ?? ''}`).includes(query);
  };

  const draw = () => {
    const focused = focusedKey(root);
    const conversations = messenger.list();
    const found = conversations.filter(matches);
    const filed = therapist ? found.filter((c) => c.archivedAt !== null) : [];
    const shown = therapist ? found.filter((c) => c.archivedAt === null) : conversations;
    const before = drawn;
    drawn = new Map();
    const rowsOf = (/** @type {import('../conversations.js').Conversation[]} */ conversations) =>
      conversations.map((c) => {
        const kept = before.get(c.id);
        if (kept) drawn.set(c.id, kept);
        return rowOf(c);
      });
    put(list, rowsOf(shown));
    empty.hidden = shown.length > 0;
    if (conversations.length === 0) {
      empty.textContent = therapist ? 'No conversations yet. Invite a client to begin.' : 'No conversations yet.';
    } else if (search.value.trim()) {
      empty.textContent = filed.length
        ? `No client in the list is called "${search.value.trim()}"; ${filed.length} archived ${filed.length === 1 ? 'one matches' : 'ones match'}.`
        : `No client is called "${search.value.trim()}".`;
    } else {
      empty.textContent = 'Every conversation is archived.';
    }
    if (therapist) {
      const back = shown.filter((c) => writtenAfter(c.lastIncomingAt ?? '', wereArchived.get(c.id) ?? null));
      if (back.length > 0) {
        status.textContent = back.map((c) => `${shownName(c, messenger.peer(c))} wrote: back in the list.`).join(' ');
      }
      wereArchived = new Map(filed.map((c) => [c.id, /** @type {string} */ (c.archivedAt)]));
      put(archivedList, rowsOf(filed));
      archivedEmpty.hidden = filed.length > 0;
      archived.hidden = !showArchived;
      toggle.hidden = filed.length === 0 && !showArchived;
      toggle.textContent = `${showArchived ? 'Hide' : 'Show'} archived (${filed.length})`;
      toggle.setAttribute('aria-expanded', String(showArchived));
    }
    restoreFocus(root, focused);
  };

  toggle.addEventListener('click', () => {
    showArchived = !showArchived;
    draw();
  });
  search.addEventListener('input', draw);

  /**
   * @param {import('../conversations.js').Conversation} conversation
   * @param {boolean} archive
   * @param {HTMLElement} button
   */
  const setArchived = async (conversation, archive, button) => {
    const name = shownName(conversation, messenger.peer(conversation));
    problem.textContent = '';
    status.textContent = '';
    button.setAttribute('disabled', '');
    let answer;
    try {
      answer = await api.post(`/api/conversations/${encodeURIComponent(conversation.id)}/archive`, { archived: archive });
    } catch {
      problem.textContent = archive ? `${name} could not be archived. Try again.` : `${name} could not be brought back. Try again.`;
      button.removeAttribute('disabled');
      return;
    }
    applyInboxEntry(conversation, answer);
    draw();
    status.textContent = archive ? `${name} archived.` : `${name} is back in the list.`;
    if (!root.contains(document.activeElement)) {
      // Its row went to the list that is hidden: the toggle says where.
      (toggle.hidden ? heading : toggle).focus();
    }
  };

  /** @param {import('../conversations.js').Conversation} conversation */
  const startRename = (conversation) => {
    const id = conversation.id;
    const clientName = messenger.peer(conversation)?.displayName ?? 'your client';
    const inputId = `rename-${id}`;
    const hintId = `rename-hint-${id}`;
    const input = /** @type {HTMLInputElement} */ (h('input', {
      id: inputId, type: 'text', maxlength: LABEL_MAX, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': hintId, dataset: { key: `${id}:rename-input` },
    }));
    input.value = conversation.label;
    const error = h('p', { class: 'form-error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h('form', { class: 'form rename-form', novalidate: true },
      h('div', { class: 'field' },
        h('label', { for: inputId }, `Your name for ${clientName}`),
        input,
        h('p', { class: 'hint', id: hintId },
          `Visible to you only; stored on the server like the client's name. Leave it empty to show "${clientName}".`)),
      h('div', { class: 'rename-actions' }, save, cancel),
      error);
    const close = () => {
      editing = null;
      draw();
      root.querySelector(`[data-key="${id}:rename"]`)?.focus();
    };
    cancel.addEventListener('click', close);
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        close();
      }
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      const label = input.value.trim();
      if (LABEL_FORBIDDEN.test(label) || [...label].length > LABEL_MAX) {
        error.textContent = `Use at most ${LABEL_MAX} characters, without control characters.`;
        input.focus();
        return;
      }
      save.setAttribute('disabled', '');
      let answer;
      try {
        answer = await api.post(`/api/conversations/${encodeURIComponent(id)}/label`, { label });
      } catch (failure) {
        error.textContent = failure instanceof api.ApiError && failure.code === 'bad_request'
          ? `That name cannot be kept: use at most ${LABEL_MAX} characters, without control characters.`
          : 'The name could not be saved. Try again.';
        save.removeAttribute('disabled');
        input.focus();
        return;
      }
      applyInboxEntry(conversation, answer);
      close();
      status.textContent = answer.label ? `Renamed to ${answer.label}.` : `Shown as ${clientName} again.`;
    });
    editing = { id, form };
    status.textContent = '';
    draw();
    input.focus();
    input.select();
  };

  const sections = [];
  // A client's pending assisted recovery, above everything else (views/recoveries.js).
  const recoveries = therapist ? recoveryNotices(messenger) : null;
  if (recoveries) sections.push(recoveries.node);
  const invite = therapist ? invitePanel(messenger.keys) : null;
  if (invite) sections.push(invite.node);
  const inbox = h('section', { class: 'inbox', 'aria-labelledby': 'inbox-list-title' },
    h('div', { class: 'inbox-head' },
      heading,
      therapist ? toggle : null),
    searchField,
    status,
    problem,
    list,
    empty,
    therapist ? archived : null);
  if (invite) {
    // The pending invitations sit above the list and load after it: shown first, the list
    // would move under a click when they appear. It shows once they have loaded (or
    // failed), or after INVITATIONS_WAIT_MS at the latest.
    inbox.hidden = true;
    Promise.race([invite.loaded, new Promise((done) => setTimeout(done, INVITATIONS_WAIT_MS))])
      .then(() => { inbox.hidden = false; });
  }
  sections.push(inbox);
  root.replaceChildren(
    h('section', { class: 'screen', 'aria-labelledby': 'inbox-title' },
      h('h1', { id: 'inbox-title' }, title ?? (therapist ? 'Your clients' : 'Your conversations')),
      therapist ? h('p', { class: 'inbox-tools' }, h('a', { class: 'button secondary', href: '#/availability' }, 'Office hours and away')) : null,
      ...sections),
  );
  draw();
  focusHeading(root);
  // A client accepting an invitation reaches this list by the server's
  // `conversation_added` event (the messenger lists the conversations again); a client's
  // message to an archived conversation brings it back the same way (`conversations`).
  messenger.addEventListener('conversations', draw);
  if (current) window.addEventListener('hashchange', draw);
  return () => {
    messenger.removeEventListener('conversations', draw);
    window.removeEventListener('hashchange', draw);
    recoveries?.cleanup();
  };
}

/**
 * Which control of the lists has the focus (its `data-key`), and where its caret is, so
 * that a redraw can give it back.
 * @param {HTMLElement} root
 */
function focusedKey(root) {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !root.contains(active) || !active.dataset.key) return null;
  const caret = active instanceof HTMLInputElement ? [active.selectionStart, active.selectionEnd] : null;
  return { key: active.dataset.key, caret };
}

/**
 * @param {HTMLElement} root
 * @param {{key: string, caret: (number|null)[]|null}|null} focused
 */
function restoreFocus(root, focused) {
  if (!focused) return;
  const again = root.querySelector(`[data-key="${focused.key}"]`);
  if (!(again instanceof HTMLElement) || again.closest('[hidden]')) return;
  if (document.activeElement !== again) again.focus({ preventScroll: true });
  if (again instanceof HTMLInputElement && focused.caret) {
    const [start, end] = focused.caret;
    again.setSelectionRange(start, end);
  }
}

/** @param {import('../keys.js').Keys} keys */
function invitePanel(keys) {
  const name = h('input', { id: 'invite-client-name', type: 'text', required: true, maxlength: 150, autocomplete: 'off' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const result = h('div', { class: 'invite-result', hidden: true });
  const pending = pendingInvitations(keys, error, result);
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
      showLink(result, clientName, `${location.origin}${keys.invitationPath(answer.token)}`, answer.expires_at);
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
  const node = h('section', { class: 'card invite-panel', 'aria-labelledby': 'invite-panel-title' },
    h('h2', { id: 'invite-panel-title' }, 'Invite a client'),
    h('p', { class: 'hint' }, 'The link works once and expires. Give it to your client yourself, for example by email or in session.'),
    form, error, result, pending.node);
  return { node, loaded: pending.loaded };
}

/**
 * The therapist's invitations still pending (the server lists them without their links),
 * each with a button that gives it a new link to copy (the server keeps only a hash of
 * the first, so it cannot be shown again; that one stops working), and one that revokes
 * it: its link then opens nothing.
 * @param {import('../keys.js').Keys} keys whose identity the links name
 * @param {HTMLElement} problem where a failure is told (the panel's alert)
 * @param {HTMLElement} result where a new link is shown
 */
function pendingInvitations(keys, problem, result) {
  const list = h('ul', { class: 'invitation-list', 'aria-labelledby': 'invitations-title' });
  const node = h('section', { class: 'invitations', hidden: true },
    h('h3', { id: 'invitations-title' }, 'Pending invitations'),
    h('p', { class: 'hint', id: 'invitations-hint' },
      'Copy link again makes a new link, valid for the full period; the link given before stops working at once.'),
    list);

  // Busy while the list loads: when it appears it moves what is below it (the
  // conversations, which the first load keeps hidden until it is done).
  const reload = async () => {
    let answer;
    node.setAttribute('aria-busy', 'true');
    try {
      answer = await api.get('/api/invitations');
    } catch {
      return; // the list stays as it was; creating and revoking still work
    } finally {
      node.removeAttribute('aria-busy');
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
      const again = h('button', {
        type: 'button', class: 'link-button', 'aria-label': `Copy link again for ${item.client_name}`, 'aria-describedby': 'invitations-hint',
      }, 'Copy link again');
      again.addEventListener('click', async () => {
        problem.textContent = '';
        again.setAttribute('disabled', '');
        let answer;
        try {
          answer = await api.post(`/api/invitations/${item.id}/renew`, { extend: true });
        } catch (failure) {
          problem.textContent = failure instanceof api.ApiError && failure.code === 'invitation_invalid'
            ? `The invitation for ${item.client_name} is no longer pending (accepted, revoked or expired): create a new one.`
            : 'A new link could not be made. Try again.';
          again.removeAttribute('disabled');
          reload();
          return;
        }
        showLink(result, item.client_name, `${location.origin}${keys.invitationPath(answer.token)}`, answer.expires_at, { renewed: true });
        reload();
      });
      return h('li', { class: 'invitation-item', dataset: { invitation: String(item.id) } },
        h('div', { class: 'invitation-who' },
          h('span', { class: 'inbox-name' }, item.client_name),
          h('span', { class: 'hint' }, `Valid until ${new Date(item.expires_at).toLocaleString()}`)),
        h('div', { class: 'invitation-actions' }, again, revoke));
    }));
  };
  return { node, reload, loaded: reload() };
}

/**
 * Shows a link once, to copy. A renewed one is copied at once (the person asked to copy
 * it), and says that the earlier link no longer works.
 * @param {HTMLElement} result
 * @param {string} clientName
 * @param {string} link
 * @param {string} expiresAt
 * @param {{renewed?: boolean}} [options]
 */
function showLink(result, clientName, link, expiresAt, { renewed = false } = {}) {
  const field = h('input', { id: 'invite-link', type: 'text', readonly: true, value: link, class: 'link-field' });
  const copied = h('p', { class: 'form-status', role: 'status' });
  const copy = h('button', { type: 'button' }, 'Copy link');
  const copyLink = async () => {
    /** @type {HTMLInputElement} */ (field).select();
    try {
      await navigator.clipboard.writeText(link);
      copied.textContent = 'Copied.';
    } catch {
      copied.textContent = 'Select the link and copy it.';
    }
  };
  copy.addEventListener('click', copyLink);
  const expires = new Date(expiresAt).toLocaleString();
  result.replaceChildren(
    h('label', { for: 'invite-link' }, `${renewed ? 'New invitation link' : 'Invitation link'} for ${clientName}`),
    h('div', { class: 'copy-row' }, field, copy),
    h('p', { class: 'hint' }, renewed
      ? `Shown only now. The link given before no longer works. Valid until ${expires}.`
      : `Shown only now. Valid until ${expires}.`),
    copied,
  );
  result.hidden = false;
  field.focus();
  /** @type {HTMLInputElement} */ (field).select();
  if (renewed) copyLink();
}
