/**
 * What the sign-up, setup and recovery forms share: a labelled input with its hint, a new
 * password with its strength meter and its confirmation, and the screen of a link that can
 * no longer be used.
 *
 * @module
 */

import { h, focusHeading } from '../dom.js';
import { MIN_LENGTH, attachStrengthMeter } from '../strength.js';

/**
 * A required input with its label and, when given, a hint it is described by.
 * @param {string} id
 * @param {string} label
 * @param {Record<string, any>} props
 * @param {string} [hint]
 */
export function field(id, label, props, hint) {
  const input = h('input', {
    id,
    name: id,
    required: true,
    'aria-describedby': hint ? `${id}-hint` : null,
    ...props,
  });
  return {
    input: /** @type {HTMLInputElement} */ (input),
    node: h(
      'div',
      { class: 'field' },
      h('label', { for: id }, label),
      hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
      input,
    ),
  };
}

const PASSWORD_HINT = `At least ${MIN_LENGTH} characters and hard to guess: a few unrelated words work well. It unlocks your keys and never leaves this device.`;

/**
 * A new password and the same typed again: the strength meter under the first, and the
 * check a form makes on submit (`problem()`: the input to focus and what to say, or null).
 * @param {string} prefix the inputs' ids are `<prefix>-password` and `<prefix>-confirm`
 * @param {{label: string, confirmLabel: string, hint?: string, userInputs: () => string[]}} options
 *   `userInputs`: what the person is known by, which the password should not be built from
 */
export function newPasswordFields(prefix, { label, confirmLabel, hint = PASSWORD_HINT, userInputs }) {
  const password = field(`${prefix}-password`, label, { type: 'password', autocomplete: 'new-password', minlength: MIN_LENGTH }, hint);
  const strength = attachStrengthMeter(password.input, { container: password.node, userInputs });
  const confirm = field(`${prefix}-confirm`, confirmLabel, { type: 'password', autocomplete: 'new-password' });
  return {
    nodes: [password.node, confirm.node],
    value: () => password.input.value,
    /** @returns {[HTMLElement, string] | null} */
    problem: () => {
      const weak = strength.refusal();
      if (weak) return [password.input, weak];
      if (password.input.value !== confirm.input.value) return [confirm.input, 'The two passwords are not the same.'];
      return null;
    },
    /** Empty both inputs (once the password is used). */
    clear: () => {
      password.input.value = '';
      confirm.input.value = '';
    },
  };
}

/**
 * The screen of a one-time link that cannot be used: `invalid` (used, expired, revoked,
 * copied incompletely) says whom to ask, otherwise the server could not be reached.
 * @param {HTMLElement} root
 * @param {{id: string, title: string, invalid: boolean, ask: string}} what `title`: the
 *   heading of an invalid link; `ask`: whom to ask for a new one
 */
export function renderUnusableLink(root, { id, title, invalid, ask }) {
  root.replaceChildren(
    h(
      'section',
      { class: 'screen narrow', 'aria-labelledby': id },
      h('h1', { id }, invalid ? title : 'The server could not be reached'),
      h(
        'p',
        { class: 'lead' },
        invalid
          ? `The link is not valid any more: it was already used, it expired or was revoked, or it was copied incompletely. Ask ${ask} for a new one.`
          : 'Check your connection and reload the page.',
      ),
      h('p', {}, h('a', { href: '/' }, 'Go to sign-in')),
    ),
  );
  focusHeading(root);
}
