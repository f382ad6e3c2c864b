// A server restored from a backup may list an older current epoch than the one this page
// held: the later epochs went with the backup's lost hours. An old epoch presented as
// current is otherwise never written in (web_an_old_epoch_presented_as_current_is_not_
// written_in). Where a restore was just seen, the page takes the listing's older epoch,
// forgets the keys of the later ones (the server numbers them again, with new keys), and
// still writes nothing in the older epoch: the next message, and its own lost message sent
// again, begin a new epoch first.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, flush, readyFrame, signedInTab, syncReply, syncRequest, waitFor } from './_app_support.mjs';

const BEFORE = 'd4'.repeat(16);
const AFTER = 'e5'.repeat(16);

/** A tab under `BEFORE` with the conversation in epoch 1, holding `history(tab)`. */
async function inEpochOne(t, history) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  tab.beginEpoch(1);
  await tab.connect({ generation: BEFORE });
  const timeline = await tab.open(history(tab));
  const tick = (/** @type {number} */ ms) => t.mock.timers.tick(ms);
  return { tab, timeline, tick };
}

/** The frames the page sent on its current socket, of the types that write. */
function writes(tab) {
  return tab.ws.sent.filter((frame) => frame.type === 'send' || frame.type === 'rekey');
}

/** Answer the page's `rekey` with the server's `rekey_ok`, and list the new epoch. */
async function acceptRekey(tab) {
  const rekey = await waitFor(() => tab.ws.sentOf('rekey')[0]);
  tab.conversation.current_epoch = rekey.epoch;
  tab.ws.deliver({ type: 'rekey_ok', ref: rekey.ref, conversation: CONVERSATION, epoch: rekey.epoch });
  await flush();
  return rekey;
}

test('after a restore to an older epoch, a new message begins a new epoch first', async (t) => {
  const { tab, timeline, tick } = await inEpochOne(t, (tab) => [
    tab.stored({ seq: 1, epoch: 0 }),
    tab.stored({ seq: 2, epoch: 1, text: 'theirs, in the epoch the server lost' }),
  ]);
  try {
    // Restored to before epoch 1 and message 2.
    tab.forgetEpochsFrom(1);
    tab.conversation.last_seq = 1;
    await tab.reconnect({ generation: AFTER, tick });
    const first = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 1, restored_at: 1 }));
    const second = await syncRequest(tab, 1);
    tab.ws.deliver(syncReply(second, { messages: [], last_seq: 1, restored_at: 1 }));
    await flush();

    const conversation = tab.messenger.conversations.get(CONVERSATION);
    assert.equal(conversation.currentEpoch, 0, "the restored server's epoch is taken");
    assert.equal(tab.keys.hasKey(CONVERSATION, 1), false, 'the lost epoch’s key is forgotten');
    assert.equal(tab.keys.hasKey(CONVERSATION, 0), true);
    assert.deepEqual(timeline.sorted().map((m) => m.text), ['message 1', 'theirs, in the epoch the server lost']);

    const sending = tab.messenger.sendText(CONVERSATION, 'after the restore');
    const rekey = await acceptRekey(tab);
    await sending;
    const send = await waitFor(() => tab.ws.sentOf('send')[0]);
    assert.equal(rekey.epoch, 1, 'a new epoch, numbered again by the server');
    assert.deepEqual(writes(tab).map((f) => [f.type, f.epoch]), [['rekey', 1], ['send', 1]], 'nothing written in epoch 0');
    assert.equal(send.epoch, 1);
    assert.equal(tab.keys.hasKey(CONVERSATION, 1), true, 'with a key of its own');
  } finally {
    tab.close();
  }
});

test('a message written offline after the restore waits for a new epoch, then goes in it', async (t) => {
  const { tab, tick } = await inEpochOne(t, (tab) => [
    tab.stored({ seq: 1, epoch: 0 }),
    tab.stored({ seq: 2, epoch: 1 }),
  ]);
  try {
    tab.forgetEpochsFrom(1);
    tab.conversation.last_seq = 1;
    await tab.reconnect({ generation: AFTER, tick });
    const first = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 1, restored_at: 1 }));
    const second = await syncRequest(tab, 1);
    tab.ws.deliver(syncReply(second, { messages: [], last_seq: 1, restored_at: 1 }));
    await flush();

    // Offline: no new epoch can begin now, so the message waits for one.
    tab.ws.drop(1006);
    await flush();
    const id = await tab.messenger.sendText(CONVERSATION, 'written offline');
    assert.equal(tab.messenger.outbox.get(id).state, 'queued');
    tick(1000);
    tab.ws.deliver(readyFrame(AFTER));
    const sync = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(sync, { messages: [], last_seq: 1 }));
    const rekey = await acceptRekey(tab);
    const send = await waitFor(() => tab.ws.sentOf('send')[0]);
    assert.equal(rekey.epoch, 1);
    assert.deepEqual(writes(tab).map((f) => [f.type, f.epoch]), [['rekey', 1], ['send', 1]], 'never sent in epoch 0');
    assert.equal(send.client_message_id, id);
  } finally {
    tab.close();
  }
});

test('its own message lost with its epoch goes again sealed in a new epoch, under its id', async (t) => {
  const { tab, tick } = await inEpochOne(t, (tab) => [tab.stored({ seq: 1, epoch: 0 })]);
  try {
    const id = await tab.messenger.sendText(CONVERSATION, 'mine, in epoch 1');
    const [sent] = tab.ws.sentOf('send');
    assert.equal(sent.epoch, 1);
    tab.ws.deliver(tab.ackOf(sent, 2));
    await flush();

    tab.forgetEpochsFrom(1);
    tab.conversation.last_seq = 1;
    await tab.reconnect({ generation: AFTER, tick });
    const first = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 1, restored_at: 1 }));
    const rekey = await acceptRekey(tab);
    const again = await waitFor(() => tab.ws.sentOf('send')[0]);

    assert.equal(rekey.epoch, 1);
    assert.deepEqual(writes(tab).map((f) => [f.type, f.epoch]), [['rekey', 1], ['send', 1]], 'a new epoch first');
    assert.equal(again.client_message_id, id, 'the same message');
    assert.notEqual(again.ciphertext, sent.ciphertext, 'sealed again: its epoch’s key is gone');
    tab.ws.deliver(tab.ackOf(again, 2));
    await flush();
    assert.equal(tab.messenger.outbox.size, 0);
    const conversation = tab.messenger.conversations.get(CONVERSATION);
    assert.deepEqual([conversation.restore.resent, conversation.restore.lost], [1, 1]);
  } finally {
    tab.close();
  }
});

test('without a restore seen, an older epoch listed as current is still not taken', async (t) => {
  const { tab, tick } = await inEpochOne(t, (tab) => [
    tab.stored({ seq: 1, epoch: 0 }),
    tab.stored({ seq: 2, epoch: 1 }),
  ]);
  try {
    // The listing goes back to epoch 0, but nothing held is lost and no generation is new.
    tab.forgetEpochsFrom(1);
    await tab.reconnect({ generation: BEFORE, tick });
    const first = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 2 }));
    await flush();
    const conversation = tab.messenger.conversations.get(CONVERSATION);
    assert.equal(conversation.currentEpoch, 1);
    assert.equal(tab.keys.hasKey(CONVERSATION, 1), true);
    await tab.messenger.sendText(CONVERSATION, 'still in epoch 1');
    assert.deepEqual(writes(tab).map((f) => [f.type, f.epoch]), [['send', 1]]);
  } finally {
    tab.close();
  }
});
