// Every way out of a session removes every `confide.*` entry from both web storages, and
// nothing else.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { forgetStored } from '../../frontend/static/frontend/src/app/storage.js';

class ListedStorage {
  constructor(entries) {
    this.items = new Map(Object.entries(entries));
  }
  get length() {
    return this.items.size;
  }
  key(i) {
    return [...this.items.keys()][i] ?? null;
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

test('confide entries go, others stay', () => {
  const local = new ListedStorage({
    'confide.seen-identities': '{"2":"abc"}',
    'confide.agreement.3': '{}',
    'other-app': 'kept',
  });
  const session = new ListedStorage({ 'confide.outbox.3': '[]', confidential: 'kept too' });
  assert.equal(forgetStored(session, local), 3);
  assert.deepEqual([...local.items.keys()], ['other-app']);
  assert.deepEqual([...session.items.keys()], ['confidential']);
});

test('a missing or refusing storage is skipped', () => {
  const refusing = {
    get length() {
      throw new Error('SecurityError');
    },
    key() {
      return null;
    },
    removeItem() {},
  };
  const local = new ListedStorage({ 'confide.x': '1' });
  assert.equal(forgetStored(null, refusing, local), 1);
  assert.equal(local.items.size, 0);
});
