// A discharged conversation is read-only: a message on its way is refused with
// `conversation_closed` and is not sent again; what still waits in the outbox becomes
// *Not sent* saying why, without going out; and after a reconnect nothing goes either.
// A conversation being erased or erased keeps nothing: its timeline and its outbox entries
// are dropped, and a history page that says `erased` is not taken for a restore.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, appModule, flush, readyFrame, signedInTab, waitFor } from './_app_support.mjs';

const { statusText } = await appModule('views/discharge.js');


test('a send refused as closed fails for good, and what waited never goes', async (t) => {
  const tab = await signedInTab();
  const closed = [];
  tab.messenger.addEventListener('conversation-status', (event) => closed.push(event.detail));
  t.after(() => tab.close());
  await tab.connect();
  await tab.open();
  await tab.messenger.sendText(CONVERSATION, 'first');
  await tab.messenger.sendText(CONVERSATION, 'second');
  // One in flight at a time: the second waits behind the first.
  const [one] = tab.ws.sentOf('send');
  const event = { type: 'conversation_status', conversation: CONVERSATION, status: 'discharged', at: '2026-11-30T10:00:00+00:00' };
  tab.ws.deliver(event);
  await flush();
  assert.deepEqual(closed, [{ conversation: CONVERSATION, status: 'discharged' }]);
  const conversation = tab.messenger.conversations.get(CONVERSATION);
  assert.equal(conversation.status, 'discharged');
  assert.equal(conversation.dischargedAt, event.at);
  tab.ws.deliver({ type: 'error', ref: one.ref, code: 'conversation_closed', message: 'The conversation is read-only.' });
  await flush();
  assert.deepEqual(
    tab.messenger.pending(CONVERSATION).map((m) => [m.text, m.state, m.error]),
    [['first', 'failed', 'conversation_closed'], ['second', 'failed', 'conversation_closed']],
  );
  assert.equal(tab.ws.sentOf('send').length, 1, 'the waiting one never went');
  // A retry and a reconnect send nothing either.
  await tab.messenger.retry(tab.messenger.pending(CONVERSATION)[0].clientMessageId);
  tab.ws.deliver(readyFrame());
  await flush();
  assert.equal(tab.ws.sentOf('send').length, 1);
  // The history is still there to read.
  assert.ok(conversation.timeline, 'a discharged conversation keeps its timeline');
});

test('a listing that says discharged stops a message written before it was seen', async (t) => {
  const tab = await signedInTab({ listing: { status: 'discharged', discharged_at: '2026-11-30T10:00:00+00:00' } });
  t.after(() => tab.close());
  await tab.connect();
  await tab.messenger.sendText(CONVERSATION, 'too late');
  await flush();
  assert.equal(tab.ws.sentOf('send').length, 0);
  assert.deepEqual(tab.messenger.pending(CONVERSATION).map((m) => [m.state, m.error]), [['failed', 'conversation_closed']]);
});

test('an erased conversation keeps no history and no outbox entry, and is not a restore', async (t) => {
  const tab = await signedInTab();
  t.after(() => tab.close());
  await tab.connect();
  const timeline = await tab.open([tab.stored({ seq: 1 }), tab.stored({ seq: 2 })]);
  assert.equal(timeline.size, 2);
  tab.ws.deliver({ type: 'conversation_status', conversation: CONVERSATION, status: 'discharged', at: '2026-11-30T10:00:00+00:00' });
  await flush();
  await tab.messenger.sendText(CONVERSATION, 'never sent');
  await flush();
  // The erasure began while this page was away: the sync after its next `ready` says so.
  tab.conversation.status = 'discharged';
  const before = tab.ws.sentOf('sync').length;
  tab.ws.deliver(readyFrame());
  const request = await waitFor(() => tab.ws.sentOf('sync')[before]);
  tab.ws.deliver({
    type: 'sync', ref: request.ref,
    conversations: [{ conversation: CONVERSATION, messages: [], has_more: false, last_seq: 2, status: 'erasing' }],
  });
  await flush();
  const conversation = tab.messenger.conversations.get(CONVERSATION);
  assert.equal(conversation.status, 'erasing');
  assert.equal(conversation.timeline, null);
  assert.deepEqual(tab.messenger.pending(CONVERSATION), []);
  assert.equal(conversation.restore ?? null, null, 'an erasure is not a restore');
  tab.ws.deliver({ type: 'conversation_status', conversation: CONVERSATION, status: 'erased', at: '2026-12-01T09:00:00+00:00' });
  await flush();
  assert.equal(conversation.erasedAt, '2026-12-01T09:00:00+00:00');
  // A late listing that says "discharged" does not bring it back.
  tab.ws.deliver({ type: 'conversation_status', conversation: CONVERSATION, status: 'discharged', at: '2026-11-30T10:00:00+00:00' });
  await flush();
  assert.equal(conversation.status, 'erased');
});

test('the notice says who discharged it and when, or that it was erased', () => {
  const at = '2026-11-30T10:00:00+00:00';
  const discharged = { status: 'discharged', dischargedAt: at, erasedAt: null };
  assert.match(statusText(discharged, true, 'Theo'), /^Theo discharged this conversation on .+2026\. It is read-only: you can still read and export it/);
  assert.match(statusText(discharged, false, 'Casey'), /^You discharged this conversation on /);
  assert.match(statusText({ status: 'erased', dischargedAt: at, erasedAt: at }, true, 'Theo'), /^This conversation was erased on .+2026\. None of its messages remain\.$/);
  assert.match(statusText({ status: 'erasing', dischargedAt: at, erasedAt: null }, false, 'Casey'), /being erased/);
  assert.equal(statusText({ status: 'active', dischargedAt: null, erasedAt: null }, true, 'Theo'), null);
});
