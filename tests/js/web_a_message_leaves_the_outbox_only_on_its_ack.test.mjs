// A sent message leaves the outbox only on its `ack`: the reply to its send request, or an
// ack that comes after that request gave up. The person's own message pushed or synced
// back is just a message: it goes into the timeline (opened with their own identity) and
// settles nothing, and while both hold it the view shows it once.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, ME, flush, signedInTab } from './_app_support.mjs';

const { ACK_TIMEOUT_MS } = await import(
  new URL('../../frontend/static/frontend/src/app/delivery.js', import.meta.url).href
);

/**
 * A connected tab with the conversation open (holding `history`), and `text` sent: its
 * send frame is not answered yet. With `t`, the test's timers are mocked first.
 */
async function sentOnce(text, t = null, history = () => []) {
  if (t) t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  await tab.connect();
  const timeline = await tab.open(history(tab));
  const id = await tab.messenger.sendText(CONVERSATION, text);
  const [send] = tab.ws.sentOf('send');
  return { tab, timeline, id, send };
}

test('the own message pushed before its ack goes into the timeline and does not settle the entry', async () => {
  const { tab, timeline, id, send } = await sentOnce('pushed first');
  try {
    tab.ws.deliver(tab.pushOf(send, 1));
    await flush();
    assert.equal(tab.messenger.outbox.has(id), true, 'still waiting for its ack');
    const held = timeline.get(1);
    assert.deepEqual([held.sender, held.text, held.problem], [ME, 'pushed first', null], 'opened with the own identity');
    assert.deepEqual(tab.messenger.pending(CONVERSATION), [], 'shown once: as held, not as pending');
  } finally {
    tab.close();
  }
});

test('the ack settles the entry, once', async () => {
  const { tab, timeline, id, send } = await sentOnce('acked');
  try {
    tab.ws.deliver(tab.pushOf(send, 1));
    await flush();
    tab.ws.deliver(tab.ackOf(send, 1));
    await flush();
    assert.equal(tab.messenger.outbox.has(id), false);
    assert.equal(tab.storage.getItem(`confide.outbox.${ME}`), null);
    assert.deepEqual(timeline.sorted().map((m) => [m.seq, m.text]), [[1, 'acked']]);
    // The same ack again (a resend's duplicate) finds nothing to settle and changes nothing.
    const events = tab.events.length;
    tab.ws.deliver(tab.ackOf(send, 1, { duplicate: true, ref: null }));
    await flush();
    assert.deepEqual(tab.events.slice(events), []);
    assert.equal(timeline.size, 1);
  } finally {
    tab.close();
  }
});

test('an ack before the push settles the entry and holds the message with its text', async () => {
  const { tab, timeline, id, send } = await sentOnce('acked first');
  try {
    tab.ws.deliver(tab.ackOf(send, 1));
    await flush();
    assert.equal(tab.messenger.outbox.has(id), false);
    assert.deepEqual([timeline.get(1).text, timeline.get(1).sender], ['acked first', ME]);
    tab.ws.deliver(tab.pushOf(send, 1));
    await flush();
    assert.equal(timeline.sorted().length, 1, 'the push that follows changes nothing');
  } finally {
    tab.close();
  }
});

test('the own message in a sync page does not settle the entry either', async () => {
  const { tab, timeline, id, send } = await sentOnce('synced', null, (tab) => [tab.stored({ seq: 1 })]);
  try {
    // The push of seq 2 (this one) was lost; seq 3, the therapist's, makes the page sync.
    tab.ws.deliver(tab.stored({ seq: 3 }));
    await flush();
    const [sync] = tab.ws.sentOf('sync');
    tab.ws.deliver({
      type: 'sync', ref: sync.ref,
      conversations: [{ conversation: CONVERSATION, messages: [tab.pushOf(send, 2)], has_more: false, last_seq: 3 }],
    });
    await flush();
    assert.deepEqual(sync.after, { [CONVERSATION]: 1 });
    assert.equal(timeline.get(2).text, 'synced');
    assert.equal(tab.messenger.outbox.has(id), true);
    assert.deepEqual(tab.messenger.pending(CONVERSATION), []);
    tab.ws.deliver(tab.ackOf(send, 2));
    await flush();
    assert.equal(tab.messenger.outbox.has(id), false);
  } finally {
    tab.close();
  }
});

test('a late ack, after its request timed out, settles the entry too', async (t) => {
  const { tab, timeline, id, send } = await sentOnce('slow server', t);
  try {
    t.mock.timers.tick(ACK_TIMEOUT_MS);
    await flush();
    const resend = tab.ws.sentOf('send')[1];
    assert.equal(resend.ciphertext, send.ciphertext, 'sent again, same bytes');
    tab.ws.deliver(tab.ackOf(send, 1)); // the first request's ack: nobody waits for it
    await flush();
    assert.equal(tab.messenger.outbox.has(id), false);
    tab.ws.deliver(tab.ackOf(resend, 1, { duplicate: true }));
    await flush();
    assert.deepEqual(timeline.sorted().map((m) => m.text), ['slow server']);
  } finally {
    tab.close();
  }
});

test('a late ack settles a message that had stopped waiting (Not sent)', async (t) => {
  const { tab, id, send } = await sentOnce('given up', t);
  try {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      t.mock.timers.tick(ACK_TIMEOUT_MS);
      await flush();
    }
    assert.equal(tab.messenger.pending(CONVERSATION)[0].state, 'failed');
    tab.ws.deliver(tab.ackOf(send, 1, { ref: null }));
    await flush();
    assert.equal(tab.messenger.outbox.has(id), false);
    assert.deepEqual(tab.messenger.pending(CONVERSATION), []);
  } finally {
    tab.close();
  }
});

test('a message that stopped waiting but is seen stored is sent once more and settled by the duplicate ack', async (t) => {
  const { tab, timeline, id, send } = await sentOnce('stored after all', t);
  try {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      t.mock.timers.tick(ACK_TIMEOUT_MS);
      await flush();
    }
    assert.equal(tab.messenger.outbox.get(id).state, 'failed');
    const sends = tab.ws.sentOf('send').length;
    tab.ws.deliver(tab.pushOf(send, 1)); // its push: the server stored it after all
    await flush();
    assert.equal(timeline.get(1).text, 'stored after all');
    const again = tab.ws.sentOf('send');
    assert.equal(again.length, sends + 1, 'one more send');
    assert.equal(again.at(-1).ciphertext, send.ciphertext, 'of the same bytes');
    assert.equal(tab.messenger.outbox.has(id), true, 'not settled by the push');
    tab.ws.deliver(tab.ackOf(again.at(-1), 1, { duplicate: true }));
    await flush();
    assert.equal(tab.messenger.outbox.has(id), false);
    assert.deepEqual(timeline.sorted().map((m) => m.text), ['stored after all']);
  } finally {
    tab.close();
  }
});

test('a reply naming another conversation settles nothing, and the same bytes go again', async () => {
  const { tab, id, send } = await sentOnce('mine');
  try {
    const other = '00000000-0000-4000-8000-000000000000';
    tab.ws.deliver({ ...tab.ackOf(send, 1), conversation: other });
    await flush();
    assert.equal(tab.messenger.outbox.has(id), true);
    const [, resend] = tab.ws.sentOf('send');
    assert.equal(resend.ciphertext, send.ciphertext);
    tab.ws.deliver(tab.ackOf(resend, 1));
    await flush();
    assert.equal(tab.messenger.outbox.has(id), false);
  } finally {
    tab.close();
  }
});
