// After a refused `send`, the browser sends the same bytes again exactly for the error codes
// whose `resend` is true in protocol/schema.json's `errors` (the server stored nothing); every
// other code leaves the message for the person to decide. protocol.js, generated from the
// same definition, is what the page reads, and no module keeps a copy of its own.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { APP_URL, CONVERSATION, SCHEMA, appModule, flush, signedInTab } from './_app_support.mjs';

const protocol = await appModule('protocol.js');
const schemaResend = Object.keys(SCHEMA.errors).filter((code) => SCHEMA.errors[code].resend);

test("protocol.js's RESEND and ERROR_STATUS are the schema's", () => {
  assert.deepEqual([...protocol.RESEND].sort(), schemaResend.sort());
  assert.deepEqual(
    Object.fromEntries(Object.entries(SCHEMA.errors).map(([code, spec]) => [code, spec.status])),
    { ...protocol.ERROR_STATUS },
  );
  assert.deepEqual(
    [...protocol.SESSION_GONE].sort(),
    [
      SCHEMA.close_codes.session_ended,
      SCHEMA.close_codes.unauthenticated,
      SCHEMA.close_codes.second_factor_enrolment_required,
    ].sort(),
  );
});

for (const [code, { resend }] of Object.entries(SCHEMA.errors)) {
  test(`a send refused with ${code} is ${resend ? '' : 'not '}sent again with the same bytes`, async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const tab = await signedInTab();
    try {
      await tab.connect();
      const id = await tab.messenger.sendText(CONVERSATION, `refused with ${code}`);
      const [first] = tab.ws.sentOf('send');
      tab.ws.deliver({ type: 'error', ref: first.ref, code, message: 'Refused.' });
      await flush();
      // Longer than the first pauses of the backoff, shorter than a ping.
      t.mock.timers.tick(2_000);
      await flush();
      const again = tab.ws
        .sentOf('send')
        .slice(1)
        .filter((frame) => frame.client_message_id === id && frame.ciphertext === first.ciphertext);
      assert.equal(again.length, resend ? 1 : 0);
      const [pending] = tab.messenger.pending(CONVERSATION);
      assert.equal(pending.state, resend ? 'sending' : 'failed');
      if (!resend) assert.equal(pending.error, code);
    } finally {
      tab.close();
    }
  });
}

test('a resend waits retry_after_ms when the error carries it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  try {
    await tab.connect();
    await tab.messenger.sendText(CONVERSATION, 'rate limited');
    const [first] = tab.ws.sentOf('send');
    tab.ws.deliver({ type: 'error', ref: first.ref, code: 'rate_limited', message: 'Slow down.', retry_after_ms: 7_000 });
    await flush();
    t.mock.timers.tick(6_999);
    assert.equal(tab.ws.sentOf('send').length, 1);
    t.mock.timers.tick(1);
    assert.equal(tab.ws.sentOf('send').length, 2);
  } finally {
    tab.close();
  }
});

test('no module of the app keeps its own list of resendable or close codes', () => {
  // One such code alone may be a code the module gives (api.js names a bare HTML 500
  // `server_error`); a list of them is a copy.
  const resendable = /'(unavailable|server_error|rate_limited|overloaded)'/g;
  const closeCodes = /\b(4001|4401|4008|1009|1012)\b/;
  for (const folder of ['', 'views/']) {
    const url = new URL(folder, APP_URL);
    for (const name of readdirSync(fileURLToPath(url)).filter((file) => file.endsWith('.js'))) {
      if (folder === '' && name === 'protocol.js') continue;
      const text = readFileSync(new URL(name, url), 'utf8');
      const named = new Set([...text.matchAll(resendable)].map((match) => match[1]));
      assert.ok(named.size <= 1, `${folder}${name} names ${[...named]}`);
      assert.doesNotMatch(text, closeCodes, `${folder}${name}`);
    }
  }
});
