// The conversations are listed a page at a time (docs/protocol.md, "Pages"): the sign-in
// resolves, the inbox shows and the socket connects once the first page is in; the later
// pages follow, each shown as it comes; what the listing did not name is forgotten only
// after its last page; a conversation the last page names again (it moved while the pages
// were read) is taken once, as the later answer says. A failed later page loses nothing
// and the first connect lists again; a failed first page fails the sign-in. One listing
// runs at a time; a session that ends stops its listing; a reload's outbox is taken up
// once every page is in, its texts read and its messages sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  CONVERSATION, FIRST_PAGE, FakeWebSocket, ME, MemoryStorage, flush, jsonAnswer, readyFrame, signedInTab,
} from './_app_support.mjs';
import { confide } from './_support.mjs';

const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222',
  '33333333-3333-4333-8333-333333333333', '44444444-4444-4444-8444-444444444444'];

/** A promise and the functions that settle it. */
function held() {
  let release, fail;
  const promise = new Promise((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  return { promise, release, fail };
}

const refused = () => ({
  ok: false,
  status: 503,
  headers: { get: () => 'application/json' },
  json: async () => ({ error: { code: 'unavailable', message: 'The database is unavailable.' } }),
});

/**
 * Three pages: CONVERSATION and ids[0]; ids[1] and ids[2]; ids[3] and CONVERSATION again,
 * moved meanwhile (a newer message). The second page waits for `second`.
 */
function threePages(tab, second) {
  const moved = '2026-12-08T10:00:00+00:00';
  tab.answer = (path) => {
    if (path === FIRST_PAGE) {
      return Promise.resolve(jsonAnswer({ conversations: [tab.another(CONVERSATION), tab.another(ids[0])], next: 'c1' }));
    }
    if (path === `${FIRST_PAGE}&after=c1`) {
      return second.promise.then(() => jsonAnswer({ conversations: [tab.another(ids[1]), tab.another(ids[2])], next: 'c2' }));
    }
    if (path === `${FIRST_PAGE}&after=c2`) {
      return Promise.resolve(jsonAnswer({
        conversations: [tab.another(ids[3]), tab.another(CONVERSATION, { last_seq: 4, last_message_at: moved, unread: 4 })],
        next: null,
      }));
    }
    return undefined;
  };
  return moved;
}

test('the sign-in resolves with the first page, connects, and the later pages follow', async () => {
  const tab = await signedInTab();
  try {
    const second = held();
    const moved = threePages(tab, second);
    const sockets = FakeWebSocket.opened.length;

    await tab.messenger.start();

    assert.deepEqual([...tab.messenger.conversations.keys()].sort(), [CONVERSATION, ids[0]].sort(), 'the first page is in');
    assert.ok(tab.events.some((event) => event.type === 'conversations'), 'and shown');
    assert.equal(tab.messenger.listing, true, 'while the rest is still coming');
    assert.equal(FakeWebSocket.opened.length, sockets + 1, 'the socket connects without waiting for it');

    second.release();
    await tab.messenger.listed;

    assert.equal(tab.messenger.listing, false);
    assert.equal(tab.messenger.conversations.size, 5, 'every page is in, the moved one once');
    const again = tab.messenger.conversations.get(CONVERSATION);
    assert.equal(again.lastMessageAt, moved, 'as the later answer says');
    assert.equal(again.lastSeq, 4);
    assert.equal(again.unread, 4);
    assert.deepEqual(tab.requests, [FIRST_PAGE, `${FIRST_PAGE}&after=c1`, `${FIRST_PAGE}&after=c2`]);
  } finally {
    tab.close();
  }
});

test('the first connect waits for the listing under way instead of listing again', async () => {
  const tab = await signedInTab();
  try {
    const second = held();
    threePages(tab, second);
    await tab.messenger.start();
    tab.ws.deliver(readyFrame());
    await flush();
    assert.deepEqual(tab.requests, [FIRST_PAGE, `${FIRST_PAGE}&after=c1`], 'not listed again while the pages come');

    second.release();
    await tab.messenger.listed;
    await flush();

    assert.equal(tab.requests.filter((path) => path === FIRST_PAGE).length, 1, 'listed once');
    assert.equal(tab.messenger.conversations.size, 5);
  } finally {
    tab.close();
  }
});

test('what a listing did not name is forgotten only once its last page is in', async () => {
  const tab = await signedInTab();
  try {
    // Signed in with one page: CONVERSATION and ids[0].
    tab.answer = (path) =>
      path === FIRST_PAGE
        ? Promise.resolve(jsonAnswer({ conversations: [tab.another(CONVERSATION), tab.another(ids[0])], next: null }))
        : undefined;
    await tab.messenger.start();
    await tab.messenger.listed;
    assert.equal(tab.messenger.conversations.size, 2);

    // Listed again in two pages, neither naming ids[0] (it is no longer the person's).
    const second = held();
    tab.answer = (path) => {
      if (path === FIRST_PAGE) return Promise.resolve(jsonAnswer({ conversations: [tab.another(CONVERSATION)], next: 'c1' }));
      if (path === `${FIRST_PAGE}&after=c1`) {
        return second.promise.then(() => jsonAnswer({ conversations: [tab.another(ids[1])], next: null }));
      }
      return undefined;
    };
    const again = tab.messenger.refreshConversations();
    await flush();
    assert.ok(tab.messenger.conversations.has(ids[0]), 'kept while a page may still name it');

    second.release();
    await again;

    assert.deepEqual([...tab.messenger.conversations.keys()].sort(), [CONVERSATION, ids[1]].sort());
  } finally {
    tab.close();
  }
});

test('a later page that fails loses nothing, and the first connect lists again', async () => {
  const tab = await signedInTab();
  try {
    const second = held();
    tab.answer = (path) => {
      if (path === FIRST_PAGE && !second.failed) {
        return Promise.resolve(jsonAnswer({ conversations: [tab.another(CONVERSATION), tab.another(ids[0])], next: 'c1' }));
      }
      if (path === `${FIRST_PAGE}&after=c1`) return second.promise.then(refused);
      if (path === FIRST_PAGE) {
        return Promise.resolve(jsonAnswer({ conversations: [tab.another(CONVERSATION), tab.another(ids[0]), tab.another(ids[1])], next: null }));
      }
      return undefined;
    };
    await tab.messenger.start();
    second.failed = true;
    second.release();
    await tab.messenger.listed;

    assert.equal(tab.messenger.conversations.size, 2, 'the first page is kept');
    tab.ws.deliver(readyFrame());
    await flush();
    await flush();

    assert.equal(tab.requests.filter((path) => path === FIRST_PAGE).length, 2, 'listed again at the connect');
    assert.equal(tab.messenger.conversations.size, 3);
  } finally {
    tab.close();
  }
});

test('a first page that fails fails the sign-in', async () => {
  const tab = await signedInTab();
  try {
    tab.answer = (path) => (path === FIRST_PAGE ? Promise.resolve(refused()) : undefined);
    const sockets = FakeWebSocket.opened.length;

    await assert.rejects(tab.messenger.start());

    assert.equal(FakeWebSocket.opened.length, sockets, 'no socket opened');
    assert.equal(tab.messenger.conversations.size, 0);
  } finally {
    tab.close();
  }
});

test('a listing asked for while one is under way begins when it ends, once for every such ask', async () => {
  const tab = await signedInTab();
  try {
    const second = held();
    threePages(tab, second);
    await tab.messenger.start();

    const asked = [tab.messenger.refreshConversations(), tab.messenger.refreshConversations()];
    await flush();
    assert.deepEqual(tab.requests, [FIRST_PAGE, `${FIRST_PAGE}&after=c1`], 'none begun beside the first');

    second.release();
    await Promise.all(asked);

    assert.equal(tab.requests.filter((path) => path === FIRST_PAGE).length, 2, 'one more listing for both asks');
    assert.equal(tab.messenger.conversations.size, 5);
  } finally {
    tab.close();
  }
});

test('a session that ends while the pages come takes in nothing more and asks for no more', async () => {
  const tab = await signedInTab();
  const second = held();
  threePages(tab, second);
  await tab.messenger.start();

  tab.close(); // signed out: everything wiped
  second.release();
  await tab.messenger.listed;

  assert.equal(tab.messenger.conversations.size, 0);
  assert.deepEqual(tab.requests, [FIRST_PAGE, `${FIRST_PAGE}&after=c1`], 'the third page never asked for');
});

test('a later page that fails leaves the listing unfinished until a whole one comes', async () => {
  const tab = await signedInTab();
  try {
    const second = held();
    let whole = false;
    tab.answer = (path) => {
      if (path === FIRST_PAGE && !whole) {
        return Promise.resolve(jsonAnswer({ conversations: [tab.another(CONVERSATION)], next: 'c1' }));
      }
      if (path === `${FIRST_PAGE}&after=c1`) return second.promise.then(refused);
      if (path === FIRST_PAGE) {
        return Promise.resolve(jsonAnswer({ conversations: [tab.another(CONVERSATION), tab.another(ids[0])], next: null }));
      }
      return undefined;
    };
    await tab.messenger.start();
    second.release();
    await tab.messenger.listed;
    assert.equal(tab.messenger.listing, true, 'what the next listing brings is still the listing');

    whole = true;
    await tab.messenger.refreshConversations();

    assert.equal(tab.messenger.listing, false);
  } finally {
    tab.close();
  }
});

test("a reload's outbox waits for every page, then its texts are read and its messages go", async () => {
  const storage = new MemoryStorage();
  const tab = await signedInTab({ storage });
  try {
    const second = held();
    threePages(tab, second);
    // Before the reload, a message written in a conversation of the second page, not sent.
    const clientMessageId = crypto.randomUUID();
    tab.another(ids[1]);
    const sealed = confide.sealText('written before the reload', tab.otherKeys.get(ids[1]), ids[1], 0, tab.mine, clientMessageId);
    storage.setItem(`confide.outbox.${ME}`, JSON.stringify([{
      clientMessageId, conversation: ids[1], createdAt: new Date().toISOString(), epoch: 0,
      ciphertext: confide.b64encode(sealed),
    }]));

    await tab.messenger.start();
    tab.ws.deliver(readyFrame());
    await flush();
    assert.deepEqual(tab.ws.sentOf('send'), [], 'not before its conversation is in');

    second.release();
    await tab.messenger.listed;
    await flush();

    const [send] = tab.ws.sentOf('send');
    assert.equal(send?.client_message_id, clientMessageId, 'sent once every page is in');
    assert.equal(tab.ws.sentOf('send').length, 1);
    assert.deepEqual(tab.messenger.pending(ids[1]).map((m) => m.text), ['written before the reload']);
  } finally {
    tab.close();
  }
});

test('a conversation without messages is placed by the start of its epoch, as the server orders them', async () => {
  const tab = await signedInTab();
  try {
    const [monday, tuesday, wednesday, thursday] = ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03']
      .map((day) => `${day}T09:00:00Z`);
    tab.answer = (path) =>
      path === FIRST_PAGE
        ? Promise.resolve(jsonAnswer({
          conversations: [
            tab.another(ids[0], { last_message_at: null, epoch_started_at: thursday }),
            tab.another(ids[1], { last_message_at: wednesday, epoch_started_at: monday }),
            tab.another(ids[2], { last_message_at: null, epoch_started_at: monday }),
            tab.another(ids[3], { last_message_at: tuesday, epoch_started_at: monday }),
          ],
          next: null,
        }))
        : undefined;
    await tab.messenger.start();

    assert.deepEqual(tab.messenger.list().map((c) => c.id), [ids[0], ids[1], ids[3], ids[2]]);
  } finally {
    tab.close();
  }
});
