// Assisted recovery in the browser. The client's new browser makes new keys as at sign-up
// and sends only public or wrapped material (app/keys.js, makeAssistedRecovery); the
// therapist's browser wraps every epoch key it holds to the request's new identity, signed
// by itself, in batches the server takes, the last one confirming with the identity
// succession it signs (app/recoveries.js); an epoch it lacks, an invalid identity, client
// keys other than the ones it knows, or a server answering with another identity stop it.
// Which earlier identities count afterwards: web_an_earlier_identity_counts_only_from_a_
// signed_succession.test.mjs.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MemoryPinStore, appModule, sameString, schemaValidator } from './_app_support.mjs';
import { confide } from './_support.mjs';

const { Keys, MissingKeyError, identityNumber, makeAssistedRecovery } = await appModule('keys.js');
const { UnknownIdentityError, confirmRecovery, declineRecovery, envelopeBatches } = await appModule('recoveries.js');
const { SeenIdentities } = await appModule('seen.js');
const { ApiError } = await appModule('api.js');
const { LIMITS } = await appModule('protocol.js');

const { b64encode, b64decode } = confide;
const CONVERSATION = '6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b';
const OTHER = '0b7e54a2-5f0c-4d59-9d8e-2f5c1a7b3e90';
const envelopesRequest = schemaValidator('#/http/RecoveryEnvelopesRequest');
const confirmRequest = schemaValidator('#/http/RecoveryConfirmRequest');
const THEO = 7;
const CLARA = 8;
const assistedRequest = schemaValidator('#/http/AssistedRecoveryRequest');

/** The therapist's browser, holding `epochs` keys of each conversation. */
function therapist(conversations) {
  const identity = confide.IdentityKeyPair.generate();
  const keys = new Keys(identity);
  const seen = new SeenIdentities(new MemoryPinStore(), sameString);
  const held = new Map();
  for (const [conversation, epochs] of Object.entries(conversations)) {
    for (let epoch = 0; epoch < epochs; epoch += 1) {
      const key = confide.ConversationKey.generate();
      keys.keep(conversation, epoch, key);
      held.set(`${conversation}/${epoch}:key`, key);
    }
  }
  return { identity, keys, held, seen, browser: { keys, me: { id: THEO }, seen } };
}

/** A pending request, as `GET /api/recoveries` lists it. */
function pending(newIdentity, conversations) {
  return {
    id: 4,
    client: { id: CLARA, display_name: 'Clara', role: 'client', public_identity: b64encode(confide.IdentityKeyPair.generate().public.toBytes()) },
    new_identity: b64encode(newIdentity.public.toBytes()),
    requested_at: new Date().toISOString(),
    expires_at: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    conversations: Object.entries(conversations).map(([conversation, epochs]) => ({
      conversation,
      epochs: [...Array(epochs).keys()],
    })),
  };
}

/** A stand-in of the API: records every request and answers the confirmation. */
function server({ answerIdentity } = {}) {
  const requests = [];
  return {
    requests,
    async post(path, body) {
      requests.push({ path, body });
      if (path.endsWith('/envelopes')) return { recovery: 4, staged: body.envelopes.length, missing: 0 };
      if (path.endsWith('/confirm')) {
        return { recovery: 4, state: 'confirmed', client: { public_identity: answerIdentity }, conversations: [CONVERSATION] };
      }
      if (path.endsWith('/decline')) return { recovery: 4, state: 'declined' };
      throw new Error(`No stand-in for ${path}`);
    },
  };
}

test('every epoch key reaches the new identity, signed by the therapist, in one request', async () => {
  const newIdentity = confide.IdentityKeyPair.generate();
  const theo = therapist({ [CONVERSATION]: 3, [OTHER]: 2 });
  const item = pending(newIdentity, { [CONVERSATION]: 3, [OTHER]: 2 });
  const api = server({ answerIdentity: item.new_identity });

  const answer = await confirmRecovery(item, theo.browser, api);

  assert.equal(answer.state, 'confirmed');
  assert.deepEqual(api.requests.map((r) => r.path), ['/api/recoveries/4/confirm']);
  const sent = api.requests[0].body;
  assert.ok(confirmRequest(sent), JSON.stringify(confirmRequest.errors));
  assert.equal(sent.envelopes.length, 5);
  // The succession: Theo's word that Clara's identity, as his browser knows it, is replaced.
  const stated = confide.verifySuccession(b64decode(sent.succession), theo.identity.public, {
    userId: CLARA,
    confirmerId: THEO,
    newIdentity: newIdentity.public,
  });
  assert.equal(b64encode(stated.previousIdentity.toBytes()), item.client.public_identity);
  assert.ok(Math.abs(stated.confirmedAt - Date.now() / 1000) < 60);
  const opened = sent.envelopes.map((text) => {
    const info = confide.verifyEnvelope(b64decode(text), theo.identity.public);
    const conversation = confide.idToUuid(info.conversationId);
    const key = confide.unwrapConversationKey(b64decode(text), newIdentity, theo.identity.public, conversation, info.epoch);
    return { conversation, epoch: info.epoch, key };
  });
  for (const { conversation, epoch, key } of opened) {
    const original = theo.held.get(`${conversation}/${epoch}:key`);
    const probe = confide.sealText('probe', original, conversation, epoch, theo.identity, crypto.randomUUID());
    assert.equal(
      confide.openText(probe, key, theo.identity.public, conversation, epoch, null),
      'probe',
      `epoch ${epoch} of ${conversation} opens with the key the new identity unwraps`,
    );
  }
  assert.deepEqual(opened.map((o) => `${o.conversation}/${o.epoch}`).sort(), [
    `${OTHER}/0`, `${OTHER}/1`, `${CONVERSATION}/0`, `${CONVERSATION}/1`, `${CONVERSATION}/2`,
  ].sort());
});

test('a long history goes in batches the server takes, the last one confirming', async () => {
  const epochs = LIMITS.MAX_RECOVERY_ENVELOPES + 12;
  const newIdentity = confide.IdentityKeyPair.generate();
  const theo = therapist({ [CONVERSATION]: epochs });
  const item = pending(newIdentity, { [CONVERSATION]: epochs });
  const api = server({ answerIdentity: item.new_identity });

  await confirmRecovery(item, theo.browser, api);

  assert.deepEqual(api.requests.map((r) => r.path), ['/api/recoveries/4/envelopes', '/api/recoveries/4/confirm']);
  assert.deepEqual(api.requests.map((r) => r.body.envelopes.length), [LIMITS.MAX_RECOVERY_ENVELOPES, 12]);
  assert.ok(envelopesRequest(api.requests[0].body), JSON.stringify(envelopesRequest.errors));
  assert.ok(confirmRequest(api.requests[1].body), JSON.stringify(confirmRequest.errors));
  assert.deepEqual(envelopeBatches(pending(newIdentity, {}), theo.keys), [[]], 'no history: one empty confirmation');
});

test('an epoch this browser lacks stops it before any request', async () => {
  const newIdentity = confide.IdentityKeyPair.generate();
  const theo = therapist({ [CONVERSATION]: 2 });
  const item = pending(newIdentity, { [CONVERSATION]: 3 });
  const api = server({ answerIdentity: item.new_identity });

  await assert.rejects(confirmRecovery(item, theo.browser, api), (error) => error instanceof MissingKeyError && error.epoch === 2);
  assert.deepEqual(api.requests, []);
});

test('an identity that is not one is refused before any request', async () => {
  const theo = therapist({ [CONVERSATION]: 1 });
  const item = pending(confide.IdentityKeyPair.generate(), { [CONVERSATION]: 1 });
  const raw = b64decode(item.new_identity);
  raw[100] ^= 1;
  const api = server({ answerIdentity: item.new_identity });

  await assert.rejects(confirmRecovery({ ...item, new_identity: b64encode(raw) }, theo.browser, api), confide.SignatureError);
  assert.deepEqual(api.requests, []);
});

test('a server that answers with another identity than the one compared is not believed', async () => {
  const theo = therapist({ [CONVERSATION]: 1 });
  const item = pending(confide.IdentityKeyPair.generate(), { [CONVERSATION]: 1 });
  const other = b64encode(confide.IdentityKeyPair.generate().public.toBytes());

  await assert.rejects(
    confirmRecovery(item, theo.browser, server({ answerIdentity: other })),
    (error) => error instanceof ApiError && error.code === 'server_error',
  );
  const api = server();
  await declineRecovery(item, api);
  assert.deepEqual(api.requests, [{ path: '/api/recoveries/4/decline', body: undefined }]);
});

test('the new browser sends public and wrapped material only, and shows the new number', async () => {
  const password = 'a lantern in the window';
  const made = await makeAssistedRecovery({ email: 'clara@practice.invalid', password });

  assert.ok(assistedRequest(made.body), JSON.stringify(assistedRequest.errors));
  assert.equal(made.body.public_identity, b64encode(made.publicIdentity.toBytes()));
  assert.doesNotMatch(JSON.stringify(made.body), new RegExp(password));
  assert.equal(made.recoveryDisplay.split('-').length, 14);
  // The new password opens the new bundle to the new identity (after the confirmation).
  const kdf = made.body.kdf;
  const keys = confide.derivePasswordKeys(password, b64decode(kdf.salt), new confide.KdfParams({ opslimit: kdf.opslimit, memlimit: kdf.memlimit }));
  const opened = confide.unwrapIdentity(b64decode(made.body.key_bundle), keys.kek, made.publicIdentity);
  assert.deepEqual(opened.public.toBytes(), made.publicIdentity.toBytes());
  assert.equal(keys.authSecretB64(), made.body.auth_secret);
  // What the client shows and what the therapist's browser shows for the served identity.
  const shown = identityNumber(made.publicIdentity);
  const theirs = identityNumber(confide.PublicIdentity.fromBytes(b64decode(made.body.public_identity)));
  assert.match(shown.digits, /^\d{5}( \d{5}){5}$/);
  assert.deepEqual(theirs, shown);
  assert.equal(shown.qrPayload.length, 33);
});

test("the client's keys must be the ones this browser knows, or nothing is signed or sent", async () => {
  const theo = therapist({ [CONVERSATION]: 1 });
  const item = pending(confide.IdentityKeyPair.generate(), { [CONVERSATION]: 1 });
  // This browser saw other keys for Clara than the ones the server holds for her now.
  theo.seen.check(CLARA, b64encode(confide.IdentityKeyPair.generate().public.toBytes()));
  const api = server({ answerIdentity: item.new_identity });

  await assert.rejects(confirmRecovery(item, theo.browser, api), UnknownIdentityError);
  assert.deepEqual(api.requests, []);
});

test('the key-change warning names the recovery and who confirmed it, as their succession states it', async () => {
  const { recoveryText, recoveryNote } = await appModule('views/conversation.js');
  const recovery = { confirmedBy: 7, confirmedByName: 'Theo', at: '2026-12-04T10:00:00+00:00' };
  const date = new Date(recovery.at).toLocaleDateString(undefined, { year: 'numeric', month: 'long', day: 'numeric' });

  assert.equal(
    recoveryText('Clara', recovery, 9),
    `Clara's security keys changed by an account recovery confirmed by Theo on ${date}. To be sure nobody else is reading along, compare the safety number with them.`,
  );
  assert.equal(recoveryNote('Clara', recovery, 7), `Clara's keys are new since an account recovery confirmed by you on ${date}.`);
  assert.match(recoveryNote('Clara', { confirmedBy: null, confirmedByName: '', at: '' }, 7), /confirmed by their therapist on a recent date/);
});

test('the epochs the listing left out are fetched with the conversation before they are wrapped', async () => {
  const newIdentity = confide.IdentityKeyPair.generate();
  const theo = therapist({ [CONVERSATION]: 3 });
  const item = pending(newIdentity, { [CONVERSATION]: 3 });
  const api = server({ answerIdentity: item.new_identity });
  // The listing gave this browser epoch 2 only; the detail brings epochs 0 and 1.
  const lazy = new Keys(theo.identity);
  lazy.keep(CONVERSATION, 2, theo.held.get(`${CONVERSATION}/2:key`));
  const refreshed = [];
  const browser = {
    ...theo.browser,
    keys: lazy,
    async refreshConversation(id) {
      refreshed.push(id);
      for (const epoch of [0, 1]) lazy.keep(id, epoch, theo.held.get(`${id}/${epoch}:key`));
    },
  };

  await confirmRecovery(item, browser, api);
  assert.deepEqual(refreshed, [CONVERSATION], 'listed again once');
  const [confirm] = api.requests;
  assert.equal(confirm.body.envelopes.length, 3, 'every epoch wrapped');
  for (const [epoch, envelope] of confirm.body.envelopes.entries()) {
    const key = confide.unwrapConversationKey(b64decode(envelope), newIdentity, theo.identity.public, CONVERSATION, epoch);
    const original = theo.held.get(`${CONVERSATION}/${epoch}:key`);
    const probe = confide.sealText('probe', original, CONVERSATION, epoch, theo.identity, crypto.randomUUID());
    assert.equal(confide.openText(probe, key, theo.identity.public, CONVERSATION, epoch, null), 'probe');
  }
});
