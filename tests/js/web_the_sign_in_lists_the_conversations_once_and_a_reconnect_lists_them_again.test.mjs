// The sign-in lists every conversation once: the socket's first connect, right after it,
// does not fetch the whole listing again (with years of history that was megabytes and
// seconds, and a click on a conversation waited behind it). A reconnect lists them again,
// since events may have been lost while the socket was down.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FIRST_PAGE, flush, signedInTab } from './_app_support.mjs';

const listings = (tab) => tab.requests.filter((path) => path === FIRST_PAGE).length;

test('the first connect after the sign-in does not list the conversations again; a reconnect does', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const tab = await signedInTab();
  try {
    await tab.connect();
    await flush();
    assert.equal(listings(tab), 1, 'listed once, by the sign-in');
    assert.equal(tab.messenger.conversations.size, 1, 'and the conversation is there');

    await tab.reconnect({ tick: (ms) => t.mock.timers.tick(ms) });
    await flush();
    assert.equal(listings(tab), 2, 'listed again after the connection came back');
  } finally {
    tab.close();
  }
});
