// A client reads their therapist's availability in their own time zone: away until a day,
// with the hour when the practice's midnight is another hour where they are; office hours
// over, and when they begin again; the coming week's blocks; nothing prominent while the
// hours are on.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appModule } from './_app_support.mjs';

const { describe, hourLines } = await appModule('availability.js');

const LA = { locale: 'en-US', timeZone: 'America/Los_Angeles' };
const NY = { locale: 'en-US', timeZone: 'America/New_York' };
const BERLIN = { locale: 'en-GB', timeZone: 'Europe/Berlin' };

/** Dana's hours in Los Angeles, Monday to Friday 9:00–17:00, the week of 7 December 2026. */
function dana(changes = {}) {
  const windows = [];
  for (let day = 7; day <= 11; day += 1) {
    windows.push({ start: `2026-12-${String(day).padStart(2, '0')}T17:00:00+00:00`, end: `2026-12-${String(day + 1).padStart(2, '0')}T01:00:00+00:00` });
  }
  return {
    therapist: 7,
    display_name: 'Dana',
    time_zone: 'America/Los_Angeles',
    reply_time: 'Usually within one business day.',
    office_hours: [0, 1, 2, 3, 4].map((day) => ({ day, start: '09:00', end: '17:00' })),
    open_now: false,
    windows,
    away: null,
    away_ends_at: null,
    away_upcoming: false,
    auto_reply: null,
    ...changes,
  };
}

// Saturday 5 December 2026, 10:00 in Los Angeles.
const SATURDAY = new Date('2026-12-05T18:00:00Z');

test('away until a day reads as that day where the practice is', () => {
  const away = dana({
    away: { starts: null, until: '2026-12-07', note: 'At a conference.' },
    away_ends_at: '2026-12-07T08:00:00+00:00',
    auto_reply: 'I am away this week.',
  });
  const shown = describe(away, SATURDAY, LA);
  assert.equal(shown.state, 'away');
  assert.equal(shown.headline, 'Dana is away until Monday, December 7; replies may take longer.');
  assert.equal(shown.note, 'At a conference.');
  assert.equal(shown.urgent, true);
});

test("away until a day names the hour where the practice's midnight is another hour", () => {
  const away = dana({ away: { starts: null, until: '2026-12-07', note: null }, away_ends_at: '2026-12-07T08:00:00+00:00' });
  assert.equal(describe(away, SATURDAY, NY).headline, 'Dana is away until Monday, December 7 at 3:00 AM; replies may take longer.');
  assert.equal(describe(away, SATURDAY, BERLIN).headline, 'Dana is away until Monday 7 December at 9:00; replies may take longer.');
});

test('outside office hours the client is told when they begin again, in their own time', () => {
  assert.equal(
    describe(dana(), SATURDAY, LA).headline,
    "Dana's office hours are over for now; replies may take longer. Office hours begin again Monday, December 7 at 9:00 AM.",
  );
  assert.equal(
    describe(dana(), SATURDAY, NY).headline,
    "Dana's office hours are over for now; replies may take longer. Office hours begin again Monday, December 7 at 12:00 PM.",
  );
  // Sunday 23:00 in Berlin: Dana opens at 18:00 there on Monday, the next day.
  const sundayNight = new Date('2026-12-06T22:00:00Z');
  assert.match(describe(dana(), sundayNight, BERLIN).headline, /begin again tomorrow at 18:00\.$/);
  const mondayMorning = new Date('2026-12-07T15:00:00Z');
  assert.match(describe(dana(), mondayMorning, LA).headline, /begin again today at 9:00 AM\.$/);
  assert.equal(describe(dana(), SATURDAY, LA).urgent, true);
});

test('during office hours nothing prominent is shown, only the reply time and the hours', () => {
  const open = describe(dana({ open_now: true }), new Date('2026-12-07T18:00:00Z'), LA);
  assert.equal(open.state, 'open');
  assert.equal(open.headline, null);
  assert.equal(open.urgent, false);
  assert.equal(open.replyTime, 'Usually within one business day.');
  assert.equal(open.hours.length, 5);
  assert.equal(open.hours[0], 'Monday, December 7: 9:00 AM – 5:00 PM');
});

test('without office hours nothing is shown but the reply time', () => {
  const unset = describe(dana({ open_now: null, windows: [], office_hours: [] }), SATURDAY, LA);
  assert.deepEqual([unset.state, unset.headline, unset.hours, unset.urgent], ['unset', null, [], false]);
});

test('an away time ahead is announced with its calendar days, the same in every zone', () => {
  const ahead = dana({
    open_now: true,
    away: { starts: '2026-12-21', until: '2027-01-04', note: 'Holidays.' },
    away_ends_at: '2027-01-04T08:00:00+00:00',
    away_upcoming: true,
  });
  const mondayNoon = new Date('2026-12-07T20:00:00Z');
  for (const where of [LA, NY]) {
    const shown = describe(ahead, mondayNoon, where);
    assert.equal(shown.state, 'upcoming');
    assert.equal(shown.headline, 'Dana will be away from Monday, December 21 until Monday, January 4.');
    assert.equal(shown.urgent, false);
  }
  const closed = describe({ ...ahead, open_now: false }, SATURDAY, LA);
  assert.equal(closed.state, 'closed');
  assert.equal(closed.note, 'Dana will be away from Monday, December 21 until Monday, January 4.');
});

test('blocks on one day are written on one line, split where the reader is', () => {
  const split = [
    { start: '2026-12-07T17:00:00+00:00', end: '2026-12-07T20:00:00+00:00' },
    { start: '2026-12-07T21:00:00+00:00', end: '2026-12-08T01:00:00+00:00' },
  ];
  assert.deepEqual(hourLines(split, LA), ['Monday, December 7: 9:00 AM – 12:00 PM, 1:00 PM – 5:00 PM']);
  // In Berlin the second block begins on Monday and ends on Tuesday morning.
  assert.deepEqual(hourLines(split, BERLIN), ['Monday 7 December: 18:00 – 21:00, 22:00 – 2:00']);
});

test('a page left open sees the office hours end and an away time pass', () => {
  const open = dana({ open_now: true });
  const mondayNoon = new Date('2026-12-07T20:00:00Z');
  assert.equal(describe(open, mondayNoon, LA).state, 'open');
  const mondayNight = new Date('2026-12-08T07:00:00Z'); // 23:00 in Los Angeles
  const later = describe(open, mondayNight, LA);
  assert.equal(later.state, 'closed');
  assert.match(later.headline, /begin again tomorrow at 9:00 AM\.$/);
  const away = dana({
    open_now: true,
    away: { starts: null, until: '2026-12-07', note: null },
    away_ends_at: '2026-12-07T08:00:00+00:00',
  });
  assert.equal(describe(away, SATURDAY, LA).state, 'away');
  assert.equal(describe(away, mondayNoon, LA).state, 'open');
});
