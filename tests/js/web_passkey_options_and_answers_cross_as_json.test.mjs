// Passkeys: the server's WebAuthn options (JSON, binary fields in base64url) become what
// navigator.credentials takes, and the credential it gives becomes the JSON the server
// reads, in browsers without PublicKeyCredential.toJSON() too.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { appModule } from './_app_support.mjs';

const webauthn = await appModule('webauthn.js');

const bytes = (n, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

test('base64url round-trips every length, without padding or + and /', () => {
  for (const n of [0, 1, 2, 3, 4, 31, 32, 33, 64, 1023]) {
    const data = bytes(n, n);
    const text = webauthn.toB64url(data);
    assert.doesNotMatch(text, /[=+/]/);
    assert.deepEqual(webauthn.fromB64url(text), data);
  }
  assert.equal(webauthn.toB64url(Uint8Array.of(0xfb, 0xff)), '-_8');
});

test('creation options carry the challenge, user id and excluded credentials as bytes', () => {
  const json = {
    rp: { id: 'portal.example', name: 'Confide' },
    user: { id: webauthn.toB64url(bytes(16)), name: 'theo@example.org', displayName: 'Theo' },
    challenge: webauthn.toB64url(bytes(32, 7)),
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    excludeCredentials: [{ type: 'public-key', id: webauthn.toB64url(bytes(20, 3)), transports: ['internal'] }],
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    attestation: 'none',
  };
  const options = webauthn.creationOptions(json);
  assert.deepEqual(options.challenge, bytes(32, 7));
  assert.deepEqual(options.user.id, bytes(16));
  assert.equal(options.user.name, 'theo@example.org');
  assert.deepEqual(options.excludeCredentials[0].id, bytes(20, 3));
  assert.deepEqual(options.excludeCredentials[0].transports, ['internal']);
  assert.equal(options.rp.id, 'portal.example');
});

test('request options carry the challenge and the allowed credentials as bytes', () => {
  const options = webauthn.requestOptions({
    challenge: webauthn.toB64url(bytes(32, 9)),
    rpId: 'portal.example',
    allowCredentials: [{ type: 'public-key', id: webauthn.toB64url(bytes(16, 5)) }],
    userVerification: 'preferred',
  });
  assert.deepEqual(options.challenge, bytes(32, 9));
  assert.deepEqual(options.allowCredentials[0].id, bytes(16, 5));
  assert.deepEqual(webauthn.requestOptions({ challenge: 'AAAA' }).allowCredentials, []);
});

test("a new passkey's credential becomes the JSON of toJSON()", () => {
  const credential = {
    id: webauthn.toB64url(bytes(20)),
    rawId: bytes(20).buffer,
    type: 'public-key',
    authenticatorAttachment: 'platform',
    response: {
      clientDataJSON: bytes(50, 2).buffer,
      attestationObject: bytes(90, 4).buffer,
      getTransports: () => ['internal', 'hybrid'],
    },
    getClientExtensionResults: () => ({}),
  };
  assert.deepEqual(webauthn.credentialJSON(credential), {
    id: credential.id,
    rawId: credential.id,
    type: 'public-key',
    response: {
      clientDataJSON: webauthn.toB64url(bytes(50, 2)),
      attestationObject: webauthn.toB64url(bytes(90, 4)),
      transports: ['internal', 'hybrid'],
    },
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
  });
});

test("an assertion becomes the JSON of toJSON(), with or without a user handle", () => {
  const assertion = (userHandle) => ({
    id: webauthn.toB64url(bytes(20)),
    rawId: bytes(20).buffer,
    type: 'public-key',
    response: {
      clientDataJSON: bytes(40, 6).buffer,
      authenticatorData: bytes(37, 8).buffer,
      signature: bytes(70, 10).buffer,
      userHandle,
    },
  });
  const json = webauthn.credentialJSON(assertion(bytes(16, 12).buffer));
  assert.deepEqual(json.response, {
    clientDataJSON: webauthn.toB64url(bytes(40, 6)),
    authenticatorData: webauthn.toB64url(bytes(37, 8)),
    signature: webauthn.toB64url(bytes(70, 10)),
    userHandle: webauthn.toB64url(bytes(16, 12)),
  });
  assert.equal(json.authenticatorAttachment, null);
  assert.equal(webauthn.credentialJSON(assertion(null)).response.userHandle, null);
});

test("a browser's own toJSON() is used where it has one", () => {
  const own = { id: 'x', made: 'by the browser' };
  assert.equal(webauthn.credentialJSON({ toJSON: () => own }), own);
});
