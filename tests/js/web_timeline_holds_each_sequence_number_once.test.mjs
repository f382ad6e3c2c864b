// A conversation's timeline holds each sequence number once, in order, and knows where the
// gaps are, whatever order history pages, syncs and pushes arrive in.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Timeline } from '../../frontend/static/frontend/src/app/timeline.js';

function message(seq, epoch = 0, sentAt = `2025-01-01T00:00:${String(seq % 60).padStart(2, '0')}Z`) {
  return { seq, sender: 1, clientMessageId: `id-${seq}`, epoch, sentAt, text: `m${seq}`, problem: null };
}

test('a sequence number is held once: the second copy changes nothing', () => {
  const timeline = new Timeline();
  assert.equal(timeline.add(message(1)), true);
  assert.equal(timeline.add({ ...message(1), text: 'other' }), false);
  assert.equal(timeline.size, 1);
  assert.equal(timeline.get(1).text, 'm1');
});

test('messages come out in sequence order whatever the arrival order', () => {
  const timeline = new Timeline();
  for (const seq of [5, 3, 4, 1, 2]) timeline.add(message(seq));
  assert.deepEqual(timeline.sorted().map((m) => m.seq), [1, 2, 3, 4, 5]);
});

test('the position is the last number with nothing missing below it', () => {
  const timeline = new Timeline();
  timeline.add(message(1));
  timeline.add(message(2));
  timeline.add(message(4));
  assert.equal(timeline.position, 2);
  assert.equal(timeline.hasGap, true);
  assert.equal(timeline.wouldSkip(3), false);
  assert.equal(timeline.wouldSkip(5), true);
  timeline.add(message(3));
  assert.equal(timeline.position, 4);
  assert.equal(timeline.hasGap, false);
});

test('the newest page first, then older pages: the position follows the newest', () => {
  const timeline = new Timeline();
  for (let seq = 51; seq <= 100; seq += 1) timeline.add(message(seq));
  assert.deepEqual([timeline.low, timeline.position, timeline.complete], [51, 100, false]);
  for (let seq = 1; seq <= 50; seq += 1) timeline.add(message(seq));
  assert.deepEqual([timeline.low, timeline.position, timeline.complete], [1, 100, true]);
});

test('an empty timeline skips nothing: a first push is not a gap', () => {
  const timeline = new Timeline();
  assert.equal(timeline.wouldSkip(7), false);
  assert.equal(timeline.position, 0);
});

test('the messages of an epoch are counted, with the oldest time, for rotation', () => {
  const timeline = new Timeline();
  timeline.add(message(1, 0, '2025-01-01T00:00:00Z'));
  timeline.add(message(2, 1, '2025-01-02T00:00:00Z'));
  timeline.add(message(3, 1, '2025-01-03T00:00:00Z'));
  // Message 1 is of epoch 0, so epoch 1's start is held: the count is all of it.
  assert.deepEqual(timeline.epochUsage(1), {
    count: 2,
    oldest: '2025-01-02T00:00:00Z',
    fromStart: true,
  });
  assert.deepEqual(timeline.epochUsage(5), { count: 0, oldest: null, fromStart: true });
});

test("an epoch whose start is not held says so, and unsigned messages do not count", () => {
  const timeline = new Timeline();
  timeline.add(message(7, 1, '2025-01-02T00:00:00Z'));
  timeline.add(message(8, 1, '2025-01-03T00:00:00Z'));
  timeline.add({ ...message(9, 1, '2025-01-04T00:00:00Z'), text: null, problem: 'SignatureError' });
  assert.deepEqual(timeline.epochUsage(1), {
    count: 2,
    oldest: '2025-01-02T00:00:00Z',
    fromStart: false,
  });
});

test('invalid sequence numbers are refused', () => {
  const timeline = new Timeline();
  assert.throws(() => timeline.add(message(0)), RangeError);
  assert.throws(() => timeline.add({ ...message(1), seq: 1.5 }), RangeError);
});
