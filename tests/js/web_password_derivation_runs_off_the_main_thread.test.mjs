// derivePasswordKeysOffThread gives exactly the keys of derivePasswordKeys and refuses the
// same inputs (in Node there is no Worker: it derives on the calling thread; the browser
// tests run it in the Worker).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { confide, fieldsOf } from './_support.mjs';

const salt = new Uint8Array(16).fill(7);
const params = new confide.KdfParams({ opslimit: 2, memlimit: 32 * 1024 * 1024 });

test('the same keys as on the main thread', async () => {
  const direct = confide.derivePasswordKeys('correct horse', salt, params);
  const off = await confide.derivePasswordKeysOffThread('correct horse', salt, params);
  assert.equal(off.authSecretB64(), direct.authSecretB64());
  assert.deepEqual(fieldsOf(off.kek).key, fieldsOf(direct.kek).key);
  direct.wipe();
  off.wipe();
});

test('the same refusals, before any work', async () => {
  for (const [password, badSalt, badParams] of [
    ['', salt, params],
    [42, salt, params],
    ['pw', new Uint8Array(15), params],
    ['pw', salt, { opslimit: 2, memlimit: 32 * 1024 * 1024 }],
    ['\uD800', salt, params],
  ]) {
    await assert.rejects(
      confide.derivePasswordKeysOffThread(password, badSalt, badParams),
      confide.FormatError,
    );
  }
});
