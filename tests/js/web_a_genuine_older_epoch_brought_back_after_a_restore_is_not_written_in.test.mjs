// After a restore of the server from a backup the page takes the older epoch the server
// lists, forgets the keys of the later ones, and writes nothing new in the older one
// (web_the_older_epoch_of_a_restored_server_is_not_written_in). A server must not get
// round that in two steps: restore to epoch 0 while the page held epoch 2, then bring
// back epoch 1 with its genuine old envelope, by an `epoch` event or in a later listing,
// above the epoch it listed. No epoch up to the highest the page held before the restore
// is written in unless its envelope signs a start after the restore was seen, so the next
// message begins a new epoch first. An epoch the therapist begins after the restore, whose
// envelope says so, is written in like any other.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { confide } from './_support.mjs';
import { CONVERSATION, PEER, flush, signedInTab, syncReply, syncRequest, waitFor } from './_app_support.mjs';

const BEFORE = 'f6'.repeat(16);
const AFTER = '07'.repeat(16);
/** When the epochs of before the restore began, as their envelopes sign it. */
const AN_HOUR_AGO = Date.now() - 3_600_000;

/**
 * A tab that held epochs 0, 1 and 2 (messages 1, 2 and 3 in them), then saw the server
 * restored to message 1 and epoch 0. Returns it with epoch 1's genuine old envelope.
 * `createdAt` null: envelopes of version 1, which sign no time.
 */
async function restoredFromEpochTwo(t, { createdAt = AN_HOUR_AGO } = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tick = (/** @type {number} */ ms) => t.mock.timers.tick(ms);
  const tab = await signedInTab({ createdAt });
  tab.beginEpoch(1);
  tab.beginEpoch(2);
  await tab.connect({ generation: BEFORE });
  await tab.open([
    tab.stored({ seq: 1, epoch: 0 }),
    tab.stored({ seq: 2, epoch: 1 }),
    tab.stored({ seq: 3, epoch: 2 }),
  ]);
  const epochOne = tab.conversation.envelopes.find((item) => item.epoch === 1);

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
  assert.equal(tab.keys.hasKey(CONVERSATION, 1), false, 'the later epochs’ keys are forgotten');
  return { tab, conversation, epochOne, tick };
}

/** The server lists epoch 1 again as current, with `envelope`. */
function listEpochOne(tab, envelope) {
  tab.conversation.current_epoch = 1;
  tab.conversation.envelopes.push(envelope);
}

/** Send a message, answering a `rekey` if the page begins one; resolves to what it wrote. */
async function write(tab, text) {
  const sending = tab.messenger.sendText(CONVERSATION, text);
  await flush();
  const rekey = tab.ws.sentOf('rekey')[0];
  if (rekey) {
    tab.conversation.current_epoch = rekey.epoch;
    tab.ws.deliver({ type: 'rekey_ok', ref: rekey.ref, conversation: CONVERSATION, epoch: rekey.epoch });
  }
  await sending;
  await waitFor(() => tab.ws.sentOf('send')[0]);
  return tab.ws.sent
    .filter((frame) => frame.type === 'send' || frame.type === 'rekey')
    .map((frame) => [frame.type, frame.epoch]);
}

for (const [createdAt, signs] of [[AN_HOUR_AGO, 'signing its old start'], [null, 'signing no start']]) {
  test(`an older epoch brought back by an epoch event (its envelope ${signs}) is not written in`, async (t) => {
    const { tab, conversation, epochOne } = await restoredFromEpochTwo(t, { createdAt });
    try {
      listEpochOne(tab, epochOne);
      tab.ws.deliver({ type: 'epoch', conversation: CONVERSATION, epoch: 1, wrapper: PEER, envelope: epochOne.envelope });
      await flush();
      assert.equal(conversation.currentEpoch, 1, 'taken as current: it is above the epoch listed');
      assert.equal(tab.keys.hasKey(CONVERSATION, 1), true, 'its genuine old key');

      const written = await write(tab, 'after the restore');
      assert.deepEqual(written, [['rekey', 2], ['send', 2]], 'a new epoch first: nothing written in epoch 1');
    } finally {
      tab.close();
    }
  });
}

test('an older epoch brought back in a later listing is not written in', async (t) => {
  const { tab, conversation, epochOne, tick } = await restoredFromEpochTwo(t);
  try {
    listEpochOne(tab, epochOne);
    // The next connection lists the conversations again.
    await tab.reconnect({ generation: AFTER, tick });
    const sync = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(sync, { messages: [], last_seq: 1 }));
    await flush();
    assert.equal(conversation.currentEpoch, 1);
    assert.equal(tab.keys.hasKey(CONVERSATION, 1), true);

    const written = await write(tab, 'after the restore');
    assert.deepEqual(written, [['rekey', 2], ['send', 2]], 'a new epoch first: nothing written in epoch 1');
  } finally {
    tab.close();
  }
});

test('an epoch the therapist begins after the restore is written in', async (t) => {
  const { tab, conversation } = await restoredFromEpochTwo(t);
  try {
    const key = confide.ConversationKey.generate();
    const envelope = confide.b64encode(
      confide.wrapConversationKey(key, CONVERSATION, 1, tab.mine.public, tab.theirs, Date.now()),
    );
    listEpochOne(tab, { epoch: 1, wrapper: PEER, envelope });
    tab.ws.deliver({ type: 'epoch', conversation: CONVERSATION, epoch: 1, wrapper: PEER, envelope });
    await flush();
    assert.equal(conversation.currentEpoch, 1);

    const written = await write(tab, 'in the therapist’s new epoch');
    assert.deepEqual(written, [['send', 1]], 'no new epoch needed');
  } finally {
    tab.close();
  }
});
