// The web client begins a new epoch before sending when the epoch holds 100 messages, is 7
// days old, or a member's keys changed (crypto/SPEC.md, "Epoch rotation"), taking the
// larger count and the older start of what the server says and what the browser holds.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { rotationDue } from '../../frontend/static/frontend/src/app/epochs.js';

const NOW = Date.parse('2025-06-10T12:00:00Z');
const DAY = 86_400_000;
const iso = (ms) => new Date(ms).toISOString();
const fresh = {
  serverCount: 0,
  serverStartedAt: iso(NOW - DAY),
  localCount: 0,
  localOldest: null,
  keysChanged: false,
  now: NOW,
};

test('a young, lightly used epoch with unchanged keys is kept', () => {
  assert.equal(rotationDue(fresh), false);
  assert.equal(rotationDue({ ...fresh, serverCount: 99, localCount: 50 }), false);
});

test('100 messages by the server count rotate, though this browser holds few', () => {
  assert.equal(rotationDue({ ...fresh, serverCount: 100, localCount: 3 }), true);
});

test('100 messages held here rotate, though the server claims fewer', () => {
  assert.equal(rotationDue({ ...fresh, serverCount: 2, localCount: 100 }), true);
});

test('seven days by the server start rotate', () => {
  assert.equal(rotationDue({ ...fresh, serverStartedAt: iso(NOW - 7 * DAY) }), true);
  assert.equal(rotationDue({ ...fresh, serverStartedAt: iso(NOW - 7 * DAY + 60_000) }), false);
});

test('an old message of the epoch held here outvotes a server start claimed recent', () => {
  const claimed = { ...fresh, serverStartedAt: iso(NOW - 60_000), localOldest: iso(NOW - 8 * DAY) };
  assert.equal(rotationDue(claimed), true);
});

test('a changed key rotates at once', () => {
  assert.equal(rotationDue({ ...fresh, keysChanged: true }), true);
});

test('a missing or garbled start time counts as a new epoch, not as an error', () => {
  assert.equal(rotationDue({ ...fresh, serverStartedAt: null }), false);
  assert.equal(rotationDue({ ...fresh, serverStartedAt: 'yesterday' }), false);
  assert.equal(rotationDue({ ...fresh, serverStartedAt: iso(NOW + DAY) }), false, 'clock skew is clamped');
});
