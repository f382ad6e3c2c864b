// The browser crypto package mirrors crypto/: the same error classes and hierarchy as
// crypto/errors.py, one module per Python module, and one door to libsodium.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { CRYPTO_URL, confide, cryptoModule } from './_support.mjs';

const ERRORS_PY = new URL('../../crypto/errors.py', import.meta.url);
const cryptoFiles = readdirSync(fileURLToPath(CRYPTO_URL)).filter((name) => name.endsWith('.js'));

test('the error classes and their hierarchy are those of crypto/errors.py', () => {
  const python = {};
  for (const match of readFileSync(ERRORS_PY, 'utf8').matchAll(/^class (\w+)\((\w+)\):/gm)) {
    python[match[1]] = match[2];
  }
  assert.equal(Object.keys(python).length, 9);
  const errors = Object.fromEntries(
    Object.entries(confide).filter(
      ([, value]) => typeof value === 'function' && value.prototype instanceof Error,
    ),
  );
  assert.deepEqual(Object.keys(errors).sort(), Object.keys(python).sort());
  for (const [name, parent] of Object.entries(python)) {
    const cls = errors[name];
    assert.equal(cls.name, name);
    assert.equal(cls.prototype.name, name);
    assert.equal(new cls('x').name, name);
    const expectedParent = parent === 'Exception' ? Error : errors[parent];
    assert.equal(Object.getPrototypeOf(cls), expectedParent, `${name} extends ${parent}`);
  }
});

test('there is a module for each public module of crypto/', () => {
  for (const name of [
    'errors',
    'encoding',
    'random',
    'identity',
    'kdf',
    'bundle',
    'recovery',
    'conversation',
    'padding',
    'message',
    'safety',
    'succession',
    'index',
  ]) {
    assert.ok(cryptoFiles.includes(`${name}.js`), `${name}.js`);
  }
});

test('only _sodium.js imports libsodium, and no module imports anything outside the package', () => {
  for (const name of cryptoFiles) {
    const text = readFileSync(new URL(name, CRYPTO_URL), 'utf8');
    for (const [, specifier] of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gms)) {
      if (name === '_sodium.js') {
        assert.equal(specifier, '../../vendor/libsodium/libsodium-wrappers.mjs');
      } else {
        assert.match(specifier, /^\.\/[\w-]+\.js$/, `${name} imports ${specifier}`);
      }
    }
    assert.doesNotMatch(text, /\bimport\s*\(/, `${name} has a dynamic import`);
    assert.doesNotMatch(text, /Math\.random/, `${name} uses Math.random`);
  }
});

test('randomness is drawn only through random.js, from libsodium', () => {
  for (const name of cryptoFiles.filter((file) => file !== 'random.js')) {
    const text = readFileSync(new URL(name, CRYPTO_URL), 'utf8');
    assert.doesNotMatch(text, /randombytes_buf|getRandomValues\(/, name);
  }
  assert.match(
    readFileSync(new URL('random.js', CRYPTO_URL), 'utf8'),
    /sodium\.randombytes_buf\(n\)/,
  );
});

/** The parameter list of a function, or of a class's constructor ('' if it has none). */
function parameters(fn) {
  const source = String(fn);
  const match = source.startsWith('class')
    ? /\bconstructor\s*\(([^)]*)\)/.exec(source)
    : /^[^(]*\(([^)]*)\)/.exec(source);
  return match ? match[1] : '';
}

test('index.js exports no internal helper, no randomness substitute and no nonce parameter', async () => {
  const names = Object.keys(confide);
  assert.ok(!names.some((name) => name.startsWith('_')));
  assert.ok(!names.includes('substituteRandomSource'));
  const functions = Object.values(confide).filter((value) => typeof value === 'function');
  assert.ok(parameters(confide.sealMessage).includes('clientMessageId'));
  assert.ok(parameters(confide.ConversationKey).includes('key'));
  for (const fn of functions) {
    assert.doesNotMatch(
      parameters(fn),
      /nonce|random|eph/i,
      `${fn.name} takes a nonce or randomness`,
    );
    for (const method of Object.getOwnPropertyNames(fn)) {
      if (typeof fn[method] === 'function' && method !== 'constructor') {
        assert.doesNotMatch(parameters(fn[method]), /nonce|random|eph/i, `${fn.name}.${method}`);
      }
    }
  }
  assert.equal(typeof (await cryptoModule('random.js')).substituteRandomSource, 'function');
  await confide.ready();
});
