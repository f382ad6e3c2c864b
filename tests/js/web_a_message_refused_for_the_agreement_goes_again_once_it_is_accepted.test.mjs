// A send refused with `agreement_required` (the practice published a messaging agreement the
// client has not accepted) is held, not lost: the page is told to show the agreement, and
// once it is accepted the same bytes go again, in the order written, and the ack settles
// them. agreement.js reads the text and version from the server and posts the version shown.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CONVERSATION, appModule, flush, signedInTab } from './_app_support.mjs';

const { fetchAgreement, hasAccepted, recordAcceptance } = await appModule('agreement.js');

const TEXT = {
  version: '2026-1',
  published_at: '2026-01-05T09:00:00+00:00',
  sections: [{ heading: 'Not for emergencies', paragraphs: ['Call 988 or 911.'] }],
};

test('a refused send waits for the agreement, then goes again with the same bytes, in order', async () => {
  const tab = await signedInTab();
  const asked = [];
  tab.messenger.addEventListener('agreement-required', (event) => asked.push(event.detail));
  try {
    await tab.connect();
    const first = await tab.messenger.sendText(CONVERSATION, 'first');
    const second = await tab.messenger.sendText(CONVERSATION, 'second');
    // One in flight at a time: the second goes once the first is refused.
    const [one] = tab.ws.sentOf('send');
    tab.ws.deliver({ type: 'error', ref: one.ref, code: 'agreement_required', message: 'Accept it first.' });
    await flush();
    const [, two] = tab.ws.sentOf('send');
    tab.ws.deliver({ type: 'error', ref: two.ref, code: 'agreement_required', message: 'Accept it first.' });
    await flush();
    assert.deepEqual(asked, [{ conversation: CONVERSATION }, { conversation: CONVERSATION }]);
    assert.deepEqual(
      tab.messenger.pending(CONVERSATION).map((m) => [m.text, m.state, m.error]),
      [['first', 'failed', 'agreement_required'], ['second', 'failed', 'agreement_required']],
    );
    assert.equal(tab.ws.sentOf('send').length, 2, 'nothing goes before the agreement is accepted');

    tab.messenger.agreementAccepted();
    await flush();

    const firstAgain = tab.ws.sentOf('send').slice(2);
    assert.deepEqual(firstAgain.map((f) => [f.client_message_id, f.ciphertext]), [[first, one.ciphertext]]);
    tab.ws.deliver(tab.ackOf(firstAgain[0], 1));
    await flush();
    const again = tab.ws.sentOf('send').slice(2);
    assert.deepEqual(
      again.map((f) => [f.client_message_id, f.ciphertext]),
      [[first, one.ciphertext], [second, two.ciphertext]],
    );
    tab.ws.deliver(tab.ackOf(again[1], 2));
    await flush();
    assert.deepEqual(tab.messenger.pending(CONVERSATION), []);
    // Accepting again finds nothing more to send.
    tab.messenger.agreementAccepted();
    await flush();
    assert.equal(tab.ws.sentOf('send').length, 4);
  } finally {
    tab.close();
  }
});

test('a message refused for another reason is not sent again when the agreement is accepted', async () => {
  const tab = await signedInTab();
  try {
    await tab.connect();
    await tab.messenger.sendText(CONVERSATION, 'closed');
    const [send] = tab.ws.sentOf('send');
    tab.ws.deliver({ type: 'error', ref: send.ref, code: 'conversation_closed', message: 'Read-only.' });
    await flush();
    tab.messenger.agreementAccepted();
    await flush();
    assert.equal(tab.ws.sentOf('send').length, 1);
  } finally {
    tab.close();
  }
});

test('the agreement shown is the server’s, and its version is the one posted', async () => {
  const asked = [];
  const current = await fetchAgreement(async (path) => {
    asked.push(path);
    return { agreement: TEXT, accepted: null };
  });
  assert.deepEqual(asked, ['/api/agreement']);
  assert.deepEqual(current, { agreement: TEXT, accepted: null });
  assert.equal(hasAccepted(current), false);

  const posted = [];
  const me = { agreement: { version: '2025-1', accepted_at: '2025-02-01T10:00:00+00:00' } };
  const record = { version: '2026-1', accepted_at: '2026-01-06T10:00:00+00:00' };
  await recordAcceptance(async (path, body) => {
    posted.push([path, body]);
    return { agreement: record };
  }, current, me);
  assert.deepEqual(posted, [['/api/agreement', { version: '2026-1' }]]);
  assert.deepEqual([current.accepted, me.agreement], [record, record]);
  assert.equal(hasAccepted(current), true);
});

test('an acceptance of another version than the current one does not count', async () => {
  assert.equal(hasAccepted({ agreement: TEXT, accepted: { version: '2025-1', accepted_at: TEXT.published_at } }), false);
  assert.equal(hasAccepted(null), false);
  await assert.rejects(fetchAgreement(async () => ({ agreement: null, accepted: null })));
  await assert.rejects(
    recordAcceptance(async () => ({ agreement: { version: '2025-1', accepted_at: TEXT.published_at } }), { agreement: TEXT, accepted: null }, {}),
    /did not record this version/,
  );
});
