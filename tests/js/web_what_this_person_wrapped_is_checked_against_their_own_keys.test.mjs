// An envelope the listing says this person wrapped is checked against the keys this page
// holds, never against an identity the server lists for them: a server could list one of
// its own as theirs, sign a key of its choice with it, and have the page seal with it. An
// envelope of an epoch after the current one is no epoch yet, and is not kept.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, ME, flush, signedInTab } from './_app_support.mjs';
import { confide } from './_support.mjs';

const b64 = confide.b64encode;

test('a key "wrapped by this person" under an identity the server made up is refused', async () => {
  const tab = await signedInTab({ createdAt: Date.now() - 60_000 });
  try {
    const forged = confide.IdentityKeyPair.generate();
    const chosen = confide.ConversationKey.generate();
    const me = tab.conversation.members.find((member) => member.id === ME);
    me.public_identity = b64(forged.public.toBytes());
    tab.conversation.current_epoch = 1;
    tab.conversation.envelopes.push({
      epoch: 1,
      wrapper: ME,
      envelope: b64(confide.wrapConversationKey(chosen, CONVERSATION, 1, tab.mine.public, forged, Date.now())),
    });
    await tab.connect();
    assert.equal(tab.keys.ring.has(CONVERSATION, 1), false, 'the server\'s key is not taken');
    assert.equal(tab.keys.hasKey(CONVERSATION, 1), false);
  } finally {
    tab.close();
  }
});

test('a key this person really wrapped is taken', async () => {
  const tab = await signedInTab({ createdAt: Date.now() - 60_000 });
  try {
    const key = confide.ConversationKey.generate();
    tab.conversation.current_epoch = 1;
    tab.conversation.envelopes.push({
      epoch: 1,
      wrapper: ME,
      envelope: b64(confide.wrapConversationKey(key, CONVERSATION, 1, tab.mine.public, tab.mine, Date.now())),
    });
    await tab.connect();
    assert.equal(tab.keys.ring.has(CONVERSATION, 1), true);
  } finally {
    tab.close();
  }
});

test('an envelope of an epoch after the current one is not kept', async () => {
  const tab = await signedInTab({ createdAt: Date.now() - 60_000 });
  try {
    const key = confide.ConversationKey.generate();
    tab.conversation.envelopes.push({
      epoch: 3,
      wrapper: ME,
      envelope: b64(confide.wrapConversationKey(key, CONVERSATION, 3, tab.mine.public, tab.mine, Date.now())),
    });
    await tab.messenger.start();
    // The detail lists every envelope: the one of epoch 3 with it.
    await tab.messenger.refreshConversation(CONVERSATION);
    assert.equal(tab.keys.hasKey(CONVERSATION, 3), false);
  } finally {
    tab.close();
  }
});

test('an epoch event "from this person" signed by an identity the server made up is refused', async () => {
  const tab = await signedInTab({ createdAt: Date.now() - 60_000 });
  try {
    const forged = confide.IdentityKeyPair.generate();
    const me = tab.conversation.members.find((member) => member.id === ME);
    me.public_identity = b64(forged.public.toBytes());
    await tab.connect();
    const chosen = confide.ConversationKey.generate();
    tab.ws.deliver({
      type: 'epoch', conversation: CONVERSATION, epoch: 1, wrapper: ME,
      envelope: b64(confide.wrapConversationKey(chosen, CONVERSATION, 1, tab.mine.public, forged, Date.now())),
    });
    await flush();
    assert.equal(tab.keys.ring.has(CONVERSATION, 1), false);
    // One this person's own keys signed (another tab of theirs) is taken.
    const genuine = confide.ConversationKey.generate();
    tab.ws.deliver({
      type: 'epoch', conversation: CONVERSATION, epoch: 2, wrapper: ME,
      envelope: b64(confide.wrapConversationKey(genuine, CONVERSATION, 2, tab.mine.public, tab.mine, Date.now())),
    });
    await flush();
    assert.equal(tab.keys.ring.has(CONVERSATION, 2), true);
  } finally {
    tab.close();
  }
});
