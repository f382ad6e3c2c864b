/**
 * A tiny element builder. Text always goes in as text nodes (or textContent): nothing in
 * the application ever parses a string as HTML, so a message can never become markup.
 *
 * @module
 */

/**
 * Make an element. `props`: `class`, `text` (textContent), `on<event>` handlers,
 * `dataset`, booleans (present or absent attributes) and other attributes.
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node|string|null|undefined|false|(Node|string|null|undefined|false)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'text') element.textContent = String(value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/**
 * Replace the children of `parent`.
 * @param {Element} parent
 * @param {...(Node|string|null|undefined|false)} children
 */
export function replace(parent, ...children) {
  parent.replaceChildren(
    ...children.filter((c) => c !== null && c !== undefined && c !== false).map((c) => /** @type {Node|string} */ (c)),
  );
}

/**
 * A short, human time: "14:05" today, "Mon 14:05" this week, else a date.
 * @param {string|null} iso
 * @param {Date} [now]
 */
export function shortTime(iso, now = new Date()) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (date.toDateString() === now.toDateString()) return time;
  const days = (now.getTime() - date.getTime()) / 86_400_000;
  if (days < 6) return `${date.toLocaleDateString(undefined, { weekday: 'short' })} ${time}`;
  return date.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/**
 * The day a conversation's messages are grouped under, as the reader's locale writes it:
 * "Today", "Yesterday", "Monday, December 7", with the year when it is not this year's.
 * @param {string|null} iso
 * @param {Date} [now]
 * @param {{locale?: string, timeZone?: string}} [where]
 */
export function dayLabel(iso, now = new Date(), where = {}) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const key = (/** @type {Date} */ d) => dayKey(d, where);
  if (key(date) === key(now)) return 'Today';
  if (key(date) === key(new Date(now.getTime() - 86_400_000))) return 'Yesterday';
  const year = new Intl.DateTimeFormat('en', { year: 'numeric', timeZone: where.timeZone });
  const sameYear = year.format(date) === year.format(now);
  return new Intl.DateTimeFormat(where.locale, {
    weekday: 'long', day: 'numeric', month: 'long', year: sameYear ? undefined : 'numeric', timeZone: where.timeZone,
  }).format(date);
}

/**
 * One formatter per time zone for `dayKey` (the reader's own under ''): making one costs
 * a hundred times what using it does, and a long conversation asks for thousands of days.
 * @type {Map<string, Intl.DateTimeFormat>}
 */
const DAY_KEYS = new Map();

/**
 * The reader's calendar day of `date`, "YYYY-MM-DD", to tell two days apart.
 * @param {Date} date
 * @param {{timeZone?: string}} [where]
 */
export function dayKey(date, where = {}) {
  const zone = where.timeZone ?? '';
  let format = DAY_KEYS.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: where.timeZone });
    DAY_KEYS.set(zone, format);
  }
  return format.format(date);
}

/**
 * Text as a search compares it: lower case, without accents ("Zoë" finds "zoe").
 * @param {string} text
 */
export function fold(text) {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
}

/**
 * Move focus to the screen's heading so keyboard and screen-reader users land on it.
 * @param {ParentNode} root
 */
export function focusHeading(root) {
  const heading = root.querySelector('h1');
  if (heading instanceof HTMLElement) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}
