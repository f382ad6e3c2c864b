// Loads the web client's plain-logic modules (no DOM) for node --test.
export const APP_URL = new URL('../../frontend/static/frontend/src/app/', import.meta.url);

/** A Storage stand-in that records what was written. */
export class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}
