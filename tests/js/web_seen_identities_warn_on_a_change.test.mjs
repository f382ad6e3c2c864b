// The peers' identities a person has seen and verified are their pins (crypto/SPEC.md,
// "Pins"), kept in a record the server stores sealed for them: read at sign-in, written
// back on each change, merged when another session wrote. A different identity is reported
// until the person deals with it; a verified one that changed says so.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MemoryPinStore, sameString } from './_app_support.mjs';
import { SeenIdentities } from '../../frontend/static/frontend/src/app/seen.js';

const fresh = () => {
  const store = new MemoryPinStore();
  return { store, seen: new SeenIdentities(store, sameString) };
};

test('the first identity is pinned without a warning, and written to the record', async () => {
  const { store, seen } = fresh();
  await seen.load();
  assert.deepEqual(seen.check(7, 'AAAA'), { changed: false, previous: null, verified: false });
  assert.deepEqual(seen.check(7, 'AAAA'), { changed: false, previous: 'AAAA', verified: false });
  await seen.flush();
  assert.equal(store.counter, 1);
  assert.deepEqual(store.pins.map((pin) => [pin.userId, pin.fingerprint, pin.verified]), [[7, 'AAAA', false]]);
});

test('a pin outlives the session: a later sign-in, anywhere, warns of a different key', async () => {
  const { store, seen } = fresh();
  await seen.load();
  seen.check(7, 'AAAA');
  await seen.flush();
  seen.close();

  const later = new SeenIdentities(store, sameString);
  await later.load();
  assert.deepEqual(later.check(7, 'BBBB'), { changed: true, previous: 'AAAA', verified: false });
  assert.deepEqual(later.check(7, 'BBBB').changed, true, 'not pinned until dealt with');
  later.acknowledge(7, 'BBBB');
  assert.deepEqual(later.check(7, 'BBBB'), { changed: false, previous: 'BBBB', verified: false });
});

test('a verified key that changes is reported as verified; accepting it drops the verification', async () => {
  const { store, seen } = fresh();
  await seen.load();
  seen.check(7, 'AAAA');
  seen.verify(7, 'AAAA');
  assert.equal(seen.isVerified(7, 'AAAA'), true);
  await seen.flush();

  const later = new SeenIdentities(store, sameString);
  await later.load();
  assert.deepEqual(later.check(7, 'BBBB'), { changed: true, previous: 'AAAA', verified: true });
  assert.equal(later.isVerified(7, 'BBBB'), false);
  later.acknowledge(7, 'BBBB');
  assert.equal(later.isVerified(7, 'BBBB'), false);
  later.verify(7, 'BBBB');
  assert.equal(later.isVerified(7, 'BBBB'), true);
});

test('two sessions writing at once lose no pin: the later one merges and writes again', async () => {
  const { store } = fresh();
  const phone = new SeenIdentities(store, sameString);
  const laptop = new SeenIdentities(store, sameString);
  await phone.load();
  await laptop.load();
  phone.check(7, 'AAAA');
  await phone.flush();
  laptop.check(9, 'CCCC');
  await laptop.flush();
  assert.equal(store.counter, 2);
  assert.deepEqual(store.pins.map((pin) => pin.userId).sort(), [7, 9]);
  assert.equal(laptop.unsaved, false);
});

test('a record that did not open is said, and written over with what is seen now', async () => {
  const store = new MemoryPinStore();
  store.counter = 4;
  store.read = async () => ({ counter: 4, pins: [], unreadable: true });
  const seen = new SeenIdentities(store, sameString);
  await seen.load();
  assert.equal(seen.unreadable, true);
  seen.check(7, 'AAAA');
  await seen.flush();
  assert.equal(store.counter, 5);
});

test('once closed (the session ended), nothing is written any more', async () => {
  const { store, seen } = fresh();
  await seen.load();
  seen.close();
  seen.check(7, 'AAAA');
  seen.acknowledge(7, 'BBBB');
  await seen.flush();
  assert.equal(store.writes, 0);
});

test('a pin set while a write is under way is written too', async () => {
  const { store, seen } = fresh();
  await seen.load();
  const write = store.write.bind(store);
  let release;
  const gate = new Promise((resolve) => {
    release = resolve;
  });
  store.write = async (previous, pins) => {
    await gate;
    return write(previous, pins);
  };
  seen.check(7, 'AAAA');
  await Promise.resolve();
  seen.check(9, 'CCCC');
  release();
  await seen.flush();
  assert.deepEqual(store.pins.map((pin) => pin.userId).sort(), [7, 9]);
});

test('a record served again without a pin does not drop it here', async () => {
  const { store, seen } = fresh();
  await seen.load();
  seen.verify(7, 'AAAA');
  await seen.flush();
  // Another "session" (the server) writes a record without user 7.
  store.counter += 1;
  store.pins = [{ userId: 9, fingerprint: 'CCCC', verified: false, at: 1 }];
  seen.check(11, 'EEEE');
  await seen.flush();
  const pinned = store.pins.map((pin) => [pin.userId, pin.verified]);
  assert.deepEqual(pinned.sort((a, b) => a[0] - b[0]), [
    [7, true],
    [9, false],
    [11, false],
  ]);
});

test('a verification made elsewhere of the same key wins over a sighting here', async () => {
  const { store, seen } = fresh();
  await seen.load();
  seen.check(7, 'AAAA');
  await seen.flush();
  const elsewhere = new SeenIdentities(store, sameString);
  await elsewhere.load();
  elsewhere.verify(7, 'AAAA');
  await elsewhere.flush();
  seen.acknowledge(7, 'AAAA');
  await seen.flush();
  assert.equal(store.pins.find((pin) => pin.userId === 7).verified, true);
});

test('a record whose counter went back is not read, and nothing is written over it', async () => {
  const { store, seen } = fresh();
  await seen.load();
  seen.check(7, 'AAAA');
  seen.check(8, 'BBBB');
  await seen.flush();
  seen.check(9, 'CCCC');
  await seen.flush();
  assert.equal(store.counter, 2);
  // The server serves an older record and refuses the next write.
  store.counter = 1;
  store.pins = [];
  store.write = async () => {
    throw Object.assign(new Error('another session wrote'), { code: 'pins_changed' });
  };
  seen.check(10, 'DDDD');
  await seen.flush();
  assert.equal(seen.unsaved, true);
  assert.deepEqual(seen.check(7, 'AAAA').previous, 'AAAA', 'still pinned here');
});
