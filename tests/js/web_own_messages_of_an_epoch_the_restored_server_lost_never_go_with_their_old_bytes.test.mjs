// A server restored from a backup to epoch 0 lost epoch 1, and numbers its next epoch 1
// again, with a new key. It checks only a message's epoch number: once the page (or the
// therapist) has begun the new epoch 1, it would store bytes sealed under the old epoch 1
// key, which nobody can read any more. So none of the page's own messages sealed in the
// lost epoch goes with its old bytes after the restore is seen: neither those it sends
// again (lost with the restore), nor one still waiting in the outbox. Each is sealed again
// under the same id in the new epoch, and the therapist can read every one stored.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { confide } from './_support.mjs';
import { CONVERSATION, PEER, flush, readyFrame, signedInTab } from './_app_support.mjs';

const BEFORE = '18'.repeat(16);
const AFTER = '29'.repeat(16);

/**
 * The server's side, from the frames the page sent since `from`: a `send` is stored when
 * its epoch is the current one (as the server checks it: by number) and refused with
 * `stale_epoch` otherwise; a `rekey` to the next epoch begins it; a `sync` is answered
 * by `syncPage`. Returns the number of frames handled.
 */
async function serve(tab, server, from) {
  let handled = from;
  for (let round = 0; round < 200; round += 1) {
    const frame = tab.ws.sent[handled];
    if (!frame) {
      await flush();
      if (!tab.ws.sent[handled]) break;
      continue;
    }
    handled += 1;
    if (frame.type === 'send') {
      if (frame.epoch === tab.conversation.current_epoch) {
        server.stored.push(frame);
        tab.conversation.last_seq += 1;
        tab.ws.deliver(tab.ackOf(frame, tab.conversation.last_seq));
      } else {
        tab.ws.deliver({
          type: 'error', ref: frame.ref, code: 'stale_epoch', message: 'Not the current epoch.',
          conversation: CONVERSATION, client_message_id: frame.client_message_id,
        });
      }
    } else if (frame.type === 'rekey' && frame.epoch === tab.conversation.current_epoch + 1) {
      server.rekeys.push(frame);
      tab.conversation.current_epoch = frame.epoch;
      tab.ws.deliver({ type: 'rekey_ok', ref: frame.ref, conversation: CONVERSATION, epoch: frame.epoch });
    } else if (frame.type === 'sync') {
      tab.ws.deliver({
        type: 'sync', ref: frame.ref,
        conversations: [{ conversation: CONVERSATION, messages: [], has_more: false, last_seq: tab.conversation.last_seq, restored_at: 1 }],
      });
    }
    await flush();
  }
  return handled;
}

test('own messages of an epoch the restored server lost are sealed again, never sent with their old bytes', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  try {
    tab.beginEpoch(1);
    await tab.connect({ generation: BEFORE });
    await tab.open([tab.stored({ seq: 1, epoch: 0 })]);
    // Two of its own stored in epoch 1 (2 and 3), and a third written but not yet stored.
    /** @type {Map<string, {text: string, ciphertext: string}>} */
    const written = new Map();
    for (const [seq, text] of [[2, 'lost, two'], [3, 'lost, three']]) {
      const id = await tab.messenger.sendText(CONVERSATION, text);
      const send = tab.ws.sentOf('send').at(-1);
      assert.equal(send.epoch, 1);
      written.set(id, { text, ciphertext: send.ciphertext });
      tab.ws.deliver(tab.ackOf(send, seq));
      await flush();
    }
    tab.ws.drop(1006);
    await flush();
    const waiting = await tab.messenger.sendText(CONVERSATION, 'waiting');
    assert.equal(tab.messenger.outbox.get(waiting).epoch, 1);
    written.set(waiting, { text: 'waiting', ciphertext: tab.messenger.outbox.get(waiting).ciphertext });
    const old = new Set([...written.values()].map((message) => message.ciphertext));

    // Restored to message 1 and epoch 0; the page comes back under the new generation.
    tab.forgetEpochsFrom(1);
    tab.conversation.last_seq = 1;
    t.mock.timers.tick(1000);
    const server = { stored: [], rekeys: [] };
    tab.ws.deliver(readyFrame(AFTER));
    await serve(tab, server, 0);

    // The waiting message went once at `ready`, before the restore was seen: refused, as
    // the server was then in epoch 0. From the moment it was seen, no old bytes go.
    const sends = tab.ws.sentOf('send');
    const seen = sends.findIndex((frame) => !old.has(frame.ciphertext));
    assert.deepEqual(
      sends.filter((frame, index) => index >= seen && old.has(frame.ciphertext)).map((f) => written.get(f.client_message_id).text),
      [],
      'no bytes of the lost epoch 1 go after the restore is seen',
    );
    assert.deepEqual(
      sends.slice(0, seen).map((frame) => frame.client_message_id),
      [waiting],
      'before that, only the waiting message, once, before the restore was seen',
    );

    assert.equal(server.rekeys.length, 1, 'one new epoch 1');
    assert.equal(tab.messenger.outbox.size, 0, 'every one stored');
    assert.deepEqual(
      server.stored.map((frame) => frame.client_message_id).sort(),
      [...written.keys()].sort(),
      'each under its own id',
    );
    // The therapist opens every message stored with the new epoch 1's key.
    const envelope = server.rekeys[0].envelopes.find((item) => item.recipient === PEER).envelope;
    const key = confide.unwrapConversationKey(confide.b64decode(envelope), tab.theirs, tab.mine.public, CONVERSATION, 1);
    for (const frame of server.stored) {
      assert.equal(frame.epoch, 1);
      assert.ok(!old.has(frame.ciphertext), 'sealed again');
      const text = confide.openText(confide.b64decode(frame.ciphertext), key, tab.mine.public, CONVERSATION, 1, frame.client_message_id);
      assert.equal(text, written.get(frame.client_message_id).text);
    }
    const conversation = tab.messenger.conversations.get(CONVERSATION);
    assert.deepEqual([conversation.restore.lost, conversation.restore.resent, conversation.restore.keysChanged], [2, 2, 0]);
  } finally {
    tab.close();
  }
});
