/**
 * The public identities this person has seen for each peer, and which they verified: their
 * pins (crypto/SPEC.md, "Pins").
 *
 * A server could substitute a peer's public key; the person can notice only if what they
 * saw before is remembered, and remembered beyond this tab: otherwise a key served after
 * the next sign-in, in a new browser, would raise no warning. So the pins live in a record
 * the server keeps for the person (`/api/me/pins`), sealed by their own keys: the server
 * can neither read it nor make one that opens. Nothing is written to this device.
 *
 * The pins are read once at sign-in (`load`), before any peer's identity is trusted, and
 * held in memory; each change is written back, and a write that crosses another session's
 * is merged and written again.
 *
 * @module
 */

/**
 * One pin: the fingerprint (base64url) of the identity seen for a peer, whether the person
 * verified it, and when (seconds since 1970) it was set.
 * @typedef {{userId: number, fingerprint: string, verified: boolean, at: number}} PinEntry
 */

/**
 * Where the pins are kept. `read` resolves to the record's counter and pins (`unreadable`
 * when a record is there but did not open); `write` keeps the pins as the record after
 * `previous` and resolves to the new counter, or rejects with an error whose `code` is
 * `pins_changed` when another session wrote meanwhile.
 * @typedef {{read: () => Promise<{counter: number, pins: PinEntry[], unreadable?: boolean}>,
 *            write: (previous: number, pins: PinEntry[]) => Promise<number>}} PinStore
 */

const MERGE_ATTEMPTS = 3;

export class SeenIdentities {
  /** @type {Map<number, PinEntry>} */
  #pins = new Map();
  /** Pins set here since the last read, to be kept over another session's when merging. */
  /** @type {Map<number, PinEntry>} */
  #changed = new Map();
  #counter = 0;
  /** @type {PinStore|null} */
  #store;
  /** @type {(identity: string) => string} */
  #fingerprint;
  /** Fingerprints worked out so far, by identity: each is checked once, not per listing. */
  /** @type {Map<string, string>} */
  #fingerprints = new Map();
  /** @type {Promise<void>} */
  #writing = Promise.resolve();
  /** Whether the record the server served did not open: it was altered. */
  unreadable = false;
  /** Whether the last write failed for good (the pins are then kept in memory only). */
  unsaved = false;

  /**
   * @param {PinStore} store
   * @param {(identity: string) => string} fingerprint a served identity's fingerprint
   */
  constructor(store, fingerprint) {
    this.#store = store;
    this.#fingerprint = fingerprint;
  }

  /** Read the pins (sign-in). */
  async load() {
    if (!this.#store) return;
    const read = await this.#store.read();
    this.#take(read);
    this.unreadable = Boolean(read.unreadable);
  }

  /**
   * Compare a peer's served identity with the pin. The first sighting is pinned as seen;
   * a different one is reported and NOT pinned until the person deals with it, so the
   * warning stays until then.
   * @param {number} userId
   * @param {string} identity base64url public identity
   * @returns {{changed: boolean, previous: string|null, verified: boolean}} `previous`: the
   *   pinned fingerprint; `verified`: whether the pin was verified
   */
  check(userId, identity) {
    const fingerprint = this.#fingerprintOf(identity);
    const pin = this.#pins.get(userId);
    if (!pin) {
      this.#set(userId, fingerprint, false);
      return { changed: false, previous: null, verified: false };
    }
    return {
      changed: pin.fingerprint !== fingerprint,
      previous: pin.fingerprint,
      verified: pin.verified,
    };
  }

  /**
   * Whether this identity is the one pinned for the peer, and verified.
   * @param {number} userId
   * @param {string} identity
   */
  isVerified(userId, identity) {
    const pin = this.#pins.get(userId);
    return Boolean(pin?.verified && pin.fingerprint === this.#fingerprintOf(identity));
  }

  /**
   * The person accepted the peer's identity as it is now (after a change): pinned as seen,
   * not verified.
   * @param {number} userId
   * @param {string} identity
   */
  acknowledge(userId, identity) {
    this.#set(userId, this.#fingerprintOf(identity), false);
  }

  /**
   * The person compared the safety number with the peer in person and it matched.
   * @param {number} userId
   * @param {string} identity
   */
  verify(userId, identity) {
    this.#set(userId, this.#fingerprintOf(identity), true);
  }

  /** Resolves once every change made so far has been written (or given up). */
  flush() {
    return this.#writing;
  }

  /** Stop remembering (the session ended): a late answer must not write again. */
  close() {
    this.#store = null;
    this.#fingerprints.clear();
    this.#pins.clear();
    this.#changed.clear();
  }

  /**
   * A served identity's fingerprint; parsing it verifies its signature, so it is done once
   * per identity, not at every listing of every conversation.
   * @param {string} identity
   */
  #fingerprintOf(identity) {
    let fingerprint = this.#fingerprints.get(identity);
    if (fingerprint === undefined) {
      fingerprint = this.#fingerprint(identity);
      this.#fingerprints.set(identity, fingerprint);
    }
    return fingerprint;
  }

  /**
   * @param {number} userId
   * @param {string} fingerprint
   * @param {boolean} verified
   */
  #set(userId, fingerprint, verified) {
    const pin = { userId, fingerprint, verified, at: Math.floor(Date.now() / 1000) };
    this.#pins.set(userId, pin);
    this.#changed.set(userId, pin);
    this.#writing = this.#writing.then(() => this.#write());
  }

  async #write() {
    for (let attempt = 0; attempt < MERGE_ATTEMPTS && this.#store && this.#changed.size; attempt += 1) {
      const store = this.#store;
      const written = new Map(this.#changed);
      try {
        this.#counter = await store.write(this.#counter, [...this.#pins.values()]);
        // A pin set while the write was under way is written by the next one.
        for (const [userId, pin] of written) {
          if (this.#changed.get(userId) === pin) this.#changed.delete(userId);
        }
        this.unsaved = false;
        return;
      } catch (error) {
        if (/** @type {any} */ (error)?.code !== 'pins_changed') break;
        // Another session wrote: add its pins to these, and write again.
        try {
          this.#merge(await store.read());
        } catch {
          break;
        }
      }
    }
    if (this.#changed.size) this.unsaved = true;
  }

  /**
   * The record read at sign-in.
   * @param {{counter: number, pins: PinEntry[]}} read
   */
  #take(read) {
    this.#counter = read.counter;
    this.#pins = new Map(read.pins.map((pin) => [pin.userId, pin]));
  }

  /**
   * Another session's record, read again after `pins_changed`: its pins are added to
   * these, never in place of them (a record served without a pin does not drop it here);
   * for a user pinned both here and there, a verification of the same key wins, and
   * otherwise the newer pin. A record that did not open, or whose counter is below the
   * one known, is not read (only its counter is taken, so that the next write follows).
   * @param {{counter: number, pins: PinEntry[], unreadable?: boolean}} read
   */
  #merge(read) {
    if (read.counter < this.#counter) throw new Error('The pin record went back');
    this.#counter = read.counter;
    if (read.unreadable) return;
    for (const theirs of read.pins) {
      const mine = this.#pins.get(theirs.userId);
      const local = this.#changed.get(theirs.userId);
      if (!mine || (!local && mine.at <= theirs.at)) {
        this.#pins.set(theirs.userId, theirs);
      } else if (local && local.fingerprint === theirs.fingerprint && theirs.verified) {
        this.#pins.set(theirs.userId, { ...local, verified: true });
        this.#changed.set(theirs.userId, /** @type {PinEntry} */ (this.#pins.get(theirs.userId)));
      } else if (local && theirs.fingerprint !== local.fingerprint && theirs.at > local.at) {
        this.#pins.set(theirs.userId, theirs);
        this.#changed.delete(theirs.userId);
      }
    }
  }
}
