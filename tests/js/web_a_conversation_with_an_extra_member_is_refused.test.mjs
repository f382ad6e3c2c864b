// A server that adds a third member to a conversation gets the whole conversation refused:
// otherwise that member's envelopes and messages would be trusted.
import assert from 'node:assert/strict';
import { test } from 'node:test';

const { refuseUnlessTwoPeople, ConversationRefused } = await import(
  new URL('../../frontend/static/frontend/src/app/conversations.js', import.meta.url).href
);

const me = 1;
const m = (id, role) => ({ id, role, display_name: `user ${id}`, public_identity: 'x' });

test('me and my therapist is accepted', () => {
  refuseUnlessTwoPeople({ id: 'c', members: [m(me, 'client'), m(2, 'therapist')] }, me);
});

const refused = {
  'a third member': [m(me, 'client'), m(2, 'therapist'), m(99, 'therapist')],
  alone: [m(me, 'client')],
  'without me': [m(2, 'client'), m(3, 'therapist')],
  'two clients': [m(me, 'client'), m(2, 'client')],
  'an admin': [m(me, 'client'), m(2, 'admin')],
  'me twice': [m(me, 'client'), m(me, 'therapist')],
};
for (const [name, members] of Object.entries(refused)) {
  test(`a member list with ${name} is refused`, () => {
    assert.throws(() => refuseUnlessTwoPeople({ id: 'c', members }, me), ConversationRefused);
  });
}
