// A page that signs in after the server was restored from a backup holds nothing the
// server lost: its history comes from the restored server. Though the server's sync pages
// say where the restore went (`restored_at`), the page has not synced under an earlier
// generation, so it says nothing and sends nothing again.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, flush, signedInTab, syncReply, syncRequest, waitFor } from './_app_support.mjs';

const RESTORED = 'c3'.repeat(16);

test('a fresh page after a restore shows the history and says nothing', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tick = (/** @type {number} */ ms) => t.mock.timers.tick(ms);
  const tab = await signedInTab({ listing: { last_seq: 3 } });
  try {
    await tab.connect({ generation: RESTORED });
    const timeline = await tab.open([tab.stored({ seq: 1 }), tab.stored({ seq: 2 }), tab.stored({ seq: 3 })]);
    // Later, a reconnect: the same generation, whose pages still say where it was restored to.
    tab.conversation.last_seq = 4;
    await tab.reconnect({ generation: RESTORED, tick });
    const first = await syncRequest(tab, 0);
    assert.deepEqual(first.after, { [CONVERSATION]: 3 });
    tab.ws.deliver(syncReply(first, { messages: [tab.stored({ seq: 4 })], last_seq: 4, restored_at: 1 }));
    await waitFor(() => timeline.has(4));
    await flush();

    assert.deepEqual(timeline.sorted().map((m) => [m.seq, Boolean(m.lost)]), [[1, false], [2, false], [3, false], [4, false]]);
    assert.equal(tab.events.filter((e) => e.type === 'restored').length, 0, 'nothing said');
    assert.equal(tab.messenger.conversations.get(CONVERSATION).restore, null);
    assert.deepEqual(tab.ws.sentOf('send'), [], 'nothing sent again');
    assert.equal(tab.ws.sentOf('sync').length, 1, 'nothing asked again');
  } finally {
    tab.close();
  }
});

test('a fresh page whose first sync meets the restored generation says nothing either', async () => {
  const tab = await signedInTab({ listing: { last_seq: 2 } });
  try {
    // The conversation is open before the socket is ready, so its first sync is the one
    // that follows `ready`, under a generation this page never synced before.
    await tab.messenger.start();
    await tab.messenger.open(CONVERSATION);
    tab.ws.deliver({ type: 'ready', user: 7, generation: RESTORED, limits: { max_frame_bytes: 262144, message_rate: 20, message_burst: 40, history_page: 100, max_sockets: 10 } });
    const history = await waitFor(() => tab.ws.sentOf('history')[0]);
    tab.ws.deliver({
      type: 'history', ref: history.ref, conversation: CONVERSATION,
      messages: [tab.stored({ seq: 1 }), tab.stored({ seq: 2 })], has_more: false, last_seq: 2,
    });
    const first = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 2, restored_at: 1 }));
    await flush();
    await flush();
    const timeline = tab.messenger.conversations.get(CONVERSATION).timeline;
    assert.deepEqual(timeline.sorted().map((m) => [m.seq, Boolean(m.lost)]), [[1, false], [2, false]]);
    assert.equal(tab.events.filter((e) => e.type === 'restored').length, 0);
    assert.equal(tab.ws.sentOf('sync').length, 1);
  } finally {
    tab.close();
  }
});
