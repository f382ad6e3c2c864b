// Every message this browser seals carries its sender's order (crypto/SPEC.md, "Version 2:
// the sender's order"): this sign-in's chain, a counter per conversation, the time, and the
// reference of the newest message held. A reader's timeline feeds the order check, so a
// message the server withheld, or two it swapped, are named beside the messages concerned.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { appModule, CONVERSATION } from './_app_support.mjs';
import { confide } from './_support.mjs';

const { Keys } = await appModule('keys.js');
const { Timeline } = await appModule('timeline.js');
const { orderNoticeText } = await appModule('views/conversation.js');

const THERAPIST = 8;
const CLIENT = 7;

function people() {
  const therapist = new Keys(confide.IdentityKeyPair.generate());
  const client = new Keys(confide.IdentityKeyPair.generate());
  // Both hold the epoch key, as after unwrapping their envelopes.
  const key = confide.ConversationKey.generate();
  for (const keys of [therapist, client]) keys.keep(CONVERSATION, 0, key);
  return { therapist, client };
}

/** Seal `text` as `keys` would in a timeline, naming the newest held message. */
function seal(keys, timeline, text) {
  return keys.seal(text, CONVERSATION, 0, randomUUID(), {
    previous: timeline.newestReference(),
  });
}

/** What a reader holds of a stored message: its facts, as incoming.js makes them. */
function held(keys, seq, sender, ciphertext) {
  return {
    seq,
    sender,
    clientMessageId: randomUUID(),
    epoch: 0,
    sentAt: new Date().toISOString(),
    text: 'opened',
    problem: null,
    ...keys.orderFacts(ciphertext, true),
  };
}

function notices(keys, timeline) {
  const { run, fromStart } = timeline.orderRun();
  return keys.checkOrder(run, fromStart);
}

test('each new message takes the next counter of one chain, per conversation', () => {
  const { therapist } = people();
  const timeline = new Timeline();
  const orders = ['a', 'b', 'c'].map((text) =>
    confide.parseMessage(confide.b64decode(seal(therapist, timeline, text))).order,
  );
  assert.deepEqual(orders.map((order) => order.counter), [1, 2, 3]);
  assert.ok(orders.every((order) => confide.b64encode(order.chain) === confide.b64encode(orders[0].chain)));
  assert.ok(orders.every((order) => Math.abs(order.sentAt - Date.now()) < 60_000));
  assert.deepEqual([...orders[0].previous], new Array(32).fill(0), 'nothing held: no previous');
  const other = randomUUID();
  therapist.keep(other, 0, confide.ConversationKey.generate());
  const first = therapist.seal('elsewhere', other, 0, randomUUID());
  assert.equal(confide.parseMessage(confide.b64decode(first)).order.counter, 1);
});

test('a message sealed again keeps its place; a seal that fails gives its counter back', () => {
  const { therapist } = people();
  const timeline = new Timeline();
  const original = seal(therapist, timeline, 'first');
  const again = therapist.seal('first', CONVERSATION, 0, randomUUID(), { keepOrderOf: original });
  const [a, b] = [original, again].map((c) => confide.parseMessage(confide.b64decode(c)).order);
  assert.equal(b.counter, a.counter);
  assert.equal(b.sentAt, a.sentAt);
  assert.throws(() => therapist.seal('x'.repeat(1_048_573), CONVERSATION, 0, randomUUID()));
  const next = seal(therapist, timeline, 'second');
  assert.equal(confide.parseMessage(confide.b64decode(next)).order.counter, 2);
});

test('a withheld message and two swapped ones are noticed by the reader', () => {
  const { therapist, client } = people();
  const sender = new Timeline();
  const sealed = [];
  for (const [seq, text] of [[1, 'one'], [2, 'two'], [3, 'three']]) {
    const ciphertext = seal(therapist, sender, text);
    sender.add(held(therapist, seq, THERAPIST, ciphertext));
    sealed.push(ciphertext);
  }
  // All three, in order: nothing to say.
  const reader = new Timeline();
  sealed.forEach((ciphertext, i) => reader.add(held(client, i + 1, THERAPIST, ciphertext)));
  assert.deepEqual(notices(client, reader), []);

  // The server withholds "two" and numbers "three" 2.
  const withheld = new Timeline();
  withheld.add(held(client, 1, THERAPIST, sealed[0]));
  withheld.add(held(client, 2, THERAPIST, sealed[2]));
  const found = notices(client, withheld);
  assert.deepEqual(found.map((n) => [n.kind, n.seq, n.first, n.last]), [
    ['missing', 2, 2, 2],
    ['unseen', 2, 3, 3],
  ]);
  assert.equal(found[0].sender, THERAPIST);
  assert.ok(found[0].after <= found[0].before);

  // The server swaps "two" and "three".
  const swapped = new Timeline();
  swapped.add(held(client, 1, THERAPIST, sealed[0]));
  swapped.add(held(client, 2, THERAPIST, sealed[2]));
  swapped.add(held(client, 3, THERAPIST, sealed[1]));
  assert.deepEqual(notices(client, swapped).map((n) => [n.kind, n.seq, n.first]), [
    ['out_of_order', 3, 2],
  ]);
});

test('only a run from the first message may call a reference unseen', () => {
  const { therapist, client } = people();
  const sender = new Timeline();
  const sealed = [];
  for (const seq of [1, 2, 3]) {
    const ciphertext = seal(therapist, sender, `m${seq}`);
    sender.add(held(therapist, seq, THERAPIST, ciphertext));
    sealed.push(ciphertext);
  }
  const later = new Timeline();
  later.add(held(client, 5, THERAPIST, sealed[2]));
  assert.deepEqual(later.orderRun().fromStart, false);
  assert.deepEqual(notices(client, later), [], 'what it names may lie before message 5');
});

test('the notices read calmly, in the sender\'s words and times', () => {
  const at = Date.UTC(2026, 11, 5, 14, 2);
  const missing = { kind: 'missing', seq: 4, sender: THERAPIST, first: 2, last: 2, after: at, before: at + 8 * 60_000 };
  const text = orderNoticeText(missing, 'Dana', 'Dana');
  assert.match(text, /^A message from Dana, written (between .+ and .+|at .+), did not arrive\. If it mattered, ask Dana about it\.$/);
  const own = orderNoticeText({ ...missing, first: 2, last: 4 }, null, 'Quinn');
  assert.match(own, /^3 messages you wrote .+ did not arrive here, so Quinn may not have them either\./);
  const sameMinute = orderNoticeText({ ...missing, before: at }, 'Dana', 'Dana');
  assert.match(sameMinute, /written at /);
  const start = orderNoticeText({ ...missing, after: null }, 'Dana', 'Dana');
  assert.match(start, /written before /);
  assert.equal(
    orderNoticeText({ kind: 'out_of_order', seq: 3, sender: CLIENT, first: 1, last: 1, after: null, before: at }, null, 'Dana'),
    'This message from you was written before the one above it, but arrived after it.',
  );
  assert.equal(
    orderNoticeText({ kind: 'unseen', seq: 3, sender: THERAPIST, first: 1, last: 1, after: null, before: at }, 'Dana', 'Dana'),
    'Dana wrote this after reading a message that has not reached this browser.',
  );
});
