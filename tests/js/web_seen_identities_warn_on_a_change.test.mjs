// The browser remembers each peer's public identity; a different one is reported until
// the person acknowledges it, and nothing but public data is stored.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MemoryStorage } from './_app_support.mjs';
import { SeenIdentities } from '../../frontend/static/frontend/src/app/seen.js';

test('the first identity is remembered without a warning', () => {
  const seen = new SeenIdentities(new MemoryStorage());
  assert.deepEqual(seen.check(7, 'AAAA'), { changed: false, previous: null });
  assert.deepEqual(seen.check(7, 'AAAA'), { changed: false, previous: 'AAAA' });
});

test('a different identity warns until acknowledged', () => {
  const storage = new MemoryStorage();
  const seen = new SeenIdentities(storage);
  seen.check(7, 'AAAA');
  assert.deepEqual(seen.check(7, 'BBBB'), { changed: true, previous: 'AAAA' });
  assert.deepEqual(new SeenIdentities(storage).check(7, 'BBBB'), { changed: true, previous: 'AAAA' });
  seen.acknowledge(7, 'BBBB');
  assert.deepEqual(seen.check(7, 'BBBB'), { changed: false, previous: 'BBBB' });
});

test('only user ids and public identities are stored', () => {
  const storage = new MemoryStorage();
  const seen = new SeenIdentities(storage);
  seen.check(7, 'AAAA');
  seen.check(9, 'CCCC');
  assert.deepEqual(JSON.parse(storage.getItem('confide.seen-identities')), { 7: 'AAAA', 9: 'CCCC' });
});

test('without storage nothing breaks', () => {
  const seen = new SeenIdentities(null);
  assert.deepEqual(seen.check(1, 'AAAA'), { changed: false, previous: null });
});

test('once closed (the session ended), nothing is written any more', () => {
  const storage = new MemoryStorage();
  const seen = new SeenIdentities(storage);
  seen.close();
  assert.deepEqual(seen.check(7, 'AAAA'), { changed: false, previous: null });
  seen.acknowledge(7, 'BBBB');
  assert.equal(storage.items.size, 0);
});
