// The outbox keeps each unacknowledged message, mirrored to storage as ciphertext and ids
// only, survives a reload, and forgets a message once (and only once) it is acknowledged.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MemoryStorage } from './_app_support.mjs';
import { Outbox, isStoredEntry } from '../../frontend/static/frontend/src/app/outbox.js';

const CONVERSATION = '6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b';
const ID_A = '11111111-2222-4333-8444-555555555555';
const ID_B = '99999999-8888-4777-8666-555555555555';

function message(id = ID_A) {
  return { conversation: CONVERSATION, clientMessageId: id, epoch: 0, ciphertext: 'AQIDBAUG_-x' };
}

test('an added message is stored with exactly the public fields', () => {
  const storage = new MemoryStorage();
  const outbox = new Outbox(storage, 'k');
  outbox.add(message(), new Date('2025-01-02T03:04:05Z'));
  const stored = JSON.parse(storage.getItem('k'));
  assert.deepEqual(stored, [
    {
      conversation: CONVERSATION,
      clientMessageId: ID_A,
      epoch: 0,
      ciphertext: 'AQIDBAUG_-x',
      createdAt: '2025-01-02T03:04:05.000Z',
    },
  ]);
});

test('a reload restores the entries, queued, oldest first', () => {
  const storage = new MemoryStorage();
  const first = new Outbox(storage, 'k');
  first.add(message(ID_A));
  first.add(message(ID_B));
  first.markSending(ID_A);
  const second = new Outbox(storage, 'k');
  const entries = second.load();
  assert.deepEqual(entries.map((e) => e.clientMessageId), [ID_A, ID_B]);
  assert.ok(entries.every((e) => e.state === 'queued' && e.attempts === 0));
});

test('an acknowledgement removes the entry once; a second one is harmless', () => {
  const storage = new MemoryStorage();
  const outbox = new Outbox(storage, 'k');
  outbox.add(message());
  assert.equal(outbox.acknowledge(ID_A)?.clientMessageId, ID_A);
  assert.equal(outbox.acknowledge(ID_A), undefined);
  assert.equal(outbox.size, 0);
  assert.equal(storage.getItem('k'), null);
});

test('stored records with any other field, such as plaintext, are refused on load', () => {
  const storage = new MemoryStorage();
  const record = { ...message(), createdAt: new Date().toISOString() };
  storage.setItem('k', JSON.stringify([{ ...record, text: 'hello' }, record]));
  const entries = new Outbox(storage, 'k').load();
  assert.equal(entries.length, 1);
  assert.equal(isStoredEntry({ ...record, text: 'hello' }), false);
  assert.equal(isStoredEntry({ ...record, ciphertext: 'not base64!' }), false);
  assert.equal(isStoredEntry({ ...record, clientMessageId: 'nope' }), false);
  assert.equal(isStoredEntry(record), true);
});

test('garbage in storage is ignored, not fatal', () => {
  const storage = new MemoryStorage();
  storage.setItem('k', '{not json');
  assert.deepEqual(new Outbox(storage, 'k').load(), []);
  storage.setItem('k', '{"a": 1}');
  assert.deepEqual(new Outbox(storage, 'k').load(), []);
});

test('a client message id cannot be queued twice', () => {
  const outbox = new Outbox(null, 'k');
  outbox.add(message());
  assert.throws(() => outbox.add(message()));
});

test('states move sending → queued → failed → retried, counting attempts', () => {
  const outbox = new Outbox(null, 'k');
  outbox.add(message());
  assert.equal(outbox.markSending(ID_A).attempts, 1);
  assert.equal(outbox.markQueued(ID_A, 'timeout').state, 'queued');
  assert.equal(outbox.markSending(ID_A).attempts, 2);
  const failed = outbox.markFailed(ID_A, 'bad_ciphertext');
  assert.equal(failed.state, 'failed');
  assert.equal(failed.error, 'bad_ciphertext');
  const retried = outbox.retry(ID_A);
  assert.deepEqual([retried.state, retried.attempts, retried.error], ['queued', 0, null]);
});

test('a reseal replaces epoch and bytes under the same id, in storage too', () => {
  const storage = new MemoryStorage();
  const outbox = new Outbox(storage, 'k');
  outbox.add(message());
  outbox.reseal(ID_A, 1, 'BBBB');
  const [stored] = JSON.parse(storage.getItem('k'));
  assert.equal(stored.epoch, 1);
  assert.equal(stored.ciphertext, 'BBBB');
  assert.equal(stored.clientMessageId, ID_A);
});

test('clear forgets everything, in memory and in storage', () => {
  const storage = new MemoryStorage();
  const outbox = new Outbox(storage, 'k');
  outbox.add(message());
  outbox.clear();
  assert.equal(outbox.size, 0);
  assert.equal(storage.getItem('k'), null);
  // A late add (an answer that arrived after sign-out) is not written to storage again.
  outbox.add(message());
  assert.equal(storage.getItem('k'), null);
});
