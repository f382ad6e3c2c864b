// A conversation's messages go out in the order they were written, so the server numbers
// them in that order: one refused with `rate_limited` holds back those written after it,
// even when theirs is the shorter wait, and a message written meanwhile waits behind it.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, flush, signedInTab } from './_app_support.mjs';

/** The client message ids of the send frames sent so far, after the first `skip`. */
function sentIds(tab, skip) {
  return tab.ws.sentOf('send').slice(skip).map((frame) => frame.client_message_id);
}

test('resends after rate_limited keep the order written, whatever their waits', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  try {
    await tab.connect();
    const ids = [];
    for (const n of [1, 2, 3]) ids.push(await tab.messenger.sendText(CONVERSATION, `part ${n}`));
    const sends = tab.ws.sentOf('send');
    assert.deepEqual(sends.map((f) => f.client_message_id), ids);
    // Each refusal tells a shorter wait than the one before (the server's bucket refills).
    for (const [frame, wait] of [[sends[0], 300], [sends[1], 200], [sends[2], 100]]) {
      tab.ws.deliver({ type: 'error', ref: frame.ref, code: 'rate_limited', message: 'Slow down.', retry_after_ms: wait });
    }
    await flush();
    const fourth = await tab.messenger.sendText(CONVERSATION, 'part 4');
    t.mock.timers.tick(250);
    await flush();
    assert.deepEqual(sentIds(tab, 3), [], 'nothing overtakes the first, still waiting');
    t.mock.timers.tick(100);
    await flush();
    assert.deepEqual(sentIds(tab, 3), [...ids, fourth], 'then all of them, in the order written');
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
