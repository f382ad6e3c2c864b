// A therapist's archived conversation comes back to the main list when the other member
// writes after it was archived, exactly as the server's listing decides it: the page's own
// messages, and messages written before the archive, leave it archived; a listing the
// server wrote before a message this page has already seen does not archive it again.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, ME, PEER, appModule, flush, signedInTab } from './_app_support.mjs';

const { writtenAfter, applyInboxEntry, shownName } = await appModule('conversations.js');

test('server times compare to the microsecond, with or without a fraction', () => {
  const at = '2026-03-02T10:00:00+00:00';
  assert.equal(writtenAfter('2026-03-02T10:00:00.000001+00:00', at), true);
  assert.equal(writtenAfter(at, '2026-03-02T10:00:00.000001+00:00'), false);
  assert.equal(writtenAfter(at, at), false, 'the same instant is not after');
  assert.equal(writtenAfter('2026-03-02T10:00:00.000400+00:00', '2026-03-02T10:00:00.000300+00:00'), true,
    'within one millisecond');
  assert.equal(writtenAfter('2026-03-02T10:00:01Z', at), true, 'other spellings as dates');
  assert.equal(writtenAfter(at, null), false, 'nothing archived, nothing to undo');
});

test('a label replaces the name shown, and an empty one shows the member again', () => {
  const peer = { displayName: 'Casey Client' };
  assert.equal(shownName({ label: 'C. (Tuesdays)' }, peer), 'C. (Tuesdays)');
  assert.equal(shownName({ label: '' }, peer), 'Casey Client');
});

test('an answer written before a message seen here does not archive the conversation again', () => {
  const conversation = { label: '', archivedAt: null, lastIncomingAt: '2026-03-02T10:00:05+00:00' };
  applyInboxEntry(conversation, { label: 'C.', archived_at: '2026-03-02T10:00:04+00:00' });
  assert.deepEqual([conversation.label, conversation.archivedAt], ['C.', null]);
  applyInboxEntry(conversation, { label: 'C.', archived_at: '2026-03-02T10:00:06+00:00' });
  assert.equal(conversation.archivedAt, '2026-03-02T10:00:06+00:00');
});

/** A tab whose listing says the conversation was archived between messages 2 and 3. */
async function archivedTab() {
  const tab = await signedInTab();
  const second = Date.parse(tab.stored({ seq: 2 }).sent_at);
  tab.conversation.archived_at = new Date(second + 500).toISOString();
  tab.conversation.label = 'C.';
  await tab.connect();
  const conversation = tab.messenger.conversations.get(CONVERSATION);
  assert.equal(conversation.archivedAt, tab.conversation.archived_at, 'listed archived');
  assert.equal(conversation.label, 'C.');
  return { tab, conversation };
}

test("the other member's message written after the archive brings the conversation back", async () => {
  const { tab, conversation } = await archivedTab();
  try {
    tab.ws.deliver(tab.stored({ seq: 2, sender: PEER }));
    await flush();
    assert.notEqual(conversation.archivedAt, null, 'written before the archive');
    tab.events.length = 0;

    tab.ws.deliver(tab.stored({ seq: 3, sender: PEER }));
    await flush();

    assert.equal(conversation.archivedAt, null);
    assert.equal(conversation.label, 'C.', 'the label stays');
    assert.ok(tab.events.some((event) => event.type === 'conversations'), 'the inbox redraws');
  } finally {
    tab.close();
  }
});

test("the page's own message leaves the conversation archived", async () => {
  const { tab, conversation } = await archivedTab();
  try {
    tab.ws.deliver(tab.stored({ seq: 3, sender: ME }));
    await flush();

    assert.notEqual(conversation.archivedAt, null);
  } finally {
    tab.close();
  }
});
