/**
 * Search in the open conversation, over its decrypted history in this page only: the
 * server keeps no index and is asked nothing but the earlier pages of ciphertext it already
 * serves (`history`), which this page opens as it does when scrolling back. Matches are
 * marked in the list, one at a time is current (from the newest; Enter: the one before,
 * Shift+Enter: the one after, Escape: close), and a status line says "2 of 5 matches". "Search earlier messages too"
 * loads the rest of the history first, page by page, up to `MAX_PAGES`.
 *
 * @module
 */

import { fold, h } from '../dom.js';

// Enough for years of a weekly conversation (100 messages a page); a longer history is
// searched as far back as this, and the status line says so.
const MAX_PAGES = 100;

/**
 * @param {{list: HTMLElement, name: string, complete: () => boolean,
 *          loadOlder: () => Promise<boolean>}} options
 * @returns {{toggle: HTMLElement, bar: HTMLElement, refresh: () => void}}
 */
export function conversationSearch({ list, name, complete, loadOlder }) {
  const input = /** @type {HTMLInputElement} */ (h('input', {
    id: 'conversation-search', type: 'search', autocomplete: 'off', spellcheck: 'false',
  }));
  const status = h('p', { class: 'search-status', role: 'status' });
  const previous = h('button', { type: 'button', 'aria-label': 'Previous match' }, '↑');
  const next = h('button', { type: 'button', 'aria-label': 'Next match' }, '↓');
  const earlier = h('button', { type: 'button', class: 'link-button', hidden: true }, 'Search earlier messages too');
  const close = h('button', { type: 'button', class: 'link-button' }, 'Close');
  const bar = h('div', { class: 'conversation-search', role: 'search', hidden: true },
    h('label', { for: 'conversation-search' }, `Search your conversation with ${name}`),
    h('div', { class: 'search-row' }, input, previous, next, close),
    status,
    earlier);
  const toggle = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': 'conversation-search' }, 'Search');
  /** @type {HTMLElement[]} */
  let found = [];
  let current = -1;
  let loading = false;

  const clearMarks = () => {
    for (const li of list.querySelectorAll('.match')) li.classList.remove('match', 'match-current');
  };

  /** @param {boolean} [move] whether to move to (and show) the current match */
  const apply = (move = false) => {
    clearMarks();
    const query = fold(input.value.trim());
    if (bar.hidden || !query) {
      found = [];
      current = -1;
      status.textContent = '';
      earlier.hidden = true;
      return;
    }
    const before = found[current];
    found = [...list.querySelectorAll('.message')].filter((li) => {
      const text = li.querySelector('.message-text')?.textContent ?? '';
      return !li.classList.contains('unopened') && fold(text).includes(query);
    }).map((li) => /** @type {HTMLElement} */ (li));
    for (const li of found) li.classList.add('match');
    // Keep the current match across redraws; start from the newest.
    current = before && found.includes(before) ? found.indexOf(before) : found.length - 1;
    const shown = found[current];
    if (shown) {
      shown.classList.add('match-current');
      if (move) shown.scrollIntoView({ block: 'center' });
    }
    const whole = complete();
    status.textContent = found.length
      ? `${current + 1} of ${found.length} ${found.length === 1 ? 'match' : 'matches'}${whole ? '' : ' in the messages loaded'}`
      : `No match${whole ? '' : ' in the messages loaded'}`;
    earlier.hidden = whole || loading;
  };

  /** @param {number} step */
  const go = (step) => {
    if (!found.length) return;
    current = (current + step + found.length) % found.length;
    for (const li of found) li.classList.remove('match-current');
    const shown = found[current];
    shown.classList.add('match-current');
    shown.scrollIntoView({ block: 'center' });
    status.textContent = `${current + 1} of ${found.length} ${found.length === 1 ? 'match' : 'matches'}${complete() ? '' : ' in the messages loaded'}`;
  };

  const open = (/** @type {boolean} */ shown) => {
    bar.hidden = !shown;
    toggle.setAttribute('aria-expanded', String(shown));
    if (shown) input.focus();
    else {
      input.value = '';
      apply();
      toggle.focus();
    }
  };

  toggle.addEventListener('click', () => open(bar.hidden));
  close.addEventListener('click', () => open(false));
  input.addEventListener('input', () => apply(true));
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      go(event.shiftKey ? 1 : -1);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      open(false);
    }
  });
  previous.addEventListener('click', () => go(-1));
  next.addEventListener('click', () => go(1));
  earlier.addEventListener('click', async () => {
    loading = true;
    earlier.hidden = true;
    let pages = 0;
    try {
      while (!complete() && pages < MAX_PAGES && document.contains(bar)) {
        status.textContent = 'Loading earlier messages…';
        await loadOlder();
        pages += 1;
      }
    } catch {
      // Searched as far as it loaded; the status line says "in the messages loaded".
    } finally {
      loading = false;
      if (document.contains(bar)) {
        apply(true);
        input.focus();
      }
    }
  });

  return { toggle, bar, refresh: () => apply(false) };
}
