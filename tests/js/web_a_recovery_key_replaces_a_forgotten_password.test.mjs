// Forgot password, in the browser (app/recovery.js): a mistyped recovery key is refused
// before any request; the right one opens the recovery copy, and what goes to the server is
// the new password material and the identity's proof, checked here as the server checks it,
// never the recovery key or the password.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appModule, schemaValidator } from './_app_support.mjs';
import { confide, sodium } from './_support.mjs';

const { MistypedKeyError, recoverAccount } = await appModule('recovery.js');
const { ApiError } = await appModule('api.js');
const { b64encode, b64decode } = confide;

const EMAIL = 'clara@practice.invalid';
const NEW_PASSWORD = 'a new password, long enough';
const SMALL_KDF = { opslimit: 2, memlimit: 32 * 1024 * 1024, algorithm: 'argon2id13' };
const beginAnswer = schemaValidator('#/http/RecoverBeginAnswer');
const finishRequest = schemaValidator('#/http/RecoverFinishRequest');

/** An account as the server holds it, and its recovery key as written down at sign-up. */
function account() {
  const identity = confide.IdentityKeyPair.generate();
  const recovery = confide.RecoveryKey.generate();
  const bundle = confide.wrapIdentity(identity, recovery.wrappingKey(), confide.BundleKind.RECOVERY);
  return { identity, display: recovery.display(), bundle };
}

/** A stand-in of the API: answers `begin` and `finish` as the server does, and records. */
function server(held, { answerIdentity } = {}) {
  const requests = [];
  // The published identity, which `begin` never shows whole (only its keys).
  const published = b64encode(held.identity.public.toBytes());
  const begun = {
    challenge: b64encode(sodium.randombytes_buf(32)),
    keys: b64encode(confide.identityKeys(held.identity.public)),
    recovery_bundle: b64encode(held.bundle),
    kdf: SMALL_KDF,
    expires_at: new Date(Date.now() + 600_000).toISOString(),
  };
  assert.ok(beginAnswer(begun), JSON.stringify(beginAnswer.errors));
  return {
    requests,
    begun,
    published,
    async post(path, body) {
      requests.push({ path, body });
      if (path === '/api/auth/recover/begin') return begun;
      if (path === '/api/auth/recover/finish') {
        return {
          user: {
            id: 7,
            public_identity: answerIdentity ?? published,
            key_bundle: body.key_bundle,
          },
        };
      }
      throw new Error(`No stand-in for ${path}`);
    },
  };
}

/** `display` with one character changed, as a typo would. */
function mistyped(display) {
  const at = 10;
  const other = display[at] === 'B' ? 'C' : 'B';
  return display.slice(0, at) + other + display.slice(at + 1);
}

test('a mistyped recovery key is refused before any request is made', async () => {
  const held = account();
  for (const typed of [mistyped(held.display), held.display.slice(0, -1), held.display + 'A', '']) {
    const api = server(held);
    await assert.rejects(
      recoverAccount({ email: EMAIL, recoveryKey: typed, newPassword: NEW_PASSWORD }, api),
      MistypedKeyError,
    );
    assert.deepEqual(api.requests, [], `no request for ${JSON.stringify(typed)}`);
  }
  const api = server(held);
  await assert.rejects(
    recoverAccount({ email: EMAIL, recoveryKey: mistyped(held.display), newPassword: NEW_PASSWORD }, api),
    /mistyped/,
  );
});

test('the right key sends new password material the server can check, and no secret', async () => {
  const held = account();
  const api = server(held);
  const typed = `  ${held.display.toLowerCase().replaceAll('-', ' ')} `;

  const { me, keys } = await recoverAccount(
    { email: EMAIL, recoveryKey: typed, newPassword: NEW_PASSWORD },
    api,
  );

  assert.deepEqual(api.requests.map((r) => r.path), ['/api/auth/recover/begin', '/api/auth/recover/finish']);
  assert.deepEqual(api.requests[0].body, { email: EMAIL });
  const body = api.requests[1].body;
  assert.ok(finishRequest(body), JSON.stringify(finishRequest.errors));
  const wire = JSON.stringify(body);
  const compact = held.display.replaceAll('-', '');
  assert.ok(!wire.includes(compact) && !wire.includes(held.display), 'the recovery key stays here');
  assert.ok(!wire.includes(NEW_PASSWORD), 'the password stays here');
  assert.equal(body.challenge, api.begun.challenge);
  assert.equal(body.email, EMAIL);
  // The server's checks: the proof verifies under the account's identity ...
  const params = new confide.KdfParams({ opslimit: body.opslimit, memlimit: body.memlimit });
  const claim = new confide.RecoveryClaim({
    challenge: b64decode(body.challenge),
    email: body.email,
    salt: b64decode(body.salt),
    params,
    authSecret: b64decode(body.auth_secret),
    keyBundle: b64decode(body.key_bundle),
  });
  confide.verifyRecovery(held.identity.public, claim, b64decode(body.proof));
  // ... and the new password opens the new bundle to the same identity, whose keys are kept.
  const derived = confide.derivePasswordKeys(NEW_PASSWORD, b64decode(body.salt), params);
  assert.equal(derived.authSecretB64(), body.auth_secret);
  const opened = confide.unwrapIdentity(b64decode(body.key_bundle), derived.kek, held.identity.public);
  assert.equal(b64encode(opened.public.toBytes()), b64encode(held.identity.public.toBytes()));
  assert.equal(me.id, 7);
  assert.equal(b64encode(keys.publicIdentity.toBytes()), b64encode(held.identity.public.toBytes()));
  keys.wipe();
});

test('a well-formed key that is not this account\'s opens nothing and sends nothing more', async () => {
  const held = account();
  const api = server(held);
  const someoneElses = confide.RecoveryKey.generate().display();

  await assert.rejects(
    recoverAccount({ email: EMAIL, recoveryKey: someoneElses, newPassword: NEW_PASSWORD }, api),
    confide.DecryptionError,
  );
  assert.deepEqual(api.requests.map((r) => r.path), ['/api/auth/recover/begin']);
});

test('a server refusing the finish is reported with its code', async () => {
  const held = account();
  const api = server(held);
  const refuse = api.post;
  api.post = async (path, body) => {
    if (path === '/api/auth/recover/finish') {
      throw new ApiError('recovery_challenge_invalid', 'This recovery request expired.', 410);
    }
    return refuse(path, body);
  };

  await assert.rejects(
    recoverAccount({ email: EMAIL, recoveryKey: held.display, newPassword: NEW_PASSWORD }, api),
    (error) => error instanceof ApiError && error.code === 'recovery_challenge_invalid',
  );
});

test('an answer naming another identity than the one recovered is refused', async () => {
  const held = account();
  const other = confide.IdentityKeyPair.generate();
  const api = server(held, { answerIdentity: b64encode(other.public.toBytes()) });

  await assert.rejects(
    recoverAccount({ email: EMAIL, recoveryKey: held.display, newPassword: NEW_PASSWORD }, api),
    /another identity/,
  );
});

test('the form is told what is wrong with a mistyped key, and nothing for a right one', async () => {
  const { recoveryKeyProblem } = await appModule('recovery.js');
  const held = account();

  assert.equal(recoveryKeyProblem(held.display), null);
  assert.equal(recoveryKeyProblem(held.display.toLowerCase().replaceAll('-', ' ')), null);
  assert.match(recoveryKeyProblem(mistyped(held.display)), /mistyped\. Compare each group/);
  assert.match(recoveryKeyProblem(held.display.slice(0, -5)), /56 letters and digits, not 52/);
  assert.match(recoveryKeyProblem(`1${held.display.slice(1)}`), /not one of its characters/);
});

test('a server serving weaker parameters cannot lower the new password\'s derivation', async () => {
  const held = account();
  const api = server(held);
  api.begun.kdf = SMALL_KDF; // the lowest the protocol's bounds allow

  const { keys } = await recoverAccount(
    { email: EMAIL, recoveryKey: held.display, newPassword: NEW_PASSWORD },
    api,
  );

  const body = api.requests[1].body;
  assert.equal(body.opslimit, confide.DEFAULT_KDF_PARAMS.opslimit);
  assert.equal(body.memlimit, confide.DEFAULT_KDF_PARAMS.memlimit);
  keys.wipe();
});

test('an account with a second factor is recovered only through its second step', async () => {
  const held = account();
  const api = server(held);
  const post = api.post;
  api.post = async (path, body) => {
    if (path === '/api/auth/recover/finish') {
      api.requests.push({ path, body });
      return { second_factor_required: true, methods: ['totp', 'recovery_code'], expires_in_s: 300 };
    }
    return post(path, body);
  };
  const asked = [];
  const user = { id: 7, public_identity: api.published, key_bundle: 'x' };

  const { me, keys } = await recoverAccount(
    {
      email: EMAIL,
      recoveryKey: held.display,
      newPassword: NEW_PASSWORD,
      secondFactor: async (required) => {
        asked.push(required.methods);
        return user;
      },
    },
    api,
  );

  assert.deepEqual(asked, [['totp', 'recovery_code']]);
  assert.equal(me, user);
  keys.wipe();
  await assert.rejects(
    recoverAccount({ email: EMAIL, recoveryKey: held.display, newPassword: NEW_PASSWORD }, api),
    (error) => error instanceof ApiError && error.code === 'second_factor_required',
  );
});
