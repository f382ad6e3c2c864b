// After an assisted recovery, a member's earlier messages and envelopes are signed by the
// identity the recovery replaced. The browser takes that earlier identity only from an
// identity succession signed by the confirming therapist as this browser knows them (the
// other member of the conversation: this person's own key when that is them), naming this
// member and their current identity (app/conversations.js, recoveryOf). A server that adds
// an `identity_changed` of its own making, with a key it made, to any member gets nothing
// accepted: the old-format `previous`, a succession signed by its own key, one signed by the
// therapist for someone else, for other keys, or naming another confirmer, are all ignored,
// and what it forges under its key does not open.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, MemoryPinStore, appModule, sameString } from './_app_support.mjs';
import { confide } from './_support.mjs';

const { Keys } = await appModule('keys.js');
const { ConversationList, identitiesOf, recoveryOf } = await appModule('conversations.js');
const { SeenIdentities } = await appModule('seen.js');

const { b64encode } = confide;
const THEO = 7;
const CLARA = 8;
const OSCAR = 9;
const b64 = (identity) => b64encode(identity.public.toBytes());
const now = () => Math.floor(Date.now() / 1000);

/** What `signer` signs: `user`'s identity `previous` replaced by `next`, confirmed by `confirmer`. */
function succession(signer, { user = CLARA, confirmer = THEO, previous, next, at = now() }) {
  return b64encode(
    confide.signSuccession(signer, {
      userId: user,
      confirmerId: confirmer,
      confirmedAt: at,
      previousIdentity: previous.public,
      newIdentity: next.public,
    }),
  );
}

const change = (successions, extra = {}) => ({
  reason: 'recovery',
  confirmed_by: THEO,
  confirmed_by_name: 'Theo',
  at: '2026-12-04T10:00:00+00:00',
  successions,
  ...extra,
});

/** Clara's old and current identities, Theo (who confirmed) and a key the server made. */
function world() {
  return {
    old: confide.IdentityKeyPair.generate(),
    current: confide.IdentityKeyPair.generate(),
    theo: confide.IdentityKeyPair.generate(),
    server: confide.IdentityKeyPair.generate(),
  };
}

const clara = (w) => ({ id: CLARA, identity: w.current.public });
const theoAsKnown = (w) => ({ id: THEO, displayName: 'Theo', identity: w.theo.public });

/**
 * Whether `reader`, taking Clara's identities from `accepted`, opens an envelope and a
 * message that `author` signed for an epoch key `reader` did not hold.
 */
function opensWhatWasSignedBy(author, accepted) {
  const reader = confide.IdentityKeyPair.generate(null);
  const keys = new Keys(reader);
  const epochKey = confide.ConversationKey.generate();
  const envelope = b64encode(confide.wrapConversationKey(epochKey, CONVERSATION, 3, reader.public, author));
  const id = crypto.randomUUID();
  const message = b64encode(confide.sealText('from the archive', epochKey, CONVERSATION, 3, author, id));
  const member = { identity: clara(accepted.w).identity, previous: accepted.previous };
  try {
    keys.unwrapFromAny(CONVERSATION, 3, envelope, identitiesOf(member));
  } catch (error) {
    if (!(error instanceof confide.SignatureError)) throw error;
    return false;
  }
  return keys.openFromAny(message, identitiesOf(member), CONVERSATION, 3, id) === 'from the archive';
}

test("Theo's succession makes Clara's old identity count, and her old envelopes and messages open", () => {
  const w = world();
  const signed = succession(w.theo, { previous: w.old, next: w.current, at: 1796400000 });

  const accepted = recoveryOf(change([signed]), clara(w), theoAsKnown(w));

  assert.deepEqual(accepted.previous.map((p) => b64encode(p.toBytes())), [b64(w.old)]);
  assert.deepEqual(accepted.recovery, { confirmedBy: THEO, confirmedByName: 'Theo', at: '2026-12-04T16:00:00.000Z' });
  assert.ok(opensWhatWasSignedBy(w.old, { ...accepted, w }));
  assert.ok(!opensWhatWasSignedBy(w.server, { ...accepted, w }), 'a key nobody vouched for still counts for nothing');
});

const FORGED = {
  'the server lists a previous identity, as before successions': (w) =>
    change([], { previous: [b64(w.server)] }),
  'the server signs a succession with its own key': (w) =>
    change([succession(w.server, { previous: w.server, next: w.current })]),
  'the server signs it with a key it lists as Theo elsewhere': (w) =>
    change([succession(confide.IdentityKeyPair.generate(), { previous: w.server, next: w.current })]),
  "Theo's succession of Oscar's keys, served for Clara": (w) =>
    change([succession(w.theo, { user: OSCAR, previous: w.server, next: w.current })]),
  "Theo's succession to keys Clara does not have now": (w) =>
    change([succession(w.theo, { previous: w.server, next: confide.IdentityKeyPair.generate() })]),
  "Theo's signature on a succession naming Olive as the confirmer": (w) =>
    change([succession(w.theo, { confirmer: 11, previous: w.server, next: w.current })]),
  'a succession with a flipped byte': (w) => {
    const raw = confide.b64decode(succession(w.theo, { previous: w.server, next: w.current }));
    raw[40] ^= 1;
    return change([b64encode(raw)]);
  },
  'no successions at all': () => change(undefined),
  'not a succession': () => change(['AQID', 42, null]),
};

for (const [name, make] of Object.entries(FORGED)) {
  test(`ignored: ${name}; what the server signed as Clara's old key does not open`, () => {
    const w = world();

    const accepted = recoveryOf(make(w), clara(w), theoAsKnown(w));

    assert.deepEqual(accepted, { previous: [], recovery: null });
    assert.ok(!opensWhatWasSignedBy(w.server, { ...accepted, w }));
  });
}

test('without a therapist this browser knows in the conversation, no succession counts', () => {
  const w = world();
  const signed = succession(w.theo, { previous: w.old, next: w.current });

  assert.deepEqual(recoveryOf(change([signed]), clara(w), null), { previous: [], recovery: null });
  // Olive, another of Clara's therapists, knows only herself in her conversation with Clara.
  const olive = { id: 11, displayName: 'Olive', identity: confide.IdentityKeyPair.generate().public };
  assert.deepEqual(recoveryOf(change([signed]), clara(w), olive), { previous: [], recovery: null });
});

test('two recoveries are followed back one succession at a time, in any order', () => {
  const w = world();
  const first = confide.IdentityKeyPair.generate();
  const successions = [
    succession(w.theo, { previous: w.old, next: w.current }),
    succession(w.theo, { previous: first, next: w.old }),
    // One the server made to extend the chain to a key of its own is not followed.
    succession(w.server, { previous: w.server, next: first }),
  ];

  const accepted = recoveryOf(change(successions), clara(w), theoAsKnown(w));

  assert.deepEqual(accepted.previous.map((p) => b64encode(p.toBytes())), [b64(w.old), b64(first)]);
});

/**
 * A conversation listing as the server sends it to `me`: Theo and Clara, Clara's identity
 * changed with `identityChanged`, Theo listed with `theoListed`.
 */
function listing(w, { identityChanged, theoListed = w.theo }) {
  return {
    id: CONVERSATION,
    status: 'active',
    current_epoch: 0,
    last_seq: 0,
    last_message_at: null,
    last_read_seq: 0,
    unread: 0,
    read_seqs: {},
    envelopes: [],
    members: [
      { id: CLARA, display_name: 'Clara', role: 'client', public_identity: b64(w.current), identity_changed: identityChanged },
      { id: THEO, display_name: 'Theo', role: 'therapist', public_identity: b64(theoListed) },
    ],
  };
}

/** `me` lists the conversation from a server answering `raw`; returns Clara as absorbed. */
async function absorbed(me, identity, raw) {
  globalThis.location = { protocol: 'http:', host: 'confide.test' };
  globalThis.fetch = async () => ({
    ok: true,
    status: 200,
    headers: { get: () => 'application/json' },
    json: async () => ({ conversation: raw }),
  });
  const list = new ConversationList({
    me: { id: me },
    keys: new Keys(identity),
    seen: new SeenIdentities(new MemoryPinStore(), sameString),
    emit: () => {},
  });
  const conversation = await list.refresh(CONVERSATION);
  return conversation.members.get(CLARA);
}

test("Theo's browser checks the succession with his own key, not the one the server lists for him", async () => {
  const w = world();
  const genuine = change([succession(w.theo, { previous: w.old, next: w.current })]);
  const stand = confide.IdentityKeyPair.generate();
  const forged = change([succession(stand, { previous: w.server, next: w.current })]);

  const accepted = await absorbed(THEO, w.theo, listing(w, { identityChanged: genuine }));
  const refused = await absorbed(THEO, w.theo, listing(w, { identityChanged: forged, theoListed: stand }));

  assert.deepEqual(accepted.previous.map((p) => b64encode(p.toBytes())), [b64(w.old)]);
  assert.equal(accepted.recovery.confirmedBy, THEO);
  assert.deepEqual([refused.previous, refused.recovery], [[], null]);
});

test("Clara's own browser checks it with Theo as the conversation lists him", async () => {
  const w = world();
  const genuine = change([succession(w.theo, { previous: w.old, next: w.current })]);
  const forged = change([succession(w.server, { previous: w.server, next: w.current })]);

  const mine = await absorbed(CLARA, w.current, listing(w, { identityChanged: genuine }));
  const refused = await absorbed(CLARA, w.current, listing(w, { identityChanged: forged }));

  assert.deepEqual(mine.previous.map((p) => b64encode(p.toBytes())), [b64(w.old)]);
  assert.equal(mine.recovery.confirmedByName, 'Theo');
  assert.deepEqual([refused.previous, refused.recovery], [[], null]);
});
