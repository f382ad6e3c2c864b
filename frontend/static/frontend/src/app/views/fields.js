/**
 * What the sign-up, setup and recovery forms share: a labelled input with its hint, and
 * the screen of a link that can no longer be used.
 *
 * @module
 */

import { h, focusHeading } from '../dom.js';

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
