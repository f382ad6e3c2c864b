/**
 * A therapist's availability (`#/availability`; `GET`/`POST /api/me/availability`): office
 * hours for each weekday in the practice's time zone, the reply time they promise, an away
 * status with a return date and a note, and the automatic reply their clients see while they
 * are away. Saved whole; a schedule the server refuses (an overlap, a block that ends before
 * it starts) keeps everything as typed, with the server's words. Below the form, what a
 * client sees now, as they would read it.
 *
 * @module
 */

import * as api from '../api.js';
import { describe } from '../availability.js';
import { h, focusHeading, replace } from '../dom.js';

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MAX_BLOCKS_A_DAY = 3;

/**
 * @param {HTMLElement} root
 * @param {{me: any}} ctx
 * @returns {() => void} cleanup
 */
export function renderAvailability(root, { me }) {
  const status = h('p', { class: 'form-status', role: 'status' });
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const preview = h('div', { class: 'availability-preview' });
  const form = h('form', { class: 'availability-form', novalidate: true });
  const zone = me.practice?.time_zone ?? 'UTC';
  root.replaceChildren(
    h('section', { class: 'screen availability-screen', 'aria-labelledby': 'availability-title' },
      h('p', {}, h('a', { class: 'back', href: '#/' }, '← All conversations')),
      h('h1', { id: 'availability-title' }, 'Availability'),
      h('p', { class: 'hint' }, `Your clients see this above the message box, in their own time zone. Hours are in the practice's time zone, ${zone}.`),
      h('p', { role: 'status' }, 'Loading…')),
  );
  focusHeading(root);
  let gone = false;

  /** @type {Map<number, HTMLElement>} one list of blocks a weekday */
  const dayLists = new Map();

  /**
   * @param {number} day
   * @param {{start: string, end: string}} [block]
   */
  const addBlock = (day, block = { start: '09:00', end: '17:00' }) => {
    const list = /** @type {HTMLElement} */ (dayLists.get(day));
    const n = list.children.length + 1;
    const start = h('input', { type: 'time', value: block.start, required: true, 'aria-label': `${DAYS[day]}, hours ${n}, from`, dataset: { part: 'start' } });
    const end = h('input', { type: 'time', value: block.end === '24:00' ? '00:00' : block.end, required: true, 'aria-label': `${DAYS[day]}, hours ${n}, until (00:00 is midnight)`, dataset: { part: 'end' } });
    const remove = h('button', { type: 'button', class: 'link-button', 'aria-label': `Remove ${DAYS[day]}'s hours ${n}` }, 'Remove');
    const item = h('li', { class: 'block' }, start, ' – ', end, ' ', remove);
    remove.addEventListener('click', () => {
      item.remove();
      drawAddButtons();
    });
    list.append(item);
    drawAddButtons();
    return start;
  };

  /** @type {Map<number, HTMLElement>} */
  const addButtons = new Map();
  const drawAddButtons = () => {
    for (const [day, button] of addButtons) {
      const count = /** @type {HTMLElement} */ (dayLists.get(day)).children.length;
      button.hidden = count >= MAX_BLOCKS_A_DAY;
      button.textContent = count ? 'Add more hours' : 'Add hours';
    }
  };

  /** The office hours as typed, in the server's shape; "00:00" as an end is midnight. */
  const officeHours = () => [...dayLists].flatMap(([day, list]) => [...list.children].map((item) => {
    const value = (/** @type {string} */ part) => /** @type {HTMLInputElement} */ (item.querySelector(`[data-part="${part}"]`)).value;
    const end = value('end');
    return { day, start: value('start'), end: end === '00:00' ? '24:00' : end };
  }));

  /**
   * @param {any} settings
   * @param {any} shown
   */
  const draw = (settings, shown) => {
    const week = h('div', { class: 'week' });
    for (const [day, name] of DAYS.entries()) {
      const list = h('ul', { class: 'blocks', 'aria-label': `${name}'s hours` });
      dayLists.set(day, list);
      const add = h('button', { type: 'button', class: 'link-button add-block' }, 'Add hours');
      add.addEventListener('click', () => addBlock(day).focus());
      addButtons.set(day, add);
      week.append(h('fieldset', { class: 'day' }, h('legend', {}, name), list, add));
    }
    for (const block of settings.office_hours) addBlock(block.day, block);
    drawAddButtons();

    const replyTime = /** @type {HTMLInputElement} */ (h('input', {
      id: 'reply-time', type: 'text', maxlength: '300', value: settings.reply_time ?? '',
      placeholder: me.practice?.reply_promise ?? '', 'aria-describedby': 'reply-time-hint',
    }));
    const away = settings.away;
    const isAway = /** @type {HTMLInputElement} */ (h('input', { id: 'away', type: 'checkbox', checked: Boolean(away) }));
    const starts = /** @type {HTMLInputElement} */ (h('input', { id: 'away-starts', type: 'date', value: away?.starts ?? '', 'aria-describedby': 'away-starts-hint' }));
    const until = /** @type {HTMLInputElement} */ (h('input', { id: 'away-until', type: 'date', value: away?.until ?? '', required: true }));
    const note = /** @type {HTMLInputElement} */ (h('input', { id: 'away-note', type: 'text', maxlength: '300', value: away?.note ?? '' }));
    const awayFields = h('div', { class: 'away-fields', hidden: !away },
      h('p', {}, h('label', { for: 'away-starts' }, 'From (optional)'), starts,
        h('span', { class: 'hint', id: 'away-starts-hint' }, ' Empty: from now.')),
      h('p', {}, h('label', { for: 'away-until' }, 'Back on'), until),
      h('p', {}, h('label', { for: 'away-note' }, 'Note for your clients (optional)'), note));
    isAway.addEventListener('change', () => {
      awayFields.hidden = !isAway.checked;
      if (isAway.checked) until.focus();
    });
    const autoReply = /** @type {HTMLInputElement} */ (h('input', {
      id: 'auto-reply', type: 'text', maxlength: '300', value: settings.auto_reply ?? '', 'aria-describedby': 'auto-reply-hint',
    }));
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save');

    form.replaceChildren(
      h('fieldset', { class: 'office-hours' }, h('legend', {}, 'Office hours'),
        h('p', { class: 'hint' }, `In ${zone}. Outside them, your clients are told replies may take longer and see the crisis lines before they write. Leave every day empty to show no hours.`),
        week),
      h('p', {}, h('label', { for: 'reply-time' }, 'Reply time'), replyTime,
        h('span', { class: 'hint', id: 'reply-time-hint' }, " Under your clients' message box. Empty: the practice's.")),
      h('fieldset', { class: 'away-status' }, h('legend', {}, 'Away'),
        h('p', {}, isAway, ' ', h('label', { for: 'away' }, 'I am away, or will be')),
        awayFields,
        h('p', {}, h('label', { for: 'auto-reply' }, 'Automatic reply while away (optional)'), autoReply,
          h('span', { class: 'hint', id: 'auto-reply-hint' }, ' Shown to a client after they write while you are away. It is not sent as a message.'))),
      problem,
      h('p', {}, save),
      status);

    /** @param {any} current */
    const drawPreview = (current) => {
      const seen = describe(current, new Date());
      replace(preview,
        h('h2', {}, 'What your clients see now'),
        h('p', {}, seen.headline ?? 'Nothing above the message box: you are in office hours, or have set none.'),
        seen.note ? h('p', {}, seen.note) : null,
        h('p', { class: 'hint' }, `${seen.replyTime} Not for emergencies.`));
    };
    drawPreview(shown);

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      problem.textContent = '';
      status.textContent = '';
      if (isAway.checked && !until.value) {
        problem.textContent = 'Choose the day you are back, or untick "I am away".';
        until.focus();
        return;
      }
      const body = {
        office_hours: officeHours(),
        reply_time: replyTime.value.trim() || null,
        away: isAway.checked ? { starts: starts.value || null, until: until.value, note: note.value.trim() || null } : null,
        auto_reply: autoReply.value.trim() || null,
      };
      if (body.office_hours.some((block) => !block.start || !block.end)) {
        problem.textContent = 'Each block of hours needs a start and an end time.';
        return;
      }
      save.setAttribute('disabled', '');
      try {
        const answer = await api.post('/api/me/availability', body);
        if (gone) return;
        status.textContent = 'Saved. Your clients see it from now on.';
        drawPreview(answer.shown);
      } catch (error) {
        problem.textContent = error instanceof api.ApiError ? error.message : 'It could not be saved. Try again.';
      } finally {
        save.removeAttribute('disabled');
      }
    });
  };

  api.get('/api/me/availability').then((answer) => {
    if (gone) return;
    const screen = /** @type {HTMLElement} */ (root.querySelector('.availability-screen'));
    screen.lastElementChild?.remove();
    draw(answer.availability, answer.shown);
    screen.append(form, preview);
  }).catch(() => {
    if (gone) return;
    const screen = /** @type {HTMLElement} */ (root.querySelector('.availability-screen'));
    screen.lastElementChild?.replaceWith(h('p', { class: 'form-error', role: 'alert' }, 'Your availability could not be loaded. Try again later.'));
  });

  return () => {
    gone = true;
  };
}
