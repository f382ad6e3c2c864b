/**
 * What the admin console's parts share: dates as people read them, failures as
 * sentences, and a link shown once with a Copy button.
 *
 * @module
 */

import * as api from '../api.js';
import { h } from '../dom.js';

/** @param {string|null} iso */
export function when(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
}

/**
 * A failure as a sentence: the server's own message for the codes that say what to do.
 * @param {unknown} problem
 * @param {string} fallback
 */
export function explain(problem, fallback) {
  if (problem instanceof api.ApiError) {
    if (problem.code === 'network') return 'The server could not be reached. Check your connection and try again.';
    if (['bad_request', 'email_taken', 'forbidden', 'agreement_changed'].includes(problem.code)) return problem.message;
  }
  return fallback;
}

/**
 * A link shown once, with a Copy button.
 * @param {HTMLElement} result
 * @param {string} label
 * @param {string} link
 * @param {string} expiresAt
 */
export function showOnce(result, label, link, expiresAt) {
  const field = h('input', { id: 'setup-link', type: 'text', readonly: true, value: link, class: 'link-field' });
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
  result.replaceChildren(
    h('label', { for: 'setup-link' }, label),
    h('div', { class: 'copy-row' }, field, copy),
    h('p', { class: 'hint' }, `Shown only now. Valid until ${when(expiresAt)}. Send it to them privately: whoever opens it first makes the account.`),
    copied,
  );
  result.hidden = false;
  field.focus();
  /** @type {HTMLInputElement} */ (field).select();
}

/**
 * Label every body cell of the tables in `root` with its column's heading
 * (`data-label`), which a phone shows before the cell when a table is laid out as cards.
 * @param {ParentNode} root
 */
export function labelCells(root) {
  const tables = root instanceof HTMLTableElement ? [root] : [...root.querySelectorAll('table')];
  for (const table of tables) {
    const headings = [...table.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
    for (const row of table.querySelectorAll('tbody tr')) {
      [...row.children].forEach((cell, index) => {
        if (headings[index]) cell.setAttribute('data-label', headings[index]);
      });
    }
  }
}

/**
 * Put `rows` in a table's body, labelled (`labelCells`).
 * @param {HTMLElement} tbody
 * @param {HTMLElement[]} rows
 */
export function fillRows(tbody, rows) {
  tbody.replaceChildren(...rows);
  if (tbody.parentElement) labelCells(tbody.parentElement);
}
