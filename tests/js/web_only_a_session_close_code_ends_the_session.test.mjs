// A websocket closed with one of the schema's session codes (signed out, never signed in,
// a therapist or admin without a second factor) ends the session in the page; any other
// close code only makes it reconnect.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FakeWebSocket, SCHEMA, flush, signedInTab } from './_app_support.mjs';

const sessionGone = new Set([
  SCHEMA.close_codes.session_ended,
  SCHEMA.close_codes.unauthenticated,
  SCHEMA.close_codes.second_factor_enrolment_required,
]);

for (const [name, code] of Object.entries(SCHEMA.close_codes)) {
  const ends = sessionGone.has(code);
  test(`a close with ${code} (${name}) ${ends ? 'ends the session' : 'is followed by a reconnect'}`, async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    const tab = await signedInTab();
    try {
      await tab.connect();
      const socket = tab.ws;
      socket.drop(code);
      await flush();
      t.mock.timers.tick(30_000); // past the longest first delay
      const ended = tab.events.filter((e) => e.type === 'session-ended');
      assert.deepEqual(ended.map((e) => e.detail.code), ends ? [code] : []);
      assert.equal(FakeWebSocket.latest !== socket, !ends, ends ? 'no reconnect' : 'a new socket');
    } finally {
      tab.close();
    }
  });
}
