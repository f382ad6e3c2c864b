// The browser takes every frame the server may send: each example of protocol/schema.json's
// `frames.to_client` members goes through the page's own incoming path (socket.js, then the
// messenger) and is handled without an error, with its effect where it has one. A reply is
// given the `ref` of the request it answers (an example's `ref` is only an example).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  CONVERSATION,
  EXAMPLE_MESSAGE_ID,
  FIRST_PAGE,
  MemoryStorage,
  PEER,
  SCHEMA,
  flush,
  schemaValidator,
  signedInTab,
} from './_app_support.mjs';

const toClient = schemaValidator('#/frames/to_client');
const members = SCHEMA.frames.to_client.oneOf.map((item) => item.$ref.split('/').pop());
const examples = members.flatMap((name) =>
  (SCHEMA.$defs[name].examples ?? []).map((example, index) => ({ name, index, example })),
);

/** The request of `type` the page sent last, and `example` as the reply to it. */
function answering(tab, type, example) {
  const request = tab.ws.sentOf(type).at(-1);
  assert.ok(request, `the page sent a ${type} request`);
  return { request, reply: { ...example, ref: request.ref } };
}

/** Each scenario sets a tab up, feeds it `example` and checks what it did. */
const scenarios = {
  async ready(tab, example) {
    await tab.messenger.start();
    tab.ws.deliver(example);
    await flush();
    assert.equal(tab.messenger.socket.connected, true);
    assert.ok(tab.events.some((e) => e.type === 'status' && e.detail.state === 'open'));
    // The first ready follows the sign-in's listing at once: it is not fetched again.
    assert.equal(tab.requests.filter((path) => path === FIRST_PAGE).length, 1, 'listed once');
  },

  async message(tab, example) {
    await tab.connect();
    const timeline = await tab.open();
    tab.ws.deliver(example);
    await flush();
    const held = timeline.get(example.seq);
    assert.ok(held, 'held at its seq');
    // The example's ciphertext is no sealed message: held as unopenable, never as text.
    assert.equal(held.text, null);
    assert.ok(held.problem);
    assert.equal(tab.messenger.conversations.get(CONVERSATION).lastSeq, example.seq);
  },

  async ack(tab, example) {
    const stored = { conversation: CONVERSATION, clientMessageId: EXAMPLE_MESSAGE_ID, epoch: 0, ciphertext: 'AQID', createdAt: new Date().toISOString() };
    tab.storage.setItem(`confide.outbox.${tab.messenger.me.id}`, JSON.stringify([stored]));
    await tab.connect();
    const timeline = await tab.open();
    assert.equal(tab.messenger.outbox.has(EXAMPLE_MESSAGE_ID), true, 'resent after ready');
    const { reply } = answering(tab, 'send', example);
    tab.ws.deliver(reply);
    await flush();
    assert.equal(tab.messenger.outbox.has(EXAMPLE_MESSAGE_ID), false, 'settled');
    assert.equal(timeline.get(example.seq)?.clientMessageId, EXAMPLE_MESSAGE_ID);
  },

  async sync(tab, example) {
    await tab.connect();
    await tab.open([tab.stored({ seq: 1 })]);
    // A push that skips a number makes the page ask what lies between.
    tab.ws.deliver(tab.stored({ seq: example.conversations[0].last_seq }));
    await flush();
    const { request, reply } = answering(tab, 'sync', example);
    assert.deepEqual(request.after, { [CONVERSATION]: 1 });
    tab.ws.deliver(reply);
    await flush();
    // Answered, nothing more to ask: the queue of incoming work moves on.
    assert.equal(tab.ws.sentOf('sync').length, 1);
    tab.ws.deliver(tab.stored({ seq: example.conversations[0].last_seq + 1 }));
    await flush();
    assert.ok(tab.messenger.conversations.get(CONVERSATION).timeline.has(example.conversations[0].last_seq + 1));
  },

  async history(tab, example) {
    await tab.connect();
    const opening = tab.messenger.open(CONVERSATION);
    await flush();
    tab.ws.deliver(answering(tab, 'history', example).reply);
    await opening;
    const timeline = tab.messenger.conversations.get(CONVERSATION).timeline;
    assert.equal(timeline.complete, !example.has_more);
    assert.equal(timeline.size, example.messages.length);
  },

  async read_ok(tab, example) {
    await tab.connect();
    await tab.open([1, 2, 3].map((seq) => tab.stored({ seq })));
    const reading = tab.messenger.markRead(CONVERSATION);
    await flush();
    tab.ws.deliver(answering(tab, 'read', example).reply);
    await reading;
    assert.equal(tab.messenger.conversations.get(CONVERSATION).lastReadSeq, example.seq);
  },

  async rekey_ok(tab, example) {
    // The epoch holds 100 messages: the next message begins a new one first.
    tab.conversation.epoch_messages = 100;
    await tab.connect();
    await tab.open();
    const sending = tab.messenger.sendText(CONVERSATION, 'in a new epoch');
    await flush();
    const { request, reply } = answering(tab, 'rekey', example);
    assert.equal(request.epoch, example.epoch);
    tab.ws.deliver(reply);
    await sending;
    assert.equal(tab.messenger.conversations.get(CONVERSATION).currentEpoch, example.epoch);
    assert.equal(tab.ws.sentOf('send').at(-1).epoch, example.epoch);
    assert.ok(tab.events.some((e) => e.type === 'epoch' && e.detail.epoch === example.epoch));
  },

  async pong(tab, example, t) {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    await tab.connect();
    t.mock.timers.tick(25_000);
    tab.ws.deliver(answering(tab, 'ping', example).reply);
    await flush();
    t.mock.timers.tick(10_000);
    await flush();
    assert.equal(tab.ws.closedWith, null, 'a ping answered in time keeps the socket');
    assert.equal(tab.messenger.socket.connected, true);
  },

  async 'error:stale_epoch'(tab, example) {
    await tab.connect();
    await tab.messenger.sendText(CONVERSATION, 'sealed under epoch 0');
    tab.beginEpoch(example.current_epoch);
    const { request, reply } = answering(tab, 'send', example);
    tab.ws.deliver(reply);
    await flush();
    const resent = tab.ws.sentOf('send').at(-1);
    assert.notEqual(resent, request);
    assert.equal(resent.client_message_id, request.client_message_id, 'the same id');
    assert.equal(resent.epoch, example.current_epoch, 're-sealed under the current epoch');
  },

  async 'error:overloaded'(tab, example, t) {
    t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    await tab.connect();
    await tab.messenger.sendText(CONVERSATION, 'to a busy server');
    const { request, reply } = answering(tab, 'send', example);
    tab.ws.deliver(reply);
    await flush();
    t.mock.timers.tick(example.retry_after_ms - 1);
    assert.equal(tab.ws.sentOf('send').length, 1, 'waits as told');
    t.mock.timers.tick(1);
    const resent = tab.ws.sentOf('send').at(-1);
    assert.notEqual(resent, request);
    assert.equal(resent.ciphertext, request.ciphertext, 'the same bytes');
  },

  async error(tab, example) {
    await tab.connect();
    await tab.messenger.sendText(CONVERSATION, 'refused');
    tab.ws.deliver(answering(tab, 'send', example).reply);
    await flush();
    assert.equal(tab.messenger.outbox.size, 1, 'an error settles nothing');
  },

  async read(tab, example) {
    await tab.connect();
    tab.ws.deliver(example);
    const conversation = tab.messenger.conversations.get(example.conversation);
    assert.equal(conversation.readSeqs.get(example.user), example.seq);
    assert.equal(tab.messenger.ownState(conversation, example.seq), 'read');
  },

  async typing(tab, example) {
    await tab.connect();
    tab.ws.deliver(example);
    assert.deepEqual(tab.events.find((e) => e.type === 'typing')?.detail, {
      conversation: example.conversation,
      user: example.user,
    });
  },

  async epoch(tab, example) {
    await tab.connect();
    tab.ws.deliver(example);
    await flush();
    // The example's envelope is no envelope: refused, and the epoch does not change.
    assert.equal(tab.keys.hasKey(example.conversation, example.epoch), false);
    assert.equal(tab.messenger.conversations.get(example.conversation).currentEpoch, 0);
    assert.ok(!tab.events.some((e) => e.type === 'epoch'));
  },

  async conversation_added(tab, example) {
    await tab.connect();
    const before = tab.requests.length;
    const events = tab.events.length;
    tab.ws.deliver(example);
    await flush();
    assert.deepEqual(tab.requests.slice(before), [FIRST_PAGE], 'listed again');
    assert.ok(tab.events.slice(events).some((e) => e.type === 'conversations'));
  },

  async disclosure_recorded(tab, example) {
    await tab.connect();
    const before = tab.requests.length;
    tab.ws.deliver(example);
    await flush();
    assert.deepEqual(tab.events.find((e) => e.type === 'disclosure')?.detail, {
      conversation: example.conversation,
      disclosure: example.disclosure,
    });
    assert.deepEqual(tab.requests.slice(before), [], 'the accounting view lists them, not the engine');
  },

  async conversation_status(tab, example) {
    await tab.connect();
    const conversation = tab.messenger.conversations.get(example.conversation);
    tab.ws.deliver(example);
    await flush();
    assert.equal(conversation.status, example.status);
    if (example.status === 'discharged') assert.equal(conversation.dischargedAt, example.at);
    if (example.status === 'erased') {
      assert.equal(conversation.erasedAt, example.at);
      assert.equal(conversation.timeline, null, 'nothing of an erased conversation is kept');
    }
    assert.ok(tab.events.some((e) => e.type === 'conversations'));
  },
  async recovery_requested(tab, example) {
    await tab.connect();
    const before = tab.requests.length;
    tab.ws.deliver(example);
    await flush();
    assert.deepEqual(tab.events.find((e) => e.type === 'recoveries')?.detail, {
      recovery: example.recovery,
    });
    assert.deepEqual(tab.requests.slice(before), [], 'the views ask for the list, not the engine');
  },

  async identity_changed(tab, example) {
    await tab.connect();
    const before = tab.requests.length;
    tab.ws.deliver(example);
    await flush();
    assert.deepEqual(tab.requests.slice(before), [FIRST_PAGE], 'listed again');
    const said = tab.events.find((e) => e.type === 'identity-recovered')?.detail;
    if (example.reason === 'post_quantum') {
      // The same keys, now with an X-Wing key: read, and nothing to say.
      assert.equal(said, undefined);
    } else {
      assert.deepEqual(said, { user: example.user, confirmedBy: example.confirmed_by });
    }
  },
};

test('the schema has an example of every frame a server sends', () => {
  assert.ok(members.length >= 13);
  for (const name of members) assert.ok(SCHEMA.$defs[name].examples?.length, name);
});

for (const { name, index, example } of examples) {
  const label = example.type === 'error' ? `error ${example.code}` : example.type;
  test(`the server's ${label} frame (${name} example ${index + 1}) is handled`, async (t) => {
    assert.ok(toClient(example), JSON.stringify(toClient.errors));
    const scenario = scenarios[`${example.type}:${example.code}`] ?? scenarios[example.type];
    assert.ok(scenario, `no scenario for the ${label} frame: add one`);
    if (example.conversation !== undefined) assert.equal(example.conversation, CONVERSATION);
    if (example.user !== undefined && example.type !== 'ready') assert.equal(example.user, PEER);
    const rejections = [];
    const onRejection = (reason) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    const tab = await signedInTab({ storage: new MemoryStorage() });
    try {
      await scenario(tab, example, t);
      await flush();
    } finally {
      tab.close();
      process.off('unhandledRejection', onRejection);
    }
    assert.deepEqual(rejections, []);
  });
}
