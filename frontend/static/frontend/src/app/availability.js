/**
 * A therapist's availability as their client reads it, in the client's own time zone
 * (docs/protocol.md, "Availability"): whether the therapist is away and until when, whether
 * their office hours are on, when they begin again, and the coming week's blocks. The
 * server gives instants (`windows`, `away_ends_at`); the days and times here are the
 * browser's own, written with Intl.
 *
 * Pure functions of the server's answer and a moment, so that they can be tested with any
 * clock and any time zone.
 *
 * @module
 */

import { dayKey } from './dom.js';

/**
 * @typedef {{start: string, end: string}} Window
 * @typedef {{starts: string|null, until: string, note: string|null}} Away
 * @typedef {{therapist: number, display_name: string, time_zone: string, reply_time: string,
 *   office_hours: {day: number, start: string, end: string}[], open_now: boolean|null,
 *   windows: Window[], away: Away|null, away_ends_at: string|null, away_upcoming: boolean,
 *   auto_reply: string|null}} TherapistAvailability
 * @typedef {{locale?: string, timeZone?: string}} Where
 * @typedef {{state: 'away'|'upcoming'|'closed'|'open'|'unset', headline: string|null,
 *   note: string|null, urgent: boolean, replyTime: string, hours: string[]}} Shown
 */

/**
 * "Monday 7 December" in `where`'s time zone.
 * @param {Date} date
 * @param {Where} where
 */
export function dayName(date, where = {}) {
  return new Intl.DateTimeFormat(where.locale, { weekday: 'long', day: 'numeric', month: 'long', timeZone: where.timeZone }).format(date);
}

/**
 * "9:00 AM" (or "09:00", as the locale writes times) in `where`'s time zone.
 * @param {Date} date
 * @param {Where} where
 */
export function clock(date, where = {}) {
  return new Intl.DateTimeFormat(where.locale, { hour: 'numeric', minute: '2-digit', timeZone: where.timeZone }).format(date);
}

/**
 * "today", "tomorrow" or "Monday 7 December", as `date` is from `now` in the reader's zone.
 * @param {Date} date
 * @param {Date} now
 * @param {Where} where
 */
function relativeDay(date, now, where) {
  const day = dayKey(date, where);
  if (day === dayKey(now, where)) return 'today';
  if (day === dayKey(new Date(now.getTime() + 86_400_000), where)) return 'tomorrow';
  return dayName(date, where);
}

/**
 * A calendar date the server wrote ("2026-12-07", a day in the practice's zone) as
 * "Monday 7 December", the same day whatever the reader's zone.
 * @param {string} isoDate
 * @param {Where} where
 */
function calendarDay(isoDate, where) {
  return dayName(new Date(`${isoDate}T12:00:00Z`), { locale: where.locale, timeZone: 'UTC' });
}

/**
 * The away status's end: "Monday 7 December" when the therapist is back at the start of
 * that day for the reader too, "Monday 7 December at 3:00 AM" when the practice's midnight
 * is another hour where the reader is.
 * @param {Date} ends
 * @param {Where} where
 */
function backAt(ends, where) {
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: where.timeZone }).format(ends);
  return time === '00:00' ? dayName(ends, where) : `${dayName(ends, where)} at ${clock(ends, where)}`;
}

/**
 * The coming week's blocks, one line a day: "Monday 7 December: 9:00 AM – 12:00 PM,
 * 1:00 PM – 5:00 PM".
 * @param {Window[]} windows
 * @param {Where} where
 */
export function hourLines(windows, where = {}) {
  /** @type {Map<string, string[]>} */
  const days = new Map();
  for (const window of windows) {
    const start = new Date(window.start);
    const end = new Date(window.end);
    const day = dayName(start, where);
    const spans = days.get(day) ?? [];
    spans.push(`${clock(start, where)} – ${clock(end, where)}`);
    days.set(day, spans);
  }
  return [...days].map(([day, spans]) => `${day}: ${spans.join(', ')}`);
}

/**
 * What the client is shown above the composer.
 * @param {TherapistAvailability} availability
 * @param {Date} now
 * @param {Where} [where]
 * @returns {Shown}
 */
export function describe(availability, now, where = {}) {
  const name = availability.display_name;
  const hours = hourLines(availability.windows, where);
  const base = { replyTime: availability.reply_time, hours, note: null };
  // Worked out from the instants, not the server's word at fetch time, so a page left
  // open sees the hours end and an away time pass.
  const openNow = availability.open_now === null
    ? null
    : availability.windows.some((w) => new Date(w.start) <= now && now < new Date(w.end));
  const ended = availability.away_ends_at !== null && now >= new Date(availability.away_ends_at);
  const away = ended ? null : availability.away;
  if (away && !availability.away_upcoming && availability.away_ends_at) {
    return {
      ...base,
      state: 'away',
      headline: `${name} is away until ${backAt(new Date(availability.away_ends_at), where)}; replies may take longer.`,
      note: away.note,
      urgent: true,
    };
  }
  const upcoming = away && availability.away_upcoming && away.starts
    ? `${name} will be away from ${calendarDay(away.starts, where)} until ${calendarDay(away.until, where)}.`
    : null;
  if (openNow === false) {
    const next = availability.windows.map((w) => new Date(w.start)).find((start) => start > now);
    const again = next ? ` Office hours begin again ${relativeDay(next, now, where)} at ${clock(next, where)}.` : '';
    return {
      ...base,
      state: 'closed',
      headline: `${name}'s office hours are over for now; replies may take longer.${again}`,
      note: upcoming,
      urgent: true,
    };
  }
  if (upcoming) return { ...base, state: 'upcoming', headline: upcoming, note: away?.note ?? null, urgent: false };
  return { ...base, state: openNow ? 'open' : 'unset', headline: null, urgent: false };
}
