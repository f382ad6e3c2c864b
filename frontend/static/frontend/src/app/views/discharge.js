/**
 * Discharge and erasure in a conversation's view (docs/protocol.md, "Discharge and
 * erasure"): the therapist's *Discharge* action with its confirmation dialog, and, for
 * both members, the notice of a conversation that is read-only (discharged: still read
 * and exported, nothing more sent) or erased (nothing of it remains). While the
 * conversation is not active the composer is hidden; while it is being erased or erased,
 * the history is too, so that no part of it is shown without saying why.
 *
 * The dialog is a native `<dialog>` opened modally: focus moves into it and stays there,
 * Escape cancels, and focus returns to the action when it closes.
 *
 * @module
 */

import { h } from '../dom.js';

/** @param {string|null} iso */
function day(iso) {
  const date = iso ? new Date(iso) : null;
  return date && !Number.isNaN(date.getTime())
    ? date.toLocaleDateString(undefined, { year: 'numeric', month: 'long', day: 'numeric' })
    : null;
}

/**
 * What the conversation says about its status, or null while it is active.
 * @param {{status: string, dischargedAt: string|null, erasedAt: string|null}} conversation
 * @param {boolean} isClient
 * @param {string} peer the other member's name
 * @returns {string|null}
 */
export function statusText(conversation, isClient, peer) {
  switch (conversation.status) {
    case 'active':
      return null;
    case 'discharged': {
      const when = day(conversation.dischargedAt);
      const on = when ? ` on ${when}` : '';
      const who = isClient ? `${peer} discharged this conversation${on}` : `You discharged this conversation${on}`;
      return `${who}. It is read-only: you can still read and export it, but no more messages can be sent.`;
    }
    case 'erasing':
      return 'This conversation is being erased. Its messages are no longer shown.';
    case 'erased': {
      const when = day(conversation.erasedAt);
      return `This conversation was erased${when ? ` on ${when}` : ''}. None of its messages remain.`;
    }
    default:
      return 'This conversation is read-only.';
  }
}

/**
 * @param {{messenger: import('../messenger.js').Messenger, me: any, conversationId: string,
 *          peerName: string, announce: (text: string) => void,
 *          composer: (HTMLElement|null|undefined)[], history: (HTMLElement|null|undefined)[]}} options
 *   `composer`: what is hidden while the conversation is not active; `history`: what is
 *   hidden while it is being erased or erased (the messages, and the actions that read
 *   them: export, the accounting of disclosures)
 * @returns {{action: HTMLElement|null, dialog: HTMLElement|null, notice: HTMLElement,
 *            stop: () => void}}
 */
export function dischargeControls({ messenger, me, conversationId, peerName, announce, composer, history }) {
  const isClient = me.role === 'client';
  const notice = h('p', { class: 'notice read-only-notice', id: 'read-only-notice', tabindex: '-1', hidden: true });
  let dialog = null;
  let action = null;

  const current = () => messenger.conversations.get(conversationId);

  const update = () => {
    const conversation = current();
    if (!conversation) return;
    const text = statusText(conversation, isClient, peerName);
    notice.hidden = text === null;
    if (text !== null && notice.textContent !== text) notice.textContent = text;
    const active = conversation.status === 'active';
    // A class of its own, not `hidden`: each element keeps its own shown or hidden state
    // (the automatic reply until a message is sent, the availability banner until fetched).
    for (const element of composer) element?.classList.toggle('closed-away', !active);
    const gone = conversation.status === 'erasing' || conversation.status === 'erased';
    for (const element of history) element?.classList.toggle('closed-away', gone);
    if (action) action.hidden = !active;
  };

  if (me.role === 'therapist') {
    const confirmButton = h('button', { type: 'button', class: 'danger' }, 'Discharge');
    const cancelButton = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const error = h('p', { class: 'form-error', role: 'alert' });
    const modal = /** @type {HTMLDialogElement} */ (h('dialog', {
      class: 'dialog discharge-dialog',
      'aria-labelledby': 'discharge-title',
      'aria-describedby': 'discharge-explained',
    },
    h('h2', { id: 'discharge-title' }, `Discharge ${peerName}?`),
    h('div', { id: 'discharge-explained' },
      h('p', {}, `The conversation becomes read-only for you and ${peerName}: neither of you can send anything more, and this cannot be undone.`),
      h('p', {}, `You both keep reading it, and can export it, for the practice's retention period. After that it is erased.`)),
    error,
    h('p', { class: 'dialog-actions' }, cancelButton, confirmButton)));
    const open = h('button', { type: 'button', class: 'secondary discharge-action', 'aria-haspopup': 'dialog' }, 'Discharge');
    open.addEventListener('click', () => {
      error.textContent = '';
      confirmButton.removeAttribute('disabled');
      modal.showModal();
      cancelButton.focus();
    });
    cancelButton.addEventListener('click', () => modal.close());
    modal.addEventListener('close', () => {
      if (!open.hidden) open.focus();
    });
    confirmButton.addEventListener('click', async () => {
      confirmButton.setAttribute('disabled', '');
      error.textContent = '';
      try {
        await messenger.discharge(conversationId);
      } catch (failure) {
        const code = /** @type {any} */ (failure)?.code;
        if (code !== 'conversation_closed') {
          error.textContent = code === 'network'
            ? 'The portal could not be reached. Nothing changed; try again.'
            : 'The conversation could not be discharged. Nothing changed; try again.';
          confirmButton.removeAttribute('disabled');
          return;
        }
        // Discharged meanwhile (another tab): the listing says so.
      }
      modal.close();
      update();
      announce(`The conversation with ${peerName} is discharged. It is read-only now.`);
      notice.focus();
    });
    dialog = modal;
    action = open;
  }

  const onStatus = (/** @type {Event} */ event) => {
    const detail = /** @type {CustomEvent} */ (event).detail;
    if (detail.conversation !== conversationId) return;
    const before = notice.textContent;
    update();
    if (!notice.hidden && notice.textContent !== before) announce(notice.textContent ?? '');
  };
  const onList = () => update();
  messenger.addEventListener('conversation-status', onStatus);
  messenger.addEventListener('conversations', onList);
  update();

  return {
    action,
    dialog,
    notice,
    stop: () => {
      messenger.removeEventListener('conversation-status', onStatus);
      messenger.removeEventListener('conversations', onList);
      if (dialog && /** @type {HTMLDialogElement} */ (dialog).open) /** @type {HTMLDialogElement} */ (dialog).close();
    },
  };
}
