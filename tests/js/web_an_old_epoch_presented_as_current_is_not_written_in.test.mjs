// An epoch's version-2 envelope signs when it began (crypto/SPEC.md, "Version 2: the
// epoch's time and key, signed"). The browser takes the epoch's age from that, not from
// what the server reports: an old epoch presented as current (the server saying it began
// just now) begins a new epoch before the next message; and a server claiming the epoch
// is full cannot force a new one.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, flush, signedInTab } from './_app_support.mjs';

const DAY = 86_400_000;

test('an epoch signed eight days old begins a new one, whatever the server says', async () => {
  const tab = await signedInTab({
    createdAt: Date.now() - 8 * DAY,
    listing: { epoch_started_at: new Date().toISOString(), epoch_messages: 0 },
  });
  try {
    await tab.connect();
    const sending = tab.messenger.sendText(CONVERSATION, 'not under the old key');
    await flush();
    const [rekey] = tab.ws.sentOf('rekey');
    assert.equal(rekey?.epoch, 1, 'a new epoch first');
    assert.deepEqual(tab.ws.sentOf('send'), [], 'nothing sealed under the old one');
    sending.catch(() => {});
  } finally {
    tab.close();
  }
});

test('an epoch signed an hour old is kept, though the server says it is old and full', async () => {
  const tab = await signedInTab({
    createdAt: Date.now() - 3_600_000,
    listing: { epoch_started_at: new Date(Date.now() - 30 * DAY).toISOString(), epoch_messages: 500 },
  });
  try {
    await tab.connect();
    await tab.messenger.sendText(CONVERSATION, 'under the current key');
    await flush();
    assert.deepEqual(tab.ws.sentOf('rekey'), [], 'the server cannot force a rotation');
    const [send] = tab.ws.sentOf('send');
    assert.equal(send.epoch, 0);
  } finally {
    tab.close();
  }
});

test('a version-1 epoch, which signs no time, still takes the server at its word', async () => {
  const tab = await signedInTab({
    listing: { epoch_started_at: new Date(Date.now() - 8 * DAY).toISOString() },
  });
  try {
    await tab.connect();
    const sending = tab.messenger.sendText(CONVERSATION, 'after a week');
    await flush();
    assert.equal(tab.ws.sentOf('rekey').length, 1);
    sending.catch(() => {});
  } finally {
    tab.close();
  }
});
