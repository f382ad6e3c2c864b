// A server can replay a genuine sealed message under a new sequence number (the seal binds
// the client message id, not the seq). The timeline shows it once, counts it once, and still
// holds the number so that it is no gap.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Timeline } from '../../frontend/static/frontend/src/app/timeline.js';

function message(seq, clientMessageId = `id-${seq}`, text = `m${seq}`) {
  return { seq, sender: 1, clientMessageId, epoch: 0, sentAt: `2025-01-01T00:00:0${seq}Z`, text, problem: null };
}

test('an opened message replayed at a new seq is shown and counted once', () => {
  const timeline = new Timeline();
  timeline.add(message(1));
  timeline.add(message(2, 'id-1', 'm1'));
  timeline.add(message(3));
  assert.deepEqual(timeline.sorted().map((m) => m.seq), [1, 3]);
  assert.equal(timeline.isReplay(2), true);
  assert.equal(timeline.isReplay(1), false);
  assert.equal(timeline.position, 3, 'the replay holds its number: no gap, no endless sync');
  assert.equal(timeline.epochUsage(0).count, 2);
  assert.equal(timeline.hasMessageId('id-1'), true);
});

test('whichever copy arrives first, the lower seq is the one shown', () => {
  const timeline = new Timeline();
  timeline.add(message(7, 'id-x', 'hello'));
  timeline.add(message(4, 'id-x', 'hello'));
  assert.deepEqual(timeline.sorted().map((m) => m.seq), [4]);
  assert.equal(timeline.isReplay(7), true);
});

test('messages that did not open are not matched by their unauthenticated id', () => {
  const timeline = new Timeline();
  const forged = { ...message(1, 'id-real', null), problem: 'DecryptionError' };
  timeline.add(forged);
  timeline.add(message(2, 'id-real', 'the genuine one'));
  assert.deepEqual(timeline.sorted().map((m) => m.seq), [1, 2], 'a forgery cannot hide the genuine message');
  assert.equal(timeline.isReplay(2), false);
});

test('clearing forgets the ids too', () => {
  const timeline = new Timeline();
  timeline.add(message(1));
  timeline.clear();
  assert.equal(timeline.hasMessageId('id-1'), false);
  timeline.add(message(5, 'id-1', 'm1'));
  assert.deepEqual(timeline.sorted().map((m) => m.seq), [5]);
});
