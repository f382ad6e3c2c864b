// A server can claim a restore it never had. One that first puts a key of its own in the
// therapist's place (an unverified key change only raises a warning), then lists fewer
// messages than the page holds, must not get the page's kept messages sealed to that key:
// each was written to the members' keys of then, and goes again only while they are the
// very same (ids and fingerprints). Otherwise it is not sent at all, and the conversation
// says how many of the person's were not sent again. A message sent again whose keys are
// replaced afterwards, when the server answers it with `stale_epoch` and lists an epoch
// wrapped by its own key, is not sealed again either: it is no longer on the server.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { confide } from './_support.mjs';
import { CONVERSATION, ME, PEER, appModule, flush, signedInTab, syncReply, syncRequest, waitFor } from './_app_support.mjs';

const { restoreNoticeText } = await appModule('views/conversation.js');

const b64 = confide.b64encode;

/** The server serves an identity of its own making as the therapist's. */
function replaceTherapistKey(tab) {
  const forged = confide.IdentityKeyPair.generate(null);
  const therapist = tab.conversation.members.find((member) => member.id === PEER);
  therapist.public_identity = b64(forged.public.toBytes());
  return forged;
}

/** A tab holding message 1 from the therapist, then its own 2 and 3, acknowledged. */
async function holdingTwoOfItsOwn(t, { epoch }) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  if (epoch === 1) tab.beginEpoch(1);
  await tab.connect();
  const timeline = await tab.open([tab.stored({ seq: 1, epoch: 0 })]);
  const sent = [];
  for (const [seq, text] of [[2, 'mine, two'], [3, 'mine, three']]) {
    await tab.messenger.sendText(CONVERSATION, text);
    const send = await waitFor(() => tab.ws.sentOf('send')[seq - 2]);
    assert.equal(send.epoch, epoch);
    tab.ws.deliver(tab.ackOf(send, seq));
    await flush();
    sent.push(send);
  }
  assert.deepEqual(timeline.sorted().map((m) => m.seq), [1, 2, 3]);
  const tick = (/** @type {number} */ ms) => t.mock.timers.tick(ms);
  return { tab, timeline, sent, tick };
}

for (const [epoch, how] of [
  [1, 'and its epoch: sealing them again would begin one wrapped to the new key'],
  [0, 'but not their epoch: not even their bytes go'],
]) test(`a restore claimed after the therapist’s key was replaced sends none of the kept messages (it took them ${how})`, async (t) => {
  const { tab, timeline, tick } = await holdingTwoOfItsOwn(t, { epoch });
  try {
    // The server's own key in the therapist's place, then a claimed restore to message 1
    // (and, from epoch 1, to epoch 0).
    replaceTherapistKey(tab);
    if (epoch === 1) tab.forgetEpochsFrom(1);
    tab.conversation.last_seq = 1;
    await tab.reconnect({ tick });
    const first = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 1 }));
    const second = await syncRequest(tab, 1);
    tab.ws.deliver(syncReply(second, { messages: [], last_seq: 1 }));
    await flush();
    await flush();

    const conversation = tab.messenger.conversations.get(CONVERSATION);
    assert.ok(conversation.identityChanged, 'the changed key is shown as a warning');
    assert.equal(conversation.identityChanged.verified, false, 'not a verified key: only a warning');
    assert.deepEqual(tab.ws.sentOf('rekey'), [], 'no epoch wrapped to the new key');
    assert.deepEqual(tab.ws.sentOf('send'), [], 'nothing sent again');
    assert.equal(tab.messenger.outbox.size, 0);
    assert.deepEqual(conversation.restore, {
      restoredAt: 1, lost: 2, theirs: 0, resent: 0, notResent: 0, keysChanged: 2, announced: false,
    });
    const lost = timeline.sorted().filter((m) => m.lost);
    assert.deepEqual(lost.map((m) => m.text), ['mine, two', 'mine, three'], 'still shown');
    for (const message of lost) {
      assert.deepEqual(tab.messenger.lostState(conversation, message), { state: 'restored', error: null });
    }
    assert.equal(
      restoreNoticeText(conversation.restore, 'Theo Therapist'),
      "The portal's server says it was restored from a backup: the last 2 messages of this conversation are " +
        'no longer on it. This browser still shows them. 2 of yours were not sent again: the keys of the ' +
        'people in this conversation changed since you wrote them.',
    );
  } finally {
    tab.close();
  }
});

test('a message sent again is not sealed again once the therapist’s key was replaced', async (t) => {
  const { tab, timeline, sent, tick } = await holdingTwoOfItsOwn(t, { epoch: 0 });
  try {
    // A restore to 2: the keys are still those message 3 was written to, so it goes again.
    tab.conversation.last_seq = 2;
    await tab.reconnect({ tick });
    const first = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 2 }));
    const again = await waitFor(() => tab.ws.sentOf('send')[0]);
    assert.deepEqual([again.client_message_id, again.ciphertext], [sent[1].client_message_id, sent[1].ciphertext]);

    // Then the server puts its own key in the therapist's place, lists an epoch 1 wrapped
    // with it, and answers the message with `stale_epoch`.
    const forged = replaceTherapistKey(tab);
    const key = confide.ConversationKey.generate();
    tab.conversation.current_epoch = 1;
    tab.conversation.envelopes.push({
      epoch: 1,
      wrapper: PEER,
      envelope: b64(confide.wrapConversationKey(key, CONVERSATION, 1, tab.mine.public, forged, null)),
    });
    tab.ws.deliver({
      type: 'error', ref: again.ref, code: 'stale_epoch', message: 'A newer epoch began.',
      conversation: CONVERSATION, client_message_id: again.client_message_id,
    });
    const second = await syncRequest(tab, 1);
    tab.ws.deliver(syncReply(second, { messages: [], last_seq: 2 }));
    await waitFor(() => tab.messenger.outbox.size === 0);
    await flush();

    assert.equal(tab.ws.sentOf('send').length, 1, 'not sealed to the new key, not sent again');
    assert.deepEqual(tab.ws.sentOf('rekey'), []);
    assert.equal(tab.messenger.outbox.size, 0);
    const conversation = tab.messenger.conversations.get(CONVERSATION);
    const [lost] = timeline.sorted().filter((m) => m.lost);
    assert.equal(lost.text, 'mine, three');
    assert.deepEqual(tab.messenger.lostState(conversation, lost), { state: 'restored', error: null }, 'No longer on the server');
    assert.deepEqual([conversation.restore.resent, conversation.restore.keysChanged], [0, 1]);
    assert.match(
      restoreNoticeText(conversation.restore, 'Theo Therapist'),
      /One of yours was not sent again: the keys of the people in this conversation changed since you wrote it\./,
    );
  } finally {
    tab.close();
  }
});

test('its own messages read back while a changed key is not dealt with are not sealed again after a restore', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tick = (/** @type {number} */ ms) => t.mock.timers.tick(ms);
  const tab = await signedInTab();
  try {
    tab.beginEpoch(1);
    await tab.connect();
    // The server serves its own key as the therapist's from the next listing on, then the
    // page reads its own two messages of epoch 1 back from the history: the members now
    // say nothing of who they were written to.
    replaceTherapistKey(tab);
    await tab.reconnect({ tick });
    const conversation = tab.messenger.conversations.get(CONVERSATION);
    assert.equal(conversation.identityChanged?.verified, false);
    const timeline = await tab.open([
      tab.stored({ seq: 1, epoch: 0, sender: ME }),
      tab.stored({ seq: 2, epoch: 1, sender: ME, text: 'mine, two' }),
      tab.stored({ seq: 3, epoch: 1, sender: ME, text: 'mine, three' }),
    ]);
    assert.deepEqual(timeline.sorted().map((m) => m.text), ['message 1', 'mine, two', 'mine, three']);

    tab.forgetEpochsFrom(1);
    tab.conversation.last_seq = 1;
    await tab.reconnect({ tick });
    const first = await syncRequest(tab, 0);
    tab.ws.deliver(syncReply(first, { messages: [], last_seq: 1 }));
    const second = await syncRequest(tab, 1);
    tab.ws.deliver(syncReply(second, { messages: [], last_seq: 1 }));
    await flush();
    await flush();

    assert.deepEqual(tab.ws.sentOf('rekey'), [], 'no epoch wrapped to the new key');
    assert.deepEqual(tab.ws.sentOf('send'), []);
    assert.deepEqual([conversation.restore.resent, conversation.restore.keysChanged], [0, 2]);
  } finally {
    tab.close();
  }
});
