// A server can be restored from a backup without announcing a new database generation (a
// copy of the database put back by hand). Its sync page then lists fewer messages than this
// page holds: what lies above its last number is gone from it. The page keeps showing those
// messages, follows the conversation again from that number, sends its own lost message
// again (the same id and bytes), and says so; the other member's, sent again by their
// device, shows once.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, flush, signedInTab, syncReply, syncRequest, waitFor } from './_app_support.mjs';

test('a page listing fewer messages than held is a restore, whatever the generation', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tick = (/** @type {number} */ ms) => t.mock.timers.tick(ms);
  const tab = await signedInTab();
  try {
    await tab.connect();
    const timeline = await tab.open([tab.stored({ seq: 1 }), tab.stored({ seq: 2 })]);
    const id = await tab.messenger.sendText(CONVERSATION, 'mine, lost');
    const [send] = tab.ws.sentOf('send');
    tab.ws.deliver(tab.ackOf(send, 3));
    const theirs = tab.stored({ seq: 4, text: 'theirs, lost' });
    tab.ws.deliver(theirs);
    await flush();

    // The same generation as before, and two messages fewer.
    tab.conversation.last_seq = 2;
    await tab.reconnect({ tick });
    const first = await syncRequest(tab, 0);
    assert.deepEqual(first.after, { [CONVERSATION]: 4 });
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 2 }));
    const second = await syncRequest(tab, 1);
    assert.deepEqual(second.after, { [CONVERSATION]: 2 }, 'followed again from the last number listed');
    const again = await waitFor(() => tab.ws.sentOf('send')[0]);
    assert.deepEqual([again.client_message_id, again.ciphertext], [id, send.ciphertext], 'the same id and bytes');
    tab.ws.deliver(syncReply(second, { messages: [], last_seq: 2 }));
    await flush();
    tab.ws.deliver(tab.ackOf(again, 3));
    tab.ws.deliver({ ...theirs, seq: 4 });
    await waitFor(() => timeline.has(4));

    assert.deepEqual(
      timeline.sorted().map((m) => [m.text, Boolean(m.lost)]),
      [['message 1', false], ['message 2', false], ['mine, lost', true], ['theirs, lost', true]],
      'shown where they were, each once',
    );
    assert.equal(timeline.position, 4, 'the numbers sent again are held: no gap, no endless sync');
    assert.equal(tab.messenger.outbox.size, 0);
    const conversation = tab.messenger.conversations.get(CONVERSATION);
    assert.deepEqual(conversation.restore, {
      restoredAt: 2, lost: 2, theirs: 1, resent: 1, notResent: 0, keysChanged: 0, announced: false,
    });
    assert.equal(tab.events.filter((e) => e.type === 'restored').length, 1);
  } finally {
    tab.close();
  }
});

test('a page listing as many messages as held is no restore', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tick = (/** @type {number} */ ms) => t.mock.timers.tick(ms);
  const tab = await signedInTab();
  try {
    await tab.connect();
    const timeline = await tab.open([tab.stored({ seq: 1 }), tab.stored({ seq: 2 })]);
    await tab.reconnect({ tick });
    const first = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(first, { messages: [tab.stored({ seq: 3 })], last_seq: 3 }));
    await waitFor(() => timeline.has(3));
    await flush();
    assert.equal(tab.ws.sentOf('sync').length, 1);
    assert.deepEqual(timeline.sorted().map((m) => [m.seq, Boolean(m.lost)]), [[1, false], [2, false], [3, false]]);
    assert.equal(tab.messenger.conversations.get(CONVERSATION).restore, null);
  } finally {
    tab.close();
  }
});
