/**
 * Above a client's composer: their therapist's availability, read before writing, in the
 * client's own time zone (`GET /api/conversations/<id>/availability`; availability.js).
 * Away, or outside office hours, it says replies may take longer and shows the practice's
 * crisis lines before anything is sent; it always gives the reply time under the composer
 * and the coming week's office hours behind a disclosure. While the therapist is away, the
 * automatic reply they wrote is shown once the client has sent a message: it is their
 * therapist's standing words, not a message, and nothing is sent for it.
 *
 * @module
 */

import * as api from '../api.js';
import { describe } from '../availability.js';
import { h } from '../dom.js';

// The open/closed state is worked out again this often from the week the server gave.
const REDRAW_MS = 60_000;
const REFETCH_MS = 15 * 60_000;

/**
 * @param {{conversationId: string, crisisLines: {label: string, number: string}[],
 *          hint: HTMLElement|null}} options
 * @returns {{element: HTMLElement, autoReply: HTMLElement, sent: () => void, stop: () => void}}
 */
export function availabilityBanner({ conversationId, crisisLines, hint }) {
  const element = h('section', { class: 'availability', 'aria-label': 'Availability', hidden: true });
  const autoReply = h('p', { class: 'notice auto-reply', role: 'status', hidden: true });
  /** @type {import('../availability.js').TherapistAvailability|null} */
  let known = null;
  let sentWhileAway = false;
  /** @type {number|undefined} */
  let timer;
  let stopped = false;

  const crisis = () => h('p', { class: 'availability-crisis' },
    'If you need help now, do not wait for a reply: ',
    ...crisisLines.flatMap((line, index) => [
      index ? '; ' : '',
      `${line.label}: `,
      h('a', { href: `tel:${line.number.replace(/[^0-9+]/g, '')}` }, line.number),
    ]),
    '.');

  const draw = () => {
    if (!known) return;
    const shown = describe(known, new Date());
    if (hint) hint.textContent = `${shown.replyTime} Not for emergencies.`;
    const parts = [];
    if (shown.headline) parts.push(h('p', { class: 'availability-headline' }, shown.headline));
    if (shown.note) parts.push(h('p', { class: 'availability-note' }, shown.note));
    if (shown.urgent && crisisLines.length) parts.push(crisis());
    if (shown.hours.length) {
      parts.push(h('details', { class: 'availability-hours' },
        h('summary', {}, 'Office hours, in your time'),
        h('ul', {}, ...shown.hours.map((line) => h('li', {}, line)))));
    }
    element.replaceChildren(...parts);
    element.hidden = parts.length === 0;
    element.classList.toggle('urgent', shown.urgent);
    const reply = shown.state === 'away' ? known.auto_reply : null;
    autoReply.hidden = !(sentWhileAway && reply);
    if (reply) autoReply.textContent = `Automatic reply from ${known.display_name}: ${reply}`;
  };

  let fetched = 0;
  const fetchAgain = () => {
    fetched = Date.now();
    api.get(`/api/conversations/${conversationId}/availability`).then((answer) => {
      if (stopped || !answer?.availability) return;
      known = answer.availability;
      draw();
    }).catch(() => {
      // Without it the page shows what it had, or the practice's promise: nothing is lost.
    });
  };
  // Drawn again every minute from the week the server gave; asked again every quarter of
  // an hour and when the tab comes back, for a change of the therapist's own.
  const tick = () => {
    if (Date.now() - fetched >= REFETCH_MS) fetchAgain();
    else draw();
  };
  const onVisible = () => {
    if (document.visibilityState === 'visible') fetchAgain();
  };
  fetchAgain();
  timer = window.setInterval(tick, REDRAW_MS);
  document.addEventListener('visibilitychange', onVisible);

  return {
    element,
    autoReply,
    sent: () => {
      sentWhileAway = true;
      draw();
    },
    stop: () => {
      stopped = true;
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    },
  };
}
