/**
 * Reconnect delays: exponential, capped, with jitter.
 *
 * Many tabs losing the same server at once must not come back at the same instant, so each
 * delay is drawn from the upper half of its exponential ceiling ("equal jitter"): never
 * shorter than half the ceiling, never longer than the ceiling.
 *
 * @module
 */

/** A uniform number in [0, 1) from the browser's CSPRNG (not security-relevant here). */
export function uniformRandom() {
  const word = new Uint32Array(1);
  globalThis.crypto.getRandomValues(word);
  return word[0] / 2 ** 32;
}

/**
 * The delay in milliseconds before reconnect attempt `attempt` (0 for the first).
 * @param {number} attempt
 * @param {{initial?: number, maximum?: number, random?: () => number}} [options]
 * @returns {number}
 */
export function backoffDelay(attempt, options = {}) {
  const initial = options.initial ?? 500;
  const maximum = options.maximum ?? 30_000;
  const random = options.random ?? uniformRandom;
  const step = Math.max(0, Math.min(Math.floor(attempt), 30));
  const ceiling = Math.min(maximum, initial * 2 ** step);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
