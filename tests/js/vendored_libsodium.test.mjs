// The vendored libsodium.js is exactly what frontend/VENDOR.md records, loads in a bare
// Node 20 with no node_modules, and has every primitive SPEC.md uses.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { VENDOR_URL, sodium } from './_support.mjs';

const VENDOR_MD = new URL('../../frontend/VENDOR.md', import.meta.url);

/** `file -> sha256` from the "vendored file" table of VENDOR.md's libsodium section. */
function recordedHashes() {
  const hashes = {};
  const section = readFileSync(VENDOR_MD, 'utf8').split(/^## /m).find((part) => part.startsWith('libsodium.js'));
  for (const line of section.split('\n')) {
    const match = /^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/.exec(line);
    if (match) hashes[match[1]] = match[2];
  }
  return hashes;
}

test('every vendored file is listed in VENDOR.md with its sha256, and nothing else is there', () => {
  const recorded = recordedHashes();
  const present = readdirSync(fileURLToPath(VENDOR_URL)).sort();
  assert.deepEqual(Object.keys(recorded).sort(), present);
  for (const name of present) {
    const digest = createHash('sha256')
      .update(readFileSync(new URL(name, VENDOR_URL)))
      .digest('hex');
    assert.equal(digest, recorded[name], `${name} differs from VENDOR.md`);
  }
});

test('the vendored modules import nothing by package name', () => {
  for (const name of ['libsodium-wrappers.mjs', 'libsodium-sumo.mjs']) {
    const text = readFileSync(new URL(name, VENDOR_URL), 'utf8');
    const specifiers = [
      ...text.matchAll(/(?:\bimport\s*[\w{}\s,*]*\s*from\s*|\bimport\s*\(\s*)["']([^"']+)["']/g),
    ].map((match) => match[1]);
    for (const specifier of specifiers) {
      assert.ok(specifier.startsWith('./'), `${name} imports ${specifier}`);
    }
  }
});

test('a fresh Node process outside the repository loads the vendored library', () => {
  const url = new URL('libsodium-wrappers.mjs', VENDOR_URL).href;
  const script = `import sodium from ${JSON.stringify(url)}; await sodium.ready; console.log(sodium.SODIUM_VERSION_STRING, typeof sodium.crypto_pwhash);`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
  });
  assert.equal(output.trim(), '1.0.22 function');
});

test('the build has every primitive SPEC.md needs (the sumo build, for Argon2id)', () => {
  for (const name of [
    'crypto_pwhash',
    'crypto_generichash',
    'crypto_aead_xchacha20poly1305_ietf_encrypt',
    'crypto_aead_xchacha20poly1305_ietf_decrypt',
    'crypto_sign_seed_keypair',
    'crypto_sign_detached',
    'crypto_sign_verify_detached',
    'crypto_scalarmult',
    'crypto_scalarmult_base',
    'randombytes_buf',
    'memzero',
    'memcmp',
    'to_base64',
    'from_base64',
  ]) {
    assert.equal(typeof sodium[name], 'function', name);
  }
  assert.equal(sodium.crypto_pwhash_ALG_ARGON2ID13, 2);
  assert.equal(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, 24);
  assert.equal(sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES, 16);
  assert.equal(sodium.base64_variants.URLSAFE_NO_PADDING, 7);
});

test("libsodium's crypto_scalarmult refuses a low-order point, as SPEC.md relies on", () => {
  assert.throws(() => sodium.crypto_scalarmult(sodium.randombytes_buf(32), new Uint8Array(32)));
});
