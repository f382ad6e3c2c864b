/**
 * The public identities this browser has seen for each peer (trust on first use).
 *
 * A server could substitute a peer's public key; the person can notice only if the
 * browser remembers what it saw before. Kept in localStorage: public data only (user id
 * and base64url public identity), never a secret.
 *
 * @module
 */

const KEY = 'confide.seen-identities';

/**
 * @param {{getItem: (k: string) => string|null, setItem: (k: string, v: string) => void}|null} storage
 * @returns {Record<string, string>}
 */
function read(storage) {
  try {
    const parsed = JSON.parse(storage?.getItem(KEY) ?? '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter(([k, v]) => /^\d+$/.test(k) && typeof v === 'string'),
    );
  } catch {
    return {};
  }
}

export class SeenIdentities {
  /** @param {{getItem: (k: string) => string|null, setItem: (k: string, v: string) => void}|null} storage */
  constructor(storage) {
    this.storage = storage;
  }

  /**
   * Compare a peer's served identity with the one seen before. The first sighting is
   * remembered; a different one is reported and NOT remembered until acknowledged, so the
   * warning stays until the person has dealt with it.
   * @param {number} userId
   * @param {string} identity base64url public identity
   * @returns {{changed: boolean, previous: string|null}}
   */
  check(userId, identity) {
    const seen = read(this.storage);
    const previous = seen[String(userId)] ?? null;
    if (previous === null) {
      this.#write({ ...seen, [String(userId)]: identity });
      return { changed: false, previous: null };
    }
    return { changed: previous !== identity, previous };
  }

  /**
   * The person has seen the warning (and, we hope, compared the new safety number).
   * @param {number} userId
   * @param {string} identity
   */
  acknowledge(userId, identity) {
    this.#write({ ...read(this.storage), [String(userId)]: identity });
  }

  /** Stop remembering (the session ended): a late answer must not write again. */
  close() {
    this.storage = null;
  }

  /** @param {Record<string, string>} seen */
  #write(seen) {
    try {
      this.storage?.setItem(KEY, JSON.stringify(seen));
    } catch {
      // Without storage there is no memory across visits; nothing else breaks.
    }
  }
}
