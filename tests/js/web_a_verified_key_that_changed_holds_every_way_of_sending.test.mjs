// A peer whose verified key changed (crypto/SPEC.md, "Pins") gets nothing from this tab
// until the person compares again or accepts the change: not a new message, not a message
// resealed after `stale_epoch`, not a Retry, and no new epoch wrapped to the new key.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, PEER, flush, signedInTab } from './_app_support.mjs';

const { VerifiedKeyChangedError } = await import(
  '../../frontend/static/frontend/src/app/messenger.js'
);

test('nothing is sealed, sent or rekeyed while a verified key that changed is held', async () => {
  const tab = await signedInTab();
  try {
    // The person verified another key for the therapist before this sign-in.
    tab.seen.verify(PEER, 'the key compared in person');
    await tab.connect();
    const conversation = tab.messenger.conversations.get(CONVERSATION);
    assert.equal(conversation.identityChanged?.verified, true);
    await assert.rejects(tab.messenger.sendText(CONVERSATION, 'held'), VerifiedKeyChangedError);
    assert.deepEqual(tab.ws.sentOf('send'), []);
    assert.deepEqual(tab.ws.sentOf('rekey'), []);
    assert.deepEqual(tab.messenger.pending(CONVERSATION), []);

    // Accepting the new key releases it: the next message begins a new epoch first.
    tab.messenger.acknowledgeIdentity(CONVERSATION);
    const sending = tab.messenger.sendText(CONVERSATION, 'after accepting');
    await flush();
    assert.equal(tab.ws.sentOf('rekey').length, 1);
    sending.catch(() => {});
  } finally {
    tab.close();
  }
});

test('a message refused with stale_epoch is not resealed once the listing finds the hold', async () => {
  const tab = await signedInTab();
  try {
    await tab.connect();
    const id = await tab.messenger.sendText(CONVERSATION, 'sealed before the change');
    const [frame] = tab.ws.sentOf('send');
    // Meanwhile the person verified another key: the refresh the reseal makes finds it.
    tab.seen.verify(PEER, 'the key compared in person');
    tab.ws.deliver({
      type: 'error',
      ref: frame.ref,
      code: 'stale_epoch',
      message: 'A newer epoch began.',
      conversation: CONVERSATION,
      client_message_id: id,
    });
    await flush();
    await flush();
    assert.equal(tab.ws.sentOf('send').length, 1, 'not sent again');
    const [pending] = tab.messenger.pending(CONVERSATION);
    assert.equal(pending.state, 'failed');
    assert.equal(pending.error, 'verified_key_changed');
    await tab.messenger.retry(id).catch((error) => assert.ok(error instanceof VerifiedKeyChangedError));
    assert.equal(tab.ws.sentOf('send').length, 1, 'a retry is held too');
  } finally {
    tab.close();
  }
});
