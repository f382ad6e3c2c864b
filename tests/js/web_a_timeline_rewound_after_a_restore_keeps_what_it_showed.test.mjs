// After a restore of the server from a backup, a timeline is followed again from the number
// the server went back to (`rewind`): what it showed above that number stays shown, in the
// same place, under its old number (marked lost), while the numbers above are free for
// what the server holds now; a lost message sent again is a replay, held but not shown.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Timeline, OWN_BYTES_KEPT } from '../../frontend/static/frontend/src/app/timeline.js';

function message(seq, clientMessageId = `id-${seq}`, text = `m${seq}`, extra = {}) {
  return { seq, sender: 1, clientMessageId, epoch: 0, sentAt: '2025-01-01T00:00:00Z', text, problem: null, ...extra };
}

const shown = (timeline) => timeline.sorted().map((m) => `${m.text}${m.lost ? ' (lost)' : ''}`);

test('what was shown above the restored point stays where it was, and new numbers follow', () => {
  const timeline = new Timeline();
  for (const seq of [1, 2, 3, 4]) timeline.add(message(seq));
  const gone = timeline.rewind(2);
  assert.deepEqual(gone.map((m) => m.seq), [3, 4], 'the copies the server no longer has');
  assert.equal(timeline.position, 2);
  assert.equal(timeline.has(3), false, 'the number is free again');
  timeline.add(message(3, 'id-new-3', 'new 3'));
  timeline.add(message(4, 'id-3', 'm3')); // m3 sent again under a new number
  timeline.add(message(5, 'id-new-5', 'new 5'));
  assert.deepEqual(shown(timeline), ['m1', 'm2', 'm3 (lost)', 'm4 (lost)', 'new 3', 'new 5']);
  assert.equal(timeline.isReplay(4), true);
  assert.equal(timeline.seqOf('id-3'), 4, 'the number it was stored under again');
  assert.equal(timeline.hasMessageId('id-4'), true, 'a lost message is still known by its id');
  assert.equal(timeline.position, 5, 'no gap');
});

test('a second restore to an earlier point keeps the order shown', () => {
  const timeline = new Timeline();
  for (const seq of [1, 2, 3, 4]) timeline.add(message(seq));
  timeline.rewind(3);
  timeline.add(message(4, 'id-a', 'a'));
  timeline.add(message(5, 'id-b', 'b'));
  assert.deepEqual(shown(timeline), ['m1', 'm2', 'm3', 'm4 (lost)', 'a', 'b']);
  timeline.rewind(1);
  assert.deepEqual(shown(timeline), ['m1', 'm2 (lost)', 'm3 (lost)', 'm4 (lost)', 'a (lost)', 'b (lost)']);
  const keys = timeline.sorted().filter((m) => m.lost).map((m) => `${m.lost.round}.${m.seq}`);
  assert.equal(new Set(keys).size, keys.length, 'each lost message has a key of its own');
  timeline.add(message(2, 'id-c', 'c'));
  assert.deepEqual(shown(timeline), ['m1', 'm2 (lost)', 'm3 (lost)', 'm4 (lost)', 'a (lost)', 'b (lost)', 'c']);
});

test('a timeline that held nothing up to the restored point follows it from there', () => {
  const timeline = new Timeline();
  for (const seq of [51, 52, 53]) timeline.add(message(seq));
  timeline.rewind(40);
  assert.equal(timeline.size, 0);
  assert.equal(timeline.position, 40, 'the next sync asks after 40, not from the start');
  assert.equal(timeline.low, 41, 'older history is asked for before 41');
  assert.equal(timeline.wouldSkip(42), true);
  timeline.add(message(41, 'id-41', 'new 41'));
  assert.equal(timeline.position, 41);
  assert.deepEqual(shown(timeline), ['m51 (lost)', 'm52 (lost)', 'm53 (lost)', 'new 41']);
});

test('only the newest of its own messages keep their bytes', () => {
  const timeline = new Timeline();
  const count = OWN_BYTES_KEPT + 5;
  for (let seq = 1; seq <= count; seq += 1) timeline.add(message(seq, `id-${seq}`, `m${seq}`, { ciphertext: `c${seq}` }));
  const kept = timeline.sorted().filter((m) => m.ciphertext !== undefined).map((m) => m.seq);
  assert.equal(kept.length, OWN_BYTES_KEPT);
  assert.equal(Math.min(...kept), 6);
  const gone = timeline.rewind(count - 2);
  assert.deepEqual(gone.map((m) => m.ciphertext), [`c${count - 1}`, `c${count}`], 'the lost ones keep theirs');
});
