// The listing carries an envelope for every epoch of every conversation: after years of
// weekly rotation, thousands. The page opens the current epoch's key at once (it seals
// with it), and an earlier epoch's only when one of its messages is first read, so that
// the sign-in does not freeze the page opening them all. A message of an earlier epoch
// reads exactly as before.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, signedInTab } from './_app_support.mjs';

test('only the current epoch is opened at sign-in; an earlier one when its message is read', async () => {
  const tab = await signedInTab();
  try {
    tab.beginEpoch(1);
    tab.beginEpoch(2);
    await tab.connect();
    const ring = tab.keys.ring;
    assert.deepEqual([0, 1, 2].map((epoch) => ring.has(CONVERSATION, epoch)), [false, false, true]);

    const timeline = await tab.open([
      tab.stored({ seq: 1, epoch: 0, text: 'from the first week' }),
      tab.stored({ seq: 2, epoch: 2, text: 'from this week' }),
    ]);
    assert.deepEqual(timeline.sorted().map((m) => m.text), ['from the first week', 'from this week']);
    assert.deepEqual([0, 1, 2].map((epoch) => ring.has(CONVERSATION, epoch)), [true, false, true]);
  } finally {
    tab.close();
  }
});

test('an earlier epoch whose envelope does not open shows its messages as unopenable, and the rest read', async () => {
  const tab = await signedInTab();
  try {
    tab.beginEpoch(1);
    // The server lists another epoch's envelope under epoch 0.
    tab.conversation.envelopes[0] = { ...tab.conversation.envelopes[1], epoch: 0 };
    await tab.connect();
    const timeline = await tab.open([
      tab.stored({ seq: 1, epoch: 0 }),
      tab.stored({ seq: 2, epoch: 1, text: 'readable' }),
    ]);
    const [first, second] = timeline.sorted();
    assert.equal(first.text, null);
    assert.ok(first.problem);
    assert.equal(second.text, 'readable');
  } finally {
    tab.close();
  }
});
