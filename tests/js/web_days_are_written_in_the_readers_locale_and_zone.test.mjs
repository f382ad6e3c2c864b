// A conversation's messages are grouped under their day as the reader writes it, in the
// reader's own time zone: "Today", "Yesterday", a weekday and date, the year only when it
// is not this year's.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appModule } from './_app_support.mjs';

const { dayKey, dayLabel } = await appModule('dom.js');

const NOW = new Date('2026-12-05T18:00:00Z');
const US = { locale: 'en-US', timeZone: 'America/Los_Angeles' };

test('today and yesterday are named, other days written out', () => {
  assert.equal(dayLabel('2026-12-05T16:00:00Z', NOW, US), 'Today');
  assert.equal(dayLabel('2026-12-04T16:00:00Z', NOW, US), 'Yesterday');
  assert.equal(dayLabel('2026-12-01T16:00:00Z', NOW, US), 'Tuesday, December 1');
  assert.equal(dayLabel('2025-12-01T16:00:00Z', NOW, US), 'Monday, December 1, 2025');
});

test("the day is the reader's: 03:00 UTC is still yesterday evening in Los Angeles", () => {
  assert.equal(dayKey(new Date('2026-12-05T03:00:00Z'), US), '2026-12-04');
  assert.equal(dayLabel('2026-12-05T03:00:00Z', NOW, US), 'Yesterday');
  assert.equal(dayLabel('2026-12-05T03:00:00Z', NOW, { locale: 'en-GB', timeZone: 'Europe/London' }), 'Today');
});

test("the reader's language writes the date", () => {
  const where = { locale: 'de-DE', timeZone: 'Europe/Berlin' };
  assert.equal(dayLabel('2026-12-01T10:00:00Z', NOW, where), 'Dienstag, 1. Dezember');
  assert.equal(dayLabel('2026-12-01T10:00:00Z', NOW, { locale: 'fr-FR', timeZone: 'Europe/Paris' }), 'mardi 1 décembre');
});

test('no time, or a time that is not one, writes nothing', () => {
  assert.equal(dayLabel(null, NOW, US), '');
  assert.equal(dayLabel('not a time', NOW, US), '');
});
