// A restore of the server's database from a backup moves it back in time (docs/protocol.md,
// "Restores"): the `ready` names a new database generation, and each sync page says where
// its conversation was restored to (`restored_at`). What this page held above that number
// is gone from the server, even when new messages have taken the same numbers since. The
// page keeps showing it, follows the conversation again from the restored point (so the
// new messages are not taken for ones it holds), sends its own lost message again with the
// same id and bytes, shows the other member's once when their device sends it again, and
// says what happened in the conversation.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, appModule, flush, signedInTab, syncReply, syncRequest, waitFor } from './_app_support.mjs';

const { restoreNoticeText } = await appModule('views/conversation.js');

const BEFORE = 'a1'.repeat(16);
const AFTER = 'b2'.repeat(16);

/**
 * A tab connected under the `BEFORE` generation holding 1 and 2 from the therapist, its own
 * message 3 (acknowledged) and the therapist's 4.
 */
async function holdingFour(t) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  await tab.connect({ generation: BEFORE });
  const timeline = await tab.open([tab.stored({ seq: 1 }), tab.stored({ seq: 2 })]);
  const id = await tab.messenger.sendText(CONVERSATION, 'mine, before the restore');
  const [send] = tab.ws.sentOf('send');
  tab.ws.deliver(tab.ackOf(send, 3));
  const theirs = tab.stored({ seq: 4, text: 'theirs, before the restore' });
  tab.ws.deliver(theirs);
  await flush();
  assert.deepEqual(timeline.sorted().map((m) => m.seq), [1, 2, 3, 4]);
  const tick = (/** @type {number} */ ms) => t.mock.timers.tick(ms);
  return { tab, timeline, id, send, theirs, tick };
}

test('messages held above the restored point stay shown once, and new ones under their numbers are taken', async (t) => {
  const { tab, timeline, id, send, theirs, tick } = await holdingFour(t);
  try {
    // The server was restored to 2; since then the therapist wrote two messages, 3 and 4.
    tab.conversation.last_seq = 4;
    await tab.reconnect({ generation: AFTER, tick });
    const first = await syncRequest(tab, 0);
    assert.deepEqual(first.after, { [CONVERSATION]: 4 });
    const events = tab.events.length;
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 4, restored_at: 2 }));

    const second = await syncRequest(tab, 1);
    assert.deepEqual(second.after, { [CONVERSATION]: 2 }, 'followed again from the restored point');
    const again = await waitFor(() => tab.ws.sentOf('send')[0]);
    assert.deepEqual(
      [again.client_message_id, again.epoch, again.ciphertext],
      [id, send.epoch, send.ciphertext],
      'its own lost message goes again: the same id and the same bytes',
    );

    const newer = [
      tab.stored({ seq: 3, text: 'new 3, after the restore' }),
      tab.stored({ seq: 4, text: 'new 4, after the restore' }),
    ];
    tab.ws.deliver(syncReply(second, { messages: newer, last_seq: 4, restored_at: 2 }));
    await flush();
    tab.ws.deliver(tab.ackOf(again, 5));
    // The therapist's device sends their lost message again: the same bytes, a new number.
    tab.ws.deliver({ ...theirs, seq: 6 });
    await waitFor(() => timeline.has(6));

    assert.deepEqual(
      timeline.sorted().map((m) => m.text),
      [
        'message 1',
        'message 2',
        'mine, before the restore',
        'theirs, before the restore',
        'new 3, after the restore',
        'new 4, after the restore',
      ],
      'nothing disappears, nothing shows twice, and the new messages are there',
    );
    assert.deepEqual(timeline.sorted().map((m) => Boolean(m.lost)), [false, false, true, true, false, false]);
    assert.deepEqual(tab.events.slice(events).filter((e) => e.type === 'incoming'), [], 'the message sent again is not announced again');
    assert.equal(tab.messenger.outbox.size, 0, 'settled by its new ack');
    assert.deepEqual(tab.messenger.pending(CONVERSATION), []);
    const conversation = tab.messenger.conversations.get(CONVERSATION);
    const [mine, lostTheirs] = timeline.sorted().filter((m) => m.lost);
    assert.deepEqual(tab.messenger.lostState(conversation, mine), { state: 'sent', error: null });
    assert.deepEqual(tab.messenger.lostState(conversation, lostTheirs), { state: null, error: null });
    assert.equal(conversation.lastSeq, 6);
    assert.equal(conversation.unread, 2, 'the two new messages, and not the one sent again');

    assert.equal(tab.events.filter((e) => e.type === 'restored').length, 1);
    assert.deepEqual(conversation.restore, {
      restoredAt: 2, lost: 2, theirs: 1, resent: 1, notResent: 0, keysChanged: 0, announced: true,
    });
    assert.equal(
      restoreNoticeText(conversation.restore, 'Theo Therapist'),
      "The portal's server says it was restored from a backup: the last 2 messages of this conversation are no longer on it. " +
        'This browser still shows them. Yours is being sent again. ' +
        "The one from Theo Therapist comes back when Theo Therapist's device connects again.",
    );
  } finally {
    tab.close();
  }
});

test('under the same generation, a page that says where a restore went is not a restore', async (t) => {
  const { tab, timeline, tick } = await holdingFour(t);
  try {
    tab.conversation.last_seq = 4;
    await tab.reconnect({ generation: BEFORE, tick });
    const first = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 4, restored_at: 2 }));
    await flush();
    await flush();
    assert.equal(tab.events.filter((e) => e.type === 'restored').length, 0);
    assert.deepEqual(tab.ws.sentOf('send'), [], 'nothing goes again');
    assert.deepEqual(tab.ws.sentOf('sync').length, 1, 'nothing is asked again');
    assert.equal(tab.messenger.conversations.get(CONVERSATION).restore, null);
    assert.deepEqual(timeline.sorted().map((m) => [m.seq, Boolean(m.lost)]), [[1, false], [2, false], [3, false], [4, false]]);
  } finally {
    tab.close();
  }
});
