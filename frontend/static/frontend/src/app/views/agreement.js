/**
 * The messaging agreement a client accepts before the first message.
 *
 * @module
 */

import * as api from '../api.js';
import { AGREEMENT, recordAcceptance } from '../agreement.js';
import { h, focusHeading } from '../dom.js';

/**
 * @param {HTMLElement} root
 * @param {{me: any, therapistName: string|null, onAccepted: () => void}} options
 */
export function renderAgreement(root, { me, therapistName, onAccepted }) {
  const box = h('input', { type: 'checkbox', id: 'agreement-accept', required: true });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Continue');
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    h(
      'div',
      { class: 'check' },
      box,
      h(
        'label',
        { for: 'agreement-accept' },
        'I have read the messaging agreement, including the limits of confidentiality, and I accept it.',
      ),
    ),
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!/** @type {HTMLInputElement} */ (box).checked) {
      error.textContent = 'Please read the agreement and tick the box to continue.';
      box.focus();
      return;
    }
    submit.setAttribute('disabled', '');
    try {
      await recordAcceptance(api.post, me);
    } catch {
      error.textContent = 'Your acceptance could not be recorded. Check your connection and try again.';
      submit.removeAttribute('disabled');
      submit.focus();
      return;
    }
    onAccepted();
  });
  root.replaceChildren(
    h(
      'section',
      { class: 'screen narrow', 'aria-labelledby': 'agreement-title' },
      h('h1', { id: 'agreement-title' }, 'Messaging agreement'),
      h(
        'p',
        { class: 'lead' },
        therapistName
          ? `Before you message ${therapistName}, please read how messaging works.`
          : 'Before you send a message, please read how messaging works.',
      ),
      h(
        'div',
        { class: 'card agreement' },
        ...AGREEMENT.map(([title, paragraphs]) =>
          h('section', {}, h('h2', {}, title), ...paragraphs.map((text) => h('p', {}, text))),
        ),
      ),
      form,
    ),
  );
  focusHeading(root);
}
