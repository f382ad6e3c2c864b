// A conversation's messages go out in the order they were written, one in flight at a
// time, so the server numbers them in that order: one refused with `rate_limited` holds back
// those written after it (none of them is already on its way to be stored first), and a
// message written meanwhile waits behind it.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, flush, signedInTab } from './_app_support.mjs';

/** The client message ids of the send frames sent so far, after the first `skip`. */
function sentIds(tab, skip) {
  return tab.ws.sentOf('send').slice(skip).map((frame) => frame.client_message_id);
}

test('a conversation has one message in flight: the next goes when the first is acked', async () => {
  const tab = await signedInTab();
  try {
    await tab.connect();
    const ids = [];
    for (const n of [1, 2, 3]) ids.push(await tab.messenger.sendText(CONVERSATION, `part ${n}`));
    assert.deepEqual(sentIds(tab, 0), [ids[0]], 'the later ones wait for its ack');
    assert.deepEqual(
      tab.messenger.pending(CONVERSATION).map((m) => m.state),
      ['sending', 'queued', 'queued'],
    );
    for (const [n, id] of ids.entries()) {
      const frame = tab.ws.sentOf('send').find((f) => f.client_message_id === id);
      tab.ws.deliver(tab.ackOf(frame, n + 1));
      await flush();
    }
    assert.deepEqual(sentIds(tab, 0), ids, 'each after the ack of the one before');
    assert.deepEqual(tab.messenger.pending(CONVERSATION), []);
  } finally {
    tab.close();
  }
});

test('nothing written later can be stored before a message refused with rate_limited', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  try {
    await tab.connect();
    const ids = [];
    for (const n of [1, 2, 3]) ids.push(await tab.messenger.sendText(CONVERSATION, `part ${n}`));
    const [first] = tab.ws.sentOf('send');
    tab.ws.deliver({ type: 'error', ref: first.ref, code: 'rate_limited', message: 'Slow down.', retry_after_ms: 300 });
    await flush();
    const fourth = await tab.messenger.sendText(CONVERSATION, 'part 4');
    t.mock.timers.tick(250);
    await flush();
    assert.deepEqual(sentIds(tab, 1), [], 'nothing overtakes the first, still waiting');
    t.mock.timers.tick(100);
    await flush();
    assert.deepEqual(sentIds(tab, 1), [ids[0]], 'the first goes again, alone');
    for (const [n, id] of [...ids, fourth].entries()) {
      const frame = tab.ws.sentOf('send').slice(1).find((f) => f.client_message_id === id);
      assert.ok(frame, `part ${n + 1} was sent`);
      tab.ws.deliver(tab.ackOf(frame, n + 1));
      await flush();
    }
    assert.deepEqual(sentIds(tab, 1), [...ids, fourth], 'then the rest, in the order written');
  } finally {
    tab.close();
  }
});

test('a message written while an earlier one waits out its pause is held behind it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  try {
    await tab.connect();
    await tab.messenger.sendText(CONVERSATION, 'refused');
    const [first] = tab.ws.sentOf('send');
    tab.ws.deliver({ type: 'error', ref: first.ref, code: 'rate_limited', message: 'Slow down.', retry_after_ms: 5_000 });
    await flush();
    const later = await tab.messenger.sendText(CONVERSATION, 'held');
    assert.deepEqual(sentIds(tab, 1), [], 'the same conversation waits');
    assert.equal(tab.messenger.pending(CONVERSATION).find((p) => p.clientMessageId === later).state, 'queued');
  } finally {
    tab.close();
  }
});

test('two messages written in quick succession are queued in that order, whatever the first waits for', async () => {
  // Epoch 0 signed an hour ago, with 60 messages the page has only partly loaded: before
  // sealing the first message, its count of the epoch asks for an older page.
  const tab = await signedInTab({
    createdAt: Date.now() - 3_600_000,
    listing: { last_seq: 60, epoch_messages: 60 },
  });
  try {
    await tab.connect();
    const opening = tab.messenger.open(CONVERSATION);
    await flush();
    const [newest] = tab.ws.sentOf('history');
    const page = [];
    for (let seq = 11; seq <= 60; seq += 1) page.push(tab.stored({ seq }));
    tab.ws.deliver({ type: 'history', ref: newest.ref, conversation: CONVERSATION, messages: page, has_more: true, last_seq: 60 });
    await opening;
    await flush();

    // Written as a person types them: the second before the first has been sealed.
    const first = tab.messenger.sendText(CONVERSATION, 'written first');
    const second = tab.messenger.sendText(CONVERSATION, 'written second');
    await flush();
    const older = tab.ws.sentOf('history').slice(1);
    assert.equal(older.length, 1, 'the first waits for the older page');
    assert.deepEqual(sentIds(tab, 0), [], 'and the second waits behind it');
    const before = [];
    for (let seq = 1; seq <= 10; seq += 1) before.push(tab.stored({ seq }));
    tab.ws.deliver({ type: 'history', ref: older[0].ref, conversation: CONVERSATION, messages: before, has_more: false, last_seq: 60 });
    const ids = [await first, await second];
    await flush();
    assert.deepEqual(sentIds(tab, 0), [ids[0]], 'the first goes first');
    const [sent] = tab.ws.sentOf('send');
    tab.ws.deliver(tab.ackOf(sent, 61));
    await flush();
    assert.deepEqual(sentIds(tab, 0), ids, 'then the second, after its ack');
    assert.deepEqual(
      tab.messenger.pending(CONVERSATION).map((m) => m.text),
      ['written second'],
    );
  } finally {
    tab.close();
  }
});
