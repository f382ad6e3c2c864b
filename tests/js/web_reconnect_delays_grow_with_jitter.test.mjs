// Reconnect delays grow exponentially to a cap, and are jittered within the upper half of
// each step, so that many tabs do not return at the same instant.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { backoffDelay, uniformRandom } from '../../frontend/static/frontend/src/app/backoff.js';

test('the delay doubles per attempt until the cap', () => {
  const top = { initial: 500, maximum: 30_000, random: () => 0.999999 };
  const delays = [0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(attempt, top));
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
});

test('jitter keeps each delay between half the step and the step', () => {
  for (let attempt = 0; attempt < 12; attempt += 1) {
    const ceiling = Math.min(30_000, 500 * 2 ** attempt);
    const low = backoffDelay(attempt, { random: () => 0 });
    const high = backoffDelay(attempt, { random: () => 0.999999 });
    assert.equal(low, Math.round(ceiling / 2));
    assert.ok(high <= ceiling && high >= ceiling - 1);
  }
});

test('real jitter varies and stays in range', () => {
  const seen = new Set();
  for (let i = 0; i < 50; i += 1) {
    const delay = backoffDelay(3);
    assert.ok(delay >= 2000 && delay <= 4000);
    seen.add(delay);
  }
  assert.ok(seen.size > 10);
  const value = uniformRandom();
  assert.ok(value >= 0 && value < 1);
});

test('absurd attempts neither overflow nor go negative', () => {
  assert.ok(backoffDelay(1e9) <= 30_000);
  assert.ok(backoffDelay(-5) >= 250);
});
