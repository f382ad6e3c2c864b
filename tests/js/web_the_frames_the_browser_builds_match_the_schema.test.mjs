// Every frame the browser sends is built in frames.js and is one protocol/schema.json
// allows (`#/frames/to_server`), also as it goes on the wire, with the `ref` the socket adds.
// A frame off the schema is refused by the same check, so the check can fail.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import {
  APP_URL,
  CONVERSATION,
  EXAMPLE_MESSAGE_ID,
  FakeWebSocket,
  SCHEMA,
  appModule,
  schemaValidator,
} from './_app_support.mjs';

const frames = await appModule('frames.js');
const { Socket } = await appModule('socket.js');
const toServer = schemaValidator('#/frames/to_server');

const built = {
  send: frames.sendFrame({ conversation: CONVERSATION, clientMessageId: EXAMPLE_MESSAGE_ID, epoch: 3, ciphertext: 'AQID_-x' }),
  'sync of one conversation': frames.syncFrame({ [CONVERSATION]: 12 }),
  'sync of none': frames.syncFrame({}),
  'history, the newest page': frames.historyFrame(CONVERSATION, { limit: 50 }),
  'history, an older page': frames.historyFrame(CONVERSATION, { before: 51, limit: 50 }),
  read: frames.readFrame(CONVERSATION, 7),
  typing: frames.typingFrame(CONVERSATION),
  rekey: frames.rekeyFrame(CONVERSATION, 4, [
    { recipient: 7, envelope: 'AQID' },
    { recipient: 8, envelope: 'BAUG' },
  ]),
  ping: frames.pingFrame(),
};

/** Why the schema refused a frame, for the failure message. */
const why = () => JSON.stringify(toServer.errors?.slice(0, 3));

for (const [name, frame] of Object.entries(built)) {
  test(`the ${name} frame matches the schema, with and without a ref`, () => {
    assert.ok(toServer(frame), why());
    assert.ok(toServer({ ...frame, ref: 'r1' }), why());
  });
}

test('every frame type of the schema has a builder, and every builder builds one', () => {
  const types = new Set(Object.keys(SCHEMA.frames.to_server.discriminator.mapping));
  const builders = Object.entries(frames).filter(([name]) => name.endsWith('Frame'));
  assert.equal(builders.length, Object.keys(frames).length, 'frames.js exports builders only');
  assert.deepEqual(new Set(Object.values(built).map((frame) => frame.type)), types);
  assert.deepEqual(new Set(builders.map(([name]) => name.replace(/Frame$/, ''))), types);
});

test('what the socket puts on the wire matches the schema, ref included', async () => {
  globalThis.location = { protocol: 'http:', host: 'confide.test' };
  globalThis.WebSocket = FakeWebSocket;
  const socket = new Socket({ url: '/ws', onFrame() {}, onReady() {}, onState() {}, onSessionGone() {} });
  socket.start();
  FakeWebSocket.latest.deliver({ type: 'ready', user: 7, limits: { max_frame_bytes: 262144, message_rate: 20, message_burst: 40, history_page: 100, max_sockets: 10 } });
  const replies = [];
  for (const frame of Object.values(built)) {
    if (frame.type === 'typing') socket.send(frame);
    else replies.push(socket.request(frame).catch(() => undefined));
  }
  const sent = FakeWebSocket.latest.sent;
  socket.stop();
  await Promise.all(replies);
  assert.equal(sent.length, Object.keys(built).length);
  for (const frame of sent) {
    assert.ok(toServer(frame), `${frame.type}: ${why()}`);
    if (frame.type !== 'typing') assert.match(frame.ref, /^[A-Za-z0-9_.:-]{1,64}$/);
  }
});

const wrong = {
  'an unknown field': { ...built.send, text: 'the plaintext' },
  'a conversation that is no UUID': { ...built.send, conversation: 'not-a-uuid' },
  'no ciphertext': { type: 'send', conversation: CONVERSATION, client_message_id: EXAMPLE_MESSAGE_ID, epoch: 0 },
  'padding in base64url': { ...built.send, ciphertext: 'AQID==' },
  'a negative epoch': { ...built.send, epoch: -1 },
  'an unknown type': { type: 'shout', conversation: CONVERSATION },
  'no type': { conversation: CONVERSATION, seq: 1 },
  'a ref with a space': { ...built.ping, ref: 'r 1' },
  'a history page of none': frames.historyFrame(CONVERSATION, { limit: 0 }),
  'a rekey without envelopes': frames.rekeyFrame(CONVERSATION, 1, []),
  'a sync keyed by something else than a conversation id': { type: 'sync', after: { 'not-a-uuid': 1 } },
};
for (const [name, frame] of Object.entries(wrong)) {
  test(`a frame with ${name} is refused by the schema`, () => {
    assert.equal(toServer(frame), false);
  });
}

test('no other module of the app writes a frame of its own', () => {
  const pattern = /\btype:\s*'(send|sync|history|read|typing|rekey|ping)'/;
  for (const folder of ['', 'views/']) {
    const url = new URL(folder, APP_URL);
    for (const name of readdirSync(fileURLToPath(url)).filter((file) => file.endsWith('.js'))) {
      if (folder === '' && name === 'frames.js') continue;
      const text = readFileSync(new URL(name, url), 'utf8');
      assert.doesNotMatch(text, pattern, `${folder}${name} builds a frame`);
    }
  }
});
