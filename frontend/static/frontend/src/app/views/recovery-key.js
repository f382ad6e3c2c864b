/**
 * The recovery key of a new account, shown once, and a check that it was written down
 * (every sign-up: a client's invitation, a staff member's setup link).
 *
 * @module
 */

import { h, focusHeading } from '../dom.js';

/**
 * The recovery key, once, and a check that it was written down.
 * @param {HTMLElement} root
 * @param {string} display
 * @param {() => void} onConfirmed
 */
export function renderRecovery(root, display, onConfirmed) {
  const groups = display.split('-');
  const last = groups[groups.length - 1];
  const input = h('input', { id: 'recovery-confirm', type: 'text', autocomplete: 'off', spellcheck: 'false', inputmode: 'text', maxlength: 8, required: true, 'aria-describedby': 'recovery-confirm-hint' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const keyBox = h('p', { class: 'recovery-key', 'aria-label': 'Recovery key' }, ...groups.map((group) => h('span', {}, group)));
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: 'recovery-confirm' }, 'Type the last group of your recovery key'),
      h('p', { class: 'hint', id: 'recovery-confirm-hint' }, 'Four letters or digits, to check that you have it.'),
      input),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'I have saved it — continue'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = /** @type {HTMLInputElement} */ (input).value.replace(/[\s-]/g, '').toUpperCase();
    if (typed !== last) {
      error.textContent = 'That is not the last group. Check what you wrote down.';
      input.focus();
      return;
    }
    // The key is not kept anywhere: remove it from the page before going on.
    keyBox.replaceChildren();
    onConfirmed();
  });
  root.replaceChildren(
    h(
      'section',
      { class: 'screen narrow', 'aria-labelledby': 'recovery-title' },
      h('h1', { id: 'recovery-title' }, 'Your recovery key'),
      h('p', { class: 'lead' }, 'If you forget your password, this key restores your messages. It is shown only now: write it down or save it somewhere safe, away from this device.'),
      h('div', { class: 'card' }, keyBox),
      form,
    ),
  );
  focusHeading(root);
}
