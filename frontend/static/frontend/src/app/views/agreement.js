/**
 * The messaging agreement a client accepts before the first message, as the server sent
 * it, and again when the practice published a new version.
 *
 * @module
 */

import * as api from '../api.js';
import { recordAcceptance } from '../agreement.js';
import { h, focusHeading } from '../dom.js';

/**
 * @param {HTMLElement} root
 * @param {{me: any, current: import('../agreement.js').CurrentAgreement,
 *          therapistName: string|null, renewed: boolean, onAccepted: () => void,
 *          onOutdated: () => void}} options `renewed`: the person accepted an earlier
 *          version; `onOutdated`: the version shown is no longer the current one
 */
export function renderAgreement(root, { me, current, therapistName, renewed, onAccepted, onOutdated }) {
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
      await recordAcceptance(api.post, current, me);
    } catch (problem) {
      if (problem instanceof api.ApiError && problem.code === 'agreement_required') {
        onOutdated();
        return;
      }
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
        renewed
          ? 'Your practice updated its messaging agreement. Please read it again: your messages are sent once you accept it.'
          : therapistName
            ? `Before you message ${therapistName}, please read how messaging works.`
            : 'Before you send a message, please read how messaging works.',
      ),
      h(
        'div',
        { class: 'card agreement' },
        ...current.agreement.sections.map(({ heading, paragraphs }) =>
          h('section', {}, h('h2', {}, heading), ...paragraphs.map((text) => h('p', {}, text))),
        ),
      ),
      form,
    ),
  );
  focusHeading(root);
}
