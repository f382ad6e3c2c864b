// Epoch keys are wrapped with X-Wing to identities that hold an X-Wing key (crypto/SPEC.md,
// "Version 3: wrapped with X-Wing"). A key that came wrapped with X25519 alone starts an
// X-Wing epoch before the next message, once every member holds an X-Wing key; a key
// wrapped with X25519 alone for an epoch begun after this person held an X-Wing key is a
// downgrade: refused, said, and the next message starts new keys. A person whose identity
// is of version 1 publishes the X-Wing key of the same keys at sign-in.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { APP_URL, CONVERSATION, ME, PEER, flush, signedInTab } from './_app_support.mjs';
import { confide } from './_support.mjs';

const HOUR = 3_600_000;
const { Keys } = await import(new URL('keys.js', APP_URL).href);

const versionOf = (envelope) => confide.b64decode(envelope)[0];

/** Sends a message and answers the rekey it begins with; returns the frames sent. */
async function sendAfterRekey(tab, text) {
  const sending = tab.messenger.sendText(CONVERSATION, text);
  await flush();
  const [rekey] = tab.ws.sentOf('rekey');
  if (rekey) tab.ws.deliver({ type: 'rekey_ok', ref: rekey.ref, conversation: CONVERSATION, epoch: rekey.epoch });
  await sending;
  await flush();
  return { rekey, sends: tab.ws.sentOf('send') };
}

test('a key that came without X-Wing starts an X-Wing epoch once every member holds one', async () => {
  const tab = await signedInTab({ createdAt: Date.now() - HOUR, since: Date.now(), classical: true });
  try {
    await tab.connect();
    const { rekey, sends } = await sendAfterRekey(tab, 'under keys a quantum computer cannot open');
    assert.equal(rekey?.epoch, 1, 'a new epoch first');
    assert.deepEqual(rekey.envelopes.map((item) => versionOf(item.envelope)), [3, 3]);
    assert.deepEqual(sends.map((send) => send.epoch), [1]);
  } finally {
    tab.close();
  }
});

test('whatever the server says of the others, one X-Wing epoch begins, and only one', async () => {
  // The therapist is served as holding no X-Wing key: this person's own key still goes
  // X-Wing's way, the therapist's as their identity allows; the next message keeps it.
  const tab = await signedInTab({
    createdAt: Date.now() - HOUR,
    since: Date.now(),
    classical: true,
    peerVersion1: true,
  });
  try {
    await tab.connect();
    const { rekey, sends } = await sendAfterRekey(tab, 'under keys a quantum computer cannot open');
    assert.equal(rekey?.epoch, 1);
    tab.ws.deliver(tab.ackOf(sends[0], 1));
    await flush();
    assert.deepEqual(rekey.envelopes.map((item) => [item.recipient, versionOf(item.envelope)]), [
      [ME, 3],
      [PEER, 2],
    ]);
    await tab.messenger.sendText(CONVERSATION, 'and under the same keys again');
    await flush();
    assert.equal(tab.ws.sentOf('rekey').length, 1, 'one new epoch, not one a message');
    assert.deepEqual(tab.ws.sentOf('send').map((send) => send.epoch), [1, 1]);
  } finally {
    tab.close();
  }
});

test('a key that came with X-Wing is kept', async () => {
  const tab = await signedInTab({ createdAt: Date.now() - HOUR });
  try {
    await tab.connect();
    await tab.messenger.sendText(CONVERSATION, 'under the current key');
    await flush();
    assert.deepEqual(tab.ws.sentOf('rekey'), []);
  } finally {
    tab.close();
  }
});

test('a key wrapped without X-Wing after this person held an X-Wing key is refused and said', async () => {
  const since = Date.now() - HOUR;
  const tab = await signedInTab({ createdAt: since - HOUR, since });
  try {
    await tab.connect();
    const key = confide.ConversationKey.generate();
    // The server gave the therapist the version-1 form of this person's keys.
    const downgraded = confide.wrapConversationKey(key, CONVERSATION, 1, tab.before.public, tab.theirs, Date.now());
    tab.ws.deliver({
      type: 'epoch', conversation: CONVERSATION, epoch: 1, wrapper: PEER,
      envelope: confide.b64encode(downgraded),
    });
    await flush();
    assert.equal(tab.keys.hasKey(CONVERSATION, 1), false, 'not kept');
    const said = tab.events.filter((event) => event.type === 'key-downgrade');
    assert.deepEqual(said.map((event) => event.detail), [{ conversation: CONVERSATION, epoch: 1, wrapper: PEER }]);
    assert.deepEqual(tab.messenger.conversations.get(CONVERSATION).downgradeRefused, { epoch: 1, wrapper: PEER });

    const { rekey, sends } = await sendAfterRekey(tab, 'not under a key the server could harvest');
    assert.equal(rekey?.epoch, 2, 'new keys first');
    assert.deepEqual(rekey.envelopes.map((item) => versionOf(item.envelope)), [3, 3]);
    assert.deepEqual(sends.map((send) => send.epoch), [2]);
  } finally {
    tab.close();
  }
});

test('an identity of version 1 publishes the X-Wing key of the same keys at sign-in', async () => {
  const before = confide.IdentityKeyPair.generate(null);
  const fingerprint = before.public.fingerprint();
  const keys = new Keys(before);
  const posted = [];
  const published = await keys.publishXWingKey(async (path, body) => {
    posted.push(path);
    return body; // the server publishes what it was given
  });
  assert.deepEqual(posted, ['/api/me/identity']);
  assert.equal(keys.publicIdentity.version, 2);
  assert.equal(confide.b64encode(keys.publicIdentity.toBytes()), published);
  assert.deepEqual(keys.publicIdentity.fingerprint(), fingerprint, 'the same fingerprint');
  assert.equal(await keys.publishXWingKey(async () => assert.fail('nothing more to publish')), null);
  keys.wipe();
});

test('another session published first: its identity of the same keys is used', async () => {
  const before = confide.IdentityKeyPair.generate(null);
  const first = before.upgraded(Date.now() - 60_000);
  const keys = new Keys(before);
  await keys.publishXWingKey(async () => ({ public_identity: confide.b64encode(first.public.toBytes()) }));
  assert.equal(keys.publicIdentity.since, first.public.since);
  keys.wipe();
});

test('an identity of other keys answered as published is refused, and nothing changes', async () => {
  const before = confide.IdentityKeyPair.generate(null);
  const keys = new Keys(before);
  const other = confide.IdentityKeyPair.generate();
  await assert.rejects(
    keys.publishXWingKey(async () => ({ public_identity: confide.b64encode(other.public.toBytes()) })),
    confide.BindingError,
  );
  assert.equal(keys.publicIdentity.version, 1);
  keys.wipe();
});
