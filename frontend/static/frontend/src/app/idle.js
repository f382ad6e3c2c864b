/**
 * Automatic sign-out after a period without any interaction.
 *
 * A timestamp is compared on a short interval and whenever the tab becomes visible
 * again, because browsers slow timers in background tabs.
 *
 * @module
 */

const EVENTS = ['pointerdown', 'keydown', 'touchstart', 'wheel', 'input'];

export class IdleTimer {
  /** @type {number|undefined} */
  #interval;
  #last = Date.now();

  /**
   * @param {number} limitMs
   * @param {() => void} onIdle
   */
  constructor(limitMs, onIdle) {
    this.limitMs = limitMs;
    this.onIdle = onIdle;
    this.touch = () => {
      this.#last = Date.now();
    };
    this.check = () => {
      if (Date.now() - this.#last >= this.limitMs) {
        this.stop();
        this.onIdle();
      }
    };
  }

  start() {
    this.#last = Date.now();
    for (const name of EVENTS) document.addEventListener(name, this.touch, { passive: true });
    document.addEventListener('visibilitychange', this.check);
    this.#interval = setInterval(this.check, Math.min(15_000, this.limitMs / 4));
  }

  stop() {
    clearInterval(this.#interval);
    for (const name of EVENTS) document.removeEventListener(name, this.touch);
    document.removeEventListener('visibilitychange', this.check);
  }
}
