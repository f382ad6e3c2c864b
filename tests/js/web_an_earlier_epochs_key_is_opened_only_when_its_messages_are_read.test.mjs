// After years of weekly rotation a conversation has hundreds of epochs. The sign-in's
// listing carries each conversation's current epoch's envelope only (`LISTING`), whose key
// the page opens at once (it seals with it); an earlier epoch's envelope comes with the
// conversation's detail, fetched when one of its messages is first read, and its key is
// opened then, so that the sign-in neither downloads nor opens them all. A message of an
// earlier epoch reads exactly as before, also when the server lists another identity for
// its wrapper meanwhile.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, FIRST_PAGE, ME, PEER, appModule, signedInTab } from './_app_support.mjs';
import { confide } from './_support.mjs';

test('only the current epoch is opened at sign-in; an earlier one when its message is read', async () => {
  const tab = await signedInTab();
  try {
    tab.beginEpoch(1);
    tab.beginEpoch(2);
    await tab.connect();
    const ring = tab.keys.ring;
    assert.deepEqual([0, 1, 2].map((epoch) => ring.has(CONVERSATION, epoch)), [false, false, true]);

    assert.deepEqual(tab.requests, [FIRST_PAGE], 'signed in with the current envelopes only');

    const timeline = await tab.open([
      tab.stored({ seq: 1, epoch: 0, text: 'from the first week' }),
      tab.stored({ seq: 2, epoch: 2, text: 'from this week' }),
    ]);
    assert.deepEqual(timeline.sorted().map((m) => m.text), ['from the first week', 'from this week']);
    assert.deepEqual([0, 1, 2].map((epoch) => ring.has(CONVERSATION, epoch)), [true, false, true]);
    assert.deepEqual(tab.requests, [FIRST_PAGE, `/api/conversations/${CONVERSATION}`], 'the rest fetched once, when needed');
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

test('its own message of an earlier epoch fetched after the server changed its wrapper\'s identity opens under the one listed before', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  try {
    tab.beginEpoch(1);
    await tab.connect();
    // From the next listing on, the server names another key as the therapist's (the page
    // warns of the change); epoch 0's envelope was wrapped by the therapist's real one.
    const therapist = tab.conversation.members.find((member) => member.id === PEER);
    therapist.public_identity = confide.b64encode(confide.IdentityKeyPair.generate(null).public.toBytes());
    await tab.reconnect({ tick: (ms) => t.mock.timers.tick(ms) });
    const timeline = await tab.open([tab.stored({ seq: 1, epoch: 0, sender: ME, text: 'mine, before the change' })]);
    assert.deepEqual(timeline.sorted().map((m) => m.text), ['mine, before the change']);
  } finally {
    tab.close();
  }
});

test('an assisted recovery confirmed from the page wraps the epochs the listing left out', async () => {
  const { confirmRecovery } = await appModule('recoveries.js');
  const tab = await signedInTab();
  try {
    tab.beginEpoch(1);
    await tab.connect();
    const newIdentity = confide.IdentityKeyPair.generate();
    const peer = tab.conversation.members.find((member) => member.id === PEER);
    const item = {
      id: 4,
      client: { id: PEER, display_name: 'Theo Therapist', role: 'client', public_identity: peer.public_identity },
      new_identity: confide.b64encode(newIdentity.public.toBytes()),
      requested_at: new Date().toISOString(),
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      conversations: [{ conversation: CONVERSATION, epochs: [0, 1] }],
    };
    const posted = [];
    const http = {
      async post(path, body) {
        posted.push(body);
        return { recovery: 4, state: 'confirmed', client: { public_identity: item.new_identity }, conversations: [CONVERSATION] };
      },
    };
    await confirmRecovery(item, tab.messenger, http);
    assert.deepEqual(tab.requests, [FIRST_PAGE, `/api/conversations/${CONVERSATION}`], 'the rest fetched first');
    assert.equal(posted[0].envelopes.length, 2, 'both epochs wrapped');
  } finally {
    tab.close();
  }
});
