/**
 * The key material of the signed-in person, composed from the crypto package.
 *
 * This module is the only part of the application that calls `../crypto/index.js`, and it
 * never touches libsodium itself. It holds the private identity and the conversation keys
 * in memory only; `wipe()` zeroes them (sign-out, inactivity, quick exit). Nothing here
 * writes to any storage.
 *
 * @module
 */

import * as confide from '../crypto/index.js';

export const { CryptoError, FormatError, DecryptionError, ROTATE_AFTER_MESSAGES } = confide;

/**
 * What a message says (crypto/SPEC.md, "Message content"): its text alone, as a string,
 * or its text and the files it presents.
 * @typedef {string | confide.MessageContent} Content
 */
/** @typedef {confide.AttachmentReference} AttachmentReference */

/** Argon2id parameters served for an account, checked against crypto/SPEC.md's bounds. */
function kdfParams(/** @type {any} */ kdf) {
  if (!kdf || kdf.algorithm !== 'argon2id13') {
    throw new confide.FormatError('The server named an unknown password derivation');
  }
  return {
    salt: confide.b64decode(kdf.salt),
    params: new confide.KdfParams({ opslimit: kdf.opslimit, memlimit: kdf.memlimit }),
  };
}

/**
 * Derive the password keys of an existing account; Argon2id runs in a Worker, so the page
 * stays responsive. The parameters the server served are checked against this browser's
 * floor (its sign-up default) first: below it, the password is not used at all and a
 * WeakParametersError is thrown (see `isWeakParameters`).
 * @param {string} password
 * @param {any} kdf the `{salt, opslimit, memlimit, algorithm}` object from the server
 * @returns {Promise<confide.PasswordKeys>}
 */
export async function derivePasswordKeys(password, kdf) {
  const { salt, params } = kdfParams(kdf);
  return confide.derivePasswordKeysOffThread(password, salt, confide.checkServedParams(params));
}

/** Whether `error` is the refusal of parameters below the floor (derivePasswordKeys). */
export function isWeakParameters(/** @type {unknown} */ error) {
  return error instanceof confide.WeakParametersError;
}

/** What a person is told when the server asked for a cheaper derivation than the floor. */
export const WEAK_PARAMETERS_TEXT =
  'The server asked this browser to protect your password less well than it allows, so ' +
  'your password was not used. Tell your practice: this should never happen, and can mean ' +
  'the server has been tampered with.';

/** Start the password-derivation Worker while the person types (sign-in, sign-up). */
export function warmPasswordDerivation() {
  confide.warmPasswordDerivation();
}

/**
 * A public identity from its base64url form, verified (self-signature, key shape).
 * @param {string} b64
 * @returns {confide.PublicIdentity}
 */
export function parseIdentity(b64) {
  return confide.PublicIdentity.fromBytes(confide.b64decode(b64));
}

/** The conversation keys this browser has unwrapped, per conversation and epoch. */
export class KeyRing {
  /** @type {Map<string, confide.ConversationKey>} */
  #keys = new Map();
  /** @type {Map<string, number>} */
  #created = new Map();
  /** @type {Set<string>} the epochs whose key came wrapped with X-Wing (version 3) */
  #xwing = new Set();

  /**
   * @param {string} conversation
   * @param {number} epoch
   */
  has(conversation, epoch) {
    return this.#keys.has(`${conversation}/${epoch}`);
  }

  /**
   * When the epoch began, as its version-2 envelope signs it (ms since 1970), or null.
   * @param {string} conversation
   * @param {number} epoch
   */
  createdAt(conversation, epoch) {
    return this.#created.get(`${conversation}/${epoch}`) ?? null;
  }

  /**
   * Whether the epoch's key came to this person wrapped with X-Wing (crypto/SPEC.md,
   * "Version 3: wrapped with X-Wing"), not with X25519 alone.
   * @param {string} conversation
   * @param {number} epoch
   */
  wrappedWithXWing(conversation, epoch) {
    return this.#xwing.has(`${conversation}/${epoch}`);
  }

  /**
   * @param {string} conversation
   * @param {number} epoch
   */
  get(conversation, epoch) {
    return this.#keys.get(`${conversation}/${epoch}`);
  }

  /**
   * @param {string} conversation
   * @param {number} epoch
   * @param {confide.ConversationKey} key
   * @param {number|null} [createdAt] when the epoch began, signed (version 2)
   * @param {boolean} [xwing] whether the key came wrapped with X-Wing (version 3)
   */
  add(conversation, epoch, key, createdAt = null, xwing = false) {
    const name = `${conversation}/${epoch}`;
    const old = this.#keys.get(name);
    if (old && old !== key) old.wipe();
    this.#keys.set(name, key);
    if (createdAt !== null) this.#created.set(name, createdAt);
    if (xwing) this.#xwing.add(name);
    else this.#xwing.delete(name);
  }

  /**
   * Forget the conversation's keys of the epochs after `epoch` (wiped): a server restored
   * from a backup numbers its next epochs again, with new keys. Returns how many went.
   * @param {string} conversation
   * @param {number} epoch
   */
  forgetAfter(conversation, epoch) {
    let gone = 0;
    for (const [name, key] of [...this.#keys]) {
      const slash = name.lastIndexOf('/');
      if (name.slice(0, slash) !== conversation || Number(name.slice(slash + 1)) <= epoch) continue;
      key.wipe();
      this.#keys.delete(name);
      this.#created.delete(name);
      this.#xwing.delete(name);
      gone += 1;
    }
    return gone;
  }

  get size() {
    return this.#keys.size;
  }

  toString() {
    return `KeyRing(${this.#keys.size} keys)`;
  }

  toJSON() {
    return this.toString();
  }

  wipe() {
    for (const key of this.#keys.values()) key.wipe();
    this.#keys.clear();
    this.#created.clear();
  }
}

/**
 * The signed-in person's secrets: the private identity and the conversation keys.
 * Everything that needs a secret goes through one of these methods.
 */
export class Keys {
  /** @type {confide.IdentityKeyPair|null} */
  #identity;
  ring = new KeyRing();
  /**
   * Envelopes kept unopened until their epoch's key is first needed (`defer`): years of
   * epochs are listed at sign-in, and opening each there cost seconds of a frozen page.
   * @type {Map<string, {envelope: string, wrappers: confide.PublicIdentity[],
   *                     refused: (error: unknown) => void}>}
   */
  #deferred = new Map();
  /**
   * This sign-in's sending session (crypto/SPEC.md, "Version 2: the sender's order"): a
   * chain id drawn once, and the last counter it used in each conversation.
   */
  #chain = confide.newChain();
  /** @type {Map<string, number>} */
  #counters = new Map();

  /** @param {confide.IdentityKeyPair} identity */
  constructor(identity) {
    this.#identity = identity;
  }

  /**
   * Sign-in: open the password-wrapped key bundle. Throws DecryptionError for a wrong
   * password, BindingError if the bundle holds keys other than `publicIdentity`.
   * @param {confide.PasswordKeys} passwordKeys
   * @param {string} bundle base64url
   * @param {string} publicIdentity base64url
   */
  static open(passwordKeys, bundle, publicIdentity) {
    const expected = parseIdentity(publicIdentity);
    return new Keys(confide.unwrapIdentity(confide.b64decode(bundle), passwordKeys.kek, expected));
  }

  get wiped() {
    return this.#identity === null || this.#identity.wiped;
  }

  /** The public identity (safe to show and compare). */
  get publicIdentity() {
    return this.#own().public;
  }

  /**
   * Whether `identity` signs with this person's own signing key (in either form of their
   * keys, with or without an X-Wing key).
   * @param {confide.PublicIdentity} identity
   */
  signsAsMe(identity) {
    return confide.b64encode(identity.signKey) === confide.b64encode(this.publicIdentity.signKey);
  }

  /**
   * At the first sign-in after this person's identity was of version 1: publish the
   * version-2 form of the same keys, which later epochs are wrapped to with X-Wing
   * (crypto/SPEC.md, "Version 2: an X-Wing key for envelopes"), and use the identity the
   * server then publishes (another session's, if it was first), once it certifies these
   * very keys (BindingError otherwise). Returns the published identity, base64url, or
   * null when there was nothing to do.
   * @param {(path: string, body: object) => Promise<any>} post
   * @returns {Promise<string|null>}
   */
  async publishXWingKey(post) {
    const own = this.#own();
    if (own.public.version === 2) return null;
    const upgraded = own.upgraded();
    const answer = await post('/api/me/identity', {
      public_identity: confide.b64encode(upgraded.public.toBytes()),
    });
    upgraded.wipe();
    if (parseIdentity(answer.public_identity).version !== 2) {
      throw new confide.BindingError('The server answered the X-Wing key\'s publication without it');
    }
    this.adopt(answer.public_identity);
    return answer.public_identity;
  }

  /**
   * Use `published` (base64url), the identity the server publishes for this person, if it
   * certifies these very keys (a recovery opens the keys without their identity). Throws
   * BindingError otherwise, and nothing changes.
   * @param {string} published
   */
  adopt(published) {
    const own = this.#own();
    const adopted = own.asPublished(parseIdentity(published));
    if (adopted !== own) {
      this.#identity = adopted;
      own.wipe();
    }
  }

  /**
   * The path of an invitation link this therapist gives (crypto/SPEC.md, "Invitation
   * links"): the server's token and the fingerprint of the identity this browser holds,
   * never of one the server serves, so the client's browser can refuse a substituted key.
   * @param {string} token
   */
  invitationPath(token) {
    return `/invite#${confide.invitationFragment(token, this.publicIdentity)}`;
  }

  /**
   * Unwrap an epoch key from its envelope and keep it.
   * @param {string} conversation
   * @param {number} epoch
   * @param {string} envelope base64url
   * @param {confide.PublicIdentity} wrapper
   */
  unwrap(conversation, epoch, envelope, wrapper) {
    const bytes = confide.b64decode(envelope);
    const key = confide.unwrapConversationKey(bytes, this.#own(), wrapper, conversation, epoch);
    // A version-2 envelope signs when its epoch began (crypto/SPEC.md, "Version 2: the
    // epoch's time and key, signed"): the age the rotation rule reads.
    const info = confide.parseEnvelope(bytes);
    this.ring.add(conversation, epoch, key, info.createdAt, info.version === 3);
  }

  /**
   * Unwrap an epoch key whose envelope may have been made by one of the wrapper's
   * identities before an assisted recovery changed it: `wrappers` are the current
   * identity, then earlier ones (crypto/SPEC.md, "Assisted recovery"). Throws the current
   * identity's failure when none verifies.
   * @param {string} conversation
   * @param {number} epoch
   * @param {string} envelope base64url
   * @param {confide.PublicIdentity[]} wrappers
   */
  unwrapFromAny(conversation, epoch, envelope, wrappers) {
    firstThatVerifies(wrappers, (wrapper) => this.unwrap(conversation, epoch, envelope, wrapper));
  }

  /**
   * Keep an epoch's envelope to open when its key is first needed (`hasKey`, and every
   * use of the key): as `unwrapFromAny` then, with the wrapper's identities as listed
   * now, and a failure is given to `refused` (which throws what is not a crypto error)
   * instead of thrown at the caller.
   * @param {string} conversation
   * @param {number} epoch
   * @param {string} envelope base64url
   * @param {confide.PublicIdentity[]} wrappers
   * @param {(error: unknown) => void} refused
   */
  defer(conversation, epoch, envelope, wrappers, refused) {
    const name = `${conversation}/${epoch}`;
    // The first listing's wrappers stand, as if it had been opened then: a later listing
    // could name another key as the wrapper's (a server's own, in its place).
    if (this.ring.has(conversation, epoch) || this.#deferred.has(name)) return;
    this.#deferred.set(name, { envelope, wrappers, refused });
  }

  /**
   * Drop the epoch's envelope kept unopened, if one waits (its key then comes from an
   * envelope listed or sent again).
   * @param {string} conversation
   * @param {number} epoch
   */
  undefer(conversation, epoch) {
    this.#deferred.delete(`${conversation}/${epoch}`);
  }

  /**
   * Forget the conversation's keys, held or kept unopened, of the epochs after `epoch`
   * (a server restored from a backup numbers its next epochs again, with new keys).
   * @param {string} conversation
   * @param {number} epoch
   */
  forgetAfter(conversation, epoch) {
    for (const name of [...this.#deferred.keys()]) {
      const slash = name.lastIndexOf('/');
      if (name.slice(0, slash) === conversation && Number(name.slice(slash + 1)) > epoch) {
        this.#deferred.delete(name);
      }
    }
    return this.ring.forgetAfter(conversation, epoch);
  }

  /**
   * Open the epoch's kept envelope, if one waits and its key is not held.
   * @param {string} conversation
   * @param {number} epoch
   */
  #settle(conversation, epoch) {
    const name = `${conversation}/${epoch}`;
    const waiting = this.#deferred.get(name);
    if (!waiting) return;
    this.#deferred.delete(name);
    if (this.ring.has(conversation, epoch)) return;
    try {
      this.unwrapFromAny(conversation, epoch, waiting.envelope, waiting.wrappers);
    } catch (error) {
      waiting.refused(error);
    }
  }

  /**
   * Assisted recovery: the keys of these epochs of a conversation, each wrapped to the
   * client's new identity and signed by this person, for `POST /api/recoveries/<id>/...`.
   * Throws MissingKeyError for an epoch whose key this browser does not hold.
   * @param {string} conversation
   * @param {number[]} epochs
   * @param {confide.PublicIdentity} recipient
   * @returns {string[]} base64url envelopes, in the order of `epochs`
   */
  wrapHistory(conversation, epochs, recipient) {
    return epochs.map((epoch) =>
      confide.b64encode(
        confide.wrapConversationKey(
          this.#key(conversation, epoch),
          conversation,
          epoch,
          recipient,
          this.#own(),
          // Its own time when this browser knows it, signed; else, to an identity with an
          // X-Wing key (version 3 needs a time), 0 for "not known"; else version 1.
          this.ring.createdAt(conversation, epoch) ?? (recipient.version === 2 ? 0 : null),
        ),
      ),
    );
  }

  /**
   * Assisted recovery: this therapist's signed word that the client `userId`'s identity
   * `previous` is replaced by `next`, dated now (crypto/SPEC.md, "Identity succession"),
   * for `POST /api/recoveries/<id>/confirm`. Throws FormatError for ids that are not ones
   * or `previous` equal to `next`.
   * @param {{userId: number, confirmerId: number, previous: confide.PublicIdentity,
   *          next: confide.PublicIdentity}} fields
   * @returns {string} base64url
   */
  signSuccession({ userId, confirmerId, previous, next }) {
    return confide.b64encode(
      confide.signSuccession(this.#own(), {
        userId,
        confirmerId,
        confirmedAt: Math.floor(Date.now() / 1000),
        previousIdentity: previous,
        newIdentity: next,
      }),
    );
  }

  /**
   * Seal a message's content (its text, or its text and the files it presents: crypto/SPEC.md,
   * "Message content") for sending as a version-2 message; returns the base64url wire form.
   *
   * A new message takes this session's next counter in the conversation, the time now,
   * and `previous`, the reference of the newest message held (null: none). A message
   * sealed again (`keepOrderOf`, the ciphertext it replaces) keeps that one's order, so
   * that its place in the session does not change. A seal that fails gives its counter
   * back.
   * @param {Content} content a string for a message of text only
   * @param {string} conversation
   * @param {number} epoch
   * @param {string} clientMessageId
   * @param {{previous?: string|null, keepOrderOf?: string|null}} [options]
   */
  seal(content, conversation, epoch, clientMessageId, { previous = null, keepOrderOf = null } = {}) {
    const key = this.#key(conversation, epoch);
    const kept = keepOrderOf === null ? null : orderIn(keepOrderOf);
    const order = kept ?? this.#nextOrder(conversation, previous);
    try {
      if (typeof content === 'string') {
        return confide.b64encode(
          confide.sealText(content, key, conversation, epoch, this.#own(), clientMessageId, order),
        );
      }
      const plaintext = confide.encodeContent(content);
      try {
        return confide.b64encode(
          confide.sealMessage(plaintext, key, conversation, epoch, this.#own(), clientMessageId, order),
        );
      } finally {
        plaintext.fill(0);
      }
    } catch (error) {
      if (kept === null) this.#counters.set(conversation, order.counter - 1);
      throw error;
    }
  }

  /**
   * @param {string} conversation
   * @param {string|null} previous base64url reference, or null
   */
  #nextOrder(conversation, previous) {
    const counter = (this.#counters.get(conversation) ?? 0) + 1;
    this.#counters.set(conversation, counter);
    return new confide.MessageOrder({
      chain: this.#chain,
      counter,
      sentAt: Date.now(),
      previous: previous === null ? new Uint8Array(32) : confide.b64decode(previous),
    });
  }

  /**
   * What a held message adds to the order check: the reference of its bytes, and, when
   * `verified` (it opened, or is this person's own), its version-2 order.
   * @param {string} ciphertext base64url, as held
   * @param {boolean} verified
   * @returns {{reference: string, order: HeldOrder|null}}
   */
  orderFacts(ciphertext, verified) {
    let wire;
    try {
      wire = confide.b64decode(ciphertext);
    } catch {
      // Not base64url: nothing genuine can name it, so its text stands in for its bytes.
      wire = new TextEncoder().encode(ciphertext);
    }
    const reference = confide.b64encode(confide.messageReference(wire));
    return { reference, order: verified ? this.orderOf(ciphertext) : null };
  }

  /**
   * The Ed25519 key (base64url) a message names as its signer, read without verifying:
   * call it only for a message that opened (so verified under that key).
   * @param {string} ciphertext base64url
   * @returns {string}
   */
  signerOf(ciphertext) {
    return confide.b64encode(confide.parseMessage(confide.b64decode(ciphertext)).senderSignPk);
  }

  /** This person's Ed25519 key (base64url): the signer of every message sealed here. */
  get signKeyB64() {
    return confide.b64encode(this.#own().signKey);
  }

  /**
   * This person's export of a conversation (crypto/SPEC.md, "Exports"): the file's bytes,
   * signed with their identity.
   * @param {string} conversation
   * @param {{client: {name: string, identity: confide.PublicIdentity},
   *          therapist: {name: string, identity: confide.PublicIdentity},
   *          messages: {seq: number, sender: string, time: number, signer: string|null,
   *                     text: string|null}[], exportedAt: number}} contents
   * @returns {Uint8Array}
   */
  makeExport(conversation, { client, therapist, messages, exportedAt }) {
    return confide.makeExport(this.#own(), conversation, {
      client: new confide.ExportMember(client),
      therapist: new confide.ExportMember(therapist),
      messages: messages.map(
        (message) =>
          new confide.ExportMessage({
            ...message,
            signer: message.signer === null ? null : confide.b64decode(message.signer),
          }),
      ),
      exportedAt,
    });
  }

  /**
   * The version-2 order a message carries, read without verifying: call it only for a
   * message that opened (so verified) or that this person sealed; null for version 1.
   * @param {string} ciphertext base64url
   * @returns {HeldOrder|null}
   */
  orderOf(ciphertext) {
    return plainOrder(orderIn(ciphertext));
  }

  /**
   * The order of a message whose key this browser lacks: its signature still verifies
   * under one of `senders` and names this conversation, epoch and message id, or null.
   * @param {string} ciphertext base64url
   * @param {confide.PublicIdentity[]} senders
   * @param {string} conversation
   * @param {number} epoch
   * @param {string} clientMessageId
   * @returns {HeldOrder|null}
   */
  verifiedOrder(ciphertext, senders, conversation, epoch, clientMessageId) {
    try {
      const wire = confide.b64decode(ciphertext);
      const info = firstThatVerifies(senders, (sender) => confide.verifyMessage(wire, sender));
      const bound =
        info.conversationUuid === conversation &&
        info.epoch === epoch &&
        info.clientMessageUuid === clientMessageId;
      return bound ? plainOrder(info.order) : null;
    } catch (error) {
      if (isCryptoError(error)) return null;
      throw error;
    }
  }

  /**
   * Open this person's pin record (crypto/SPEC.md, "Pins"). Throws a CryptoError subclass
   * when it does not open (altered, or not made with this identity).
   * @param {string} record base64url
   * @returns {{counter: number, pins: import('./seen.js').PinEntry[]}}
   */
  openPins(record) {
    const opened = confide.openPins(confide.b64decode(record), this.#own());
    return {
      counter: opened.counter,
      pins: opened.pins.map((pin) => ({
        userId: pin.userId,
        fingerprint: confide.b64encode(pin.fingerprint),
        verified: pin.verified,
        at: pin.at,
      })),
    };
  }

  /**
   * Seal this person's pins as the record with `counter`; base64url.
   * @param {number} counter
   * @param {import('./seen.js').PinEntry[]} pins
   */
  sealPins(counter, pins) {
    const sealed = pins.map(
      (pin) =>
        new confide.Pin({
          userId: pin.userId,
          fingerprint: confide.b64decode(pin.fingerprint),
          verified: pin.verified,
          at: pin.at,
        }),
    );
    return confide.b64encode(confide.sealPins(this.#own(), counter, sealed));
  }

  /**
   * The order notices for a run of consecutive held messages (crypto/SPEC.md, "Order").
   * @param {{seq: number, sender: number, reference: string, order: HeldOrder|null}[]} run
   * @param {boolean} fromStart whether the run begins at the conversation's first message
   * @returns {OrderNotice[]}
   */
  checkOrder(run, fromStart) {
    const entries = run.map(
      (message) =>
        new confide.OrderEntry({
          seq: message.seq,
          sender: message.sender,
          reference: confide.b64decode(message.reference),
          order:
            message.order === null
              ? null
              : new confide.MessageOrder({
                  chain: confide.b64decode(message.order.chain),
                  counter: message.order.counter,
                  sentAt: message.order.sentAt,
                  previous: confide.b64decode(message.order.previous),
                }),
        }),
    );
    return confide.checkOrder(entries, fromStart).map((notice) => ({
      kind: notice.kind,
      seq: notice.seq,
      sender: notice.sender,
      first: notice.first,
      last: notice.last,
      after: notice.after,
      before: notice.before,
    }));
  }

  /**
   * Verify and open a stored message. Throws a CryptoError subclass when it does not
   * verify or open; nothing is returned then.
   * @param {string} ciphertext base64url
   * @param {confide.PublicIdentity} sender
   * @param {string} conversation
   * @param {number} epoch
   * @param {string} clientMessageId
   * @returns {string}
   */
  open(ciphertext, sender, conversation, epoch, clientMessageId) {
    const key = this.#key(conversation, epoch);
    return confide.openText(
      confide.b64decode(ciphertext),
      key,
      sender,
      conversation,
      epoch,
      clientMessageId,
    );
  }

  /**
   * Verify and open a stored message as its content (crypto/SPEC.md, "Message content"):
   * its text as a string when it presents no file, else a MessageContent with its text and
   * the references of its files. Throws a CryptoError subclass when it does not verify or
   * open, or its content is malformed; nothing is returned then.
   * @param {string} ciphertext base64url
   * @param {confide.PublicIdentity} sender
   * @param {string} conversation
   * @param {number} epoch
   * @param {string} clientMessageId
   * @returns {Content}
   */
  openContent(ciphertext, sender, conversation, epoch, clientMessageId) {
    const key = this.#key(conversation, epoch);
    const plaintext = confide.openMessage(
      confide.b64decode(ciphertext),
      key,
      sender,
      conversation,
      epoch,
      clientMessageId,
    );
    // decodeContent copies what it keeps (the references hold their own copies of the file
    // keys): the plaintext is wiped here whatever it held.
    let content;
    try {
      content = confide.decodeContent(plaintext);
    } finally {
      plaintext.fill(0);
    }
    return content.attachments.length ? content : content.text;
  }

  /**
   * `openContent`, for a sender who may have sealed it with an identity an assisted
   * recovery replaced since (`openFromAny`).
   * @param {string} ciphertext base64url
   * @param {confide.PublicIdentity[]} senders
   * @param {string} conversation
   * @param {number} epoch
   * @param {string} clientMessageId
   * @returns {Content}
   */
  openContentFromAny(ciphertext, senders, conversation, epoch, clientMessageId) {
    return firstThatVerifies(senders, (sender) =>
      this.openContent(ciphertext, sender, conversation, epoch, clientMessageId),
    );
  }

  /**
   * `open`, for a sender who may have sealed it with an identity an assisted recovery
   * replaced since: `senders` are their current identity, then earlier ones. Throws the
   * current identity's failure when none verifies.
   * @param {string} ciphertext base64url
   * @param {confide.PublicIdentity[]} senders
   * @param {string} conversation
   * @param {number} epoch
   * @param {string} clientMessageId
   * @returns {string}
   */
  openFromAny(ciphertext, senders, conversation, epoch, clientMessageId) {
    return firstThatVerifies(senders, (sender) =>
      this.open(ciphertext, sender, conversation, epoch, clientMessageId),
    );
  }

  /**
   * A disclosure's description sealed to the conversation in `epoch` and signed by this
   * person (crypto/SPEC.md, "Disclosure records"), base64url. Throws FormatError for a
   * description off the rules (an empty text, a control character, too long) and
   * MissingKeyError without the epoch's key.
   * @param {{disclosedOn: string, legalBasis: string, recipient: string, information: string,
   *   purpose: string}} fields
   * @param {string} conversation
   * @param {number} epoch
   * @param {string} disclosureId
   */
  sealDisclosure(fields, conversation, epoch, disclosureId) {
    const description = new confide.DisclosureDescription(fields);
    const key = this.#key(conversation, epoch);
    return confide.b64encode(
      confide.sealDisclosure(description, key, conversation, epoch, this.#own(), disclosureId),
    );
  }

  /**
   * Verify and open a disclosure record as the server lists it, against the identities of
   * the conversation's therapist (current first) and the date and basis listed beside it.
   * Throws a CryptoError subclass (or MissingKeyError) when it does not verify or open.
   * @param {{id: string, conversation: string, epoch: number, disclosed_on: string,
   *   legal_basis: string, sealed: string}} item
   * @param {confide.PublicIdentity[]} recorders
   * @returns {{disclosedOn: string, legalBasis: string, recipient: string,
   *   information: string, purpose: string}}
   */
  openDisclosure(item, recorders) {
    const key = this.#key(item.conversation, item.epoch);
    const record = confide.b64decode(item.sealed);
    const description = firstThatVerifies(recorders, (recorder) =>
      confide.openDisclosure(
        record,
        key,
        recorder,
        item.conversation,
        item.epoch,
        item.id,
        item.disclosed_on,
        item.legal_basis,
      ),
    );
    return { ...description };
  }

  /**
   * Make and keep a new epoch key, wrapped to each member; returns the `rekey` envelopes.
   * @param {string} conversation
   * @param {number} epoch
   * @param {{id: number, identity: confide.PublicIdentity}[]} members
   */
  newEpoch(conversation, epoch, members) {
    const key = confide.ConversationKey.generate();
    // Every envelope signs the same time and commitment (crypto/SPEC.md, version 2).
    const createdAt = Date.now();
    const own = this.#own();
    const mine = confide.b64encode(own.signKey);
    let xwing = false;
    const envelopes = members.map((member) => {
      const wrapped = confide.wrapConversationKey(key, conversation, epoch, member.identity, own, createdAt);
      // Whether this person's own envelope is X-Wing's: what the rotation rule reads.
      if (confide.b64encode(member.identity.signKey) === mine) xwing = wrapped[0] === 3;
      return { recipient: member.id, envelope: confide.b64encode(wrapped) };
    });
    return { key, envelopes, createdAt, xwing };
  }

  /**
   * Keep a key made here once the server has accepted its epoch.
   * @param {string} conversation
   * @param {number} epoch
   * @param {confide.ConversationKey} key
   * @param {number|null} [createdAt] when it began, as its envelopes sign it
   * @param {boolean|null} [xwing] whether its envelope to this person was X-Wing's (null:
   *   as this person's identity holds an X-Wing key)
   */
  keep(conversation, epoch, key, createdAt = null, xwing = null) {
    this.ring.add(conversation, epoch, key, createdAt, xwing ?? this.#own().public.version === 2);
  }

  /**
   * @param {string} conversation
   * @param {number} epoch
   */
  hasKey(conversation, epoch) {
    this.#settle(conversation, epoch);
    return this.ring.has(conversation, epoch);
  }

  /** Zero the private identity and every conversation key. */
  wipe() {
    this.#deferred.clear();
    this.ring.wipe();
    this.#identity?.wipe();
    this.#identity = null;
  }

  toString() {
    return `Keys(${this.wiped ? 'wiped' : 'held'}, ${this.ring})`;
  }

  toJSON() {
    return this.toString();
  }

  #own() {
    if (this.#identity === null || this.#identity.wiped) {
      throw new confide.FormatError('The keys have been wiped: sign in again');
    }
    return this.#identity;
  }

  /**
   * @param {string} conversation
   * @param {number} epoch
   */
  #key(conversation, epoch) {
    this.#settle(conversation, epoch);
    const key = this.ring.get(conversation, epoch);
    if (!key) throw new MissingKeyError(conversation, epoch);
    return key;
  }
}

/**
 * The result of `attempt` with the first identity whose signature it verifies under. A
 * signature or binding failure moves on to the next identity; any other failure (a wrong
 * key, bad padding, a missing key) is the answer. Throws the first identity's failure when
 * none verifies.
 * @template T
 * @param {confide.PublicIdentity[]} identities
 * @param {(identity: confide.PublicIdentity) => T} attempt
 * @returns {T}
 */
function firstThatVerifies(identities, attempt) {
  /** @type {unknown} */
  let first = null;
  for (const identity of identities) {
    try {
      return attempt(identity);
    } catch (error) {
      if (!(error instanceof confide.SignatureError || error instanceof confide.BindingError)) throw error;
      first ??= error;
    }
  }
  throw first ?? new confide.FormatError('No identity to verify with');
}

/**
 * The fingerprint of a served public identity, base64url (crypto/SPEC.md, "Identity").
 * @param {string} identity base64url public identity
 */
export function fingerprintOf(identity) {
  return confide.b64encode(parseIdentity(identity).fingerprint());
}

/**
 * Who a message is written to: each member's user id and the fingerprint of their
 * identity, as one text that is equal exactly when both are (crypto/SPEC.md, "Identity").
 * Kept with each of this person's own messages, so that after a restore of the server one
 * is sealed again only to the very keys it was written to (delivery.js, `reupload`).
 * @param {Iterable<{id: number, identity: confide.PublicIdentity}>} members
 * @returns {string}
 */
export function recipientsOf(members) {
  return [...members]
    .map((member) => `${member.id}:${confide.b64encode(member.identity.fingerprint())}`)
    .sort()
    .join(',');
}

/**
 * This person's pin record on the server (`/api/me/pins`), read and written through their
 * keys: what `SeenIdentities` keeps.
 * @param {Keys} keys
 * @param {{get: (path: string) => Promise<any>, put: (path: string, body: unknown) => Promise<any>}} http
 * @returns {import('./seen.js').PinStore}
 */
export function serverPinStore(keys, http) {
  return {
    async read() {
      const answer = await http.get('/api/me/pins');
      if (answer.record === null) return { counter: answer.counter, pins: [] };
      try {
        return { ...keys.openPins(answer.record), unreadable: false };
      } catch (error) {
        if (!isCryptoError(error)) throw error;
        return { counter: answer.counter, pins: [], unreadable: true };
      }
    },
    async write(previous, pins) {
      const record = keys.sealPins(previous + 1, pins);
      const answer = await http.put('/api/me/pins', { record, previous });
      return answer.counter;
    },
  };
}

/**
 * A version-2 message's order in plain form (base64url bytes), as timelines hold it.
 * @typedef {{chain: string, counter: number, sentAt: number, previous: string}} HeldOrder
 */

/**
 * One order notice (crypto/SPEC.md, "Order"); times are the sender's, in milliseconds.
 * @typedef {{kind: string, seq: number, sender: number, first: number|null,
 *            last: number|null, after: number|null, before: number|null}} OrderNotice
 */

/**
 * The order a sealed message carries, read without verifying (the caller has), or null
 * for a version-1 message or bytes that do not parse.
 * @param {string} ciphertext base64url
 * @returns {confide.MessageOrder|null}
 */
function orderIn(ciphertext) {
  try {
    return confide.parseMessage(confide.b64decode(ciphertext)).order;
  } catch (error) {
    if (isCryptoError(error)) return null;
    throw error;
  }
}

/**
 * @param {confide.MessageOrder|null} order
 * @returns {HeldOrder|null}
 */
function plainOrder(order) {
  if (order === null) return null;
  return {
    chain: confide.b64encode(order.chain),
    counter: order.counter,
    sentAt: order.sentAt,
    previous: confide.b64encode(order.previous),
  };
}

/** No key is held for a conversation's epoch (yet): fetch its envelope first. */
export class MissingKeyError extends Error {
  /**
   * @param {string} conversation
   * @param {number} epoch
   */
  constructor(conversation, epoch) {
    super(`No key for epoch ${epoch} of this conversation`);
    this.name = 'MissingKeyError';
    this.conversation = conversation;
    this.epoch = epoch;
  }
}

/**
 * The keys of a new account, made in this browser: an identity, its private keys wrapped
 * under the password and under a new recovery key. Returns the account's fields of a
 * sign-up body (public or wrapped values only), the identity, and the recovery key's
 * display form to show once.
 * @param {string} password
 */
export async function makeAccountKeys(password) {
  const salt = confide.newSalt();
  const params = confide.DEFAULT_KDF_PARAMS;
  const passwordKeys = await confide.derivePasswordKeysOffThread(password, salt, params);
  const identity = confide.IdentityKeyPair.generate();
  const recovery = confide.RecoveryKey.generate();
  const recoveryWrap = recovery.wrappingKey();
  try {
    const fields = {
      auth_secret: passwordKeys.authSecretB64(),
      kdf: {
        salt: confide.b64encode(salt),
        opslimit: params.opslimit,
        memlimit: params.memlimit,
        algorithm: 'argon2id13',
      },
      public_identity: confide.b64encode(identity.public.toBytes()),
      key_bundle: confide.b64encode(
        confide.wrapIdentity(identity, passwordKeys.kek, confide.BundleKind.PASSWORD),
      ),
      recovery_bundle: confide.b64encode(
        confide.wrapIdentity(identity, recoveryWrap, confide.BundleKind.RECOVERY),
      ),
    };
    return { fields, identity, recoveryDisplay: recovery.display() };
  } finally {
    passwordKeys.wipe();
    recoveryWrap.wipe();
    recovery.wipe();
  }
}

/**
 * Everything a new client makes when accepting an invitation: an account's keys
 * (`makeAccountKeys`), and the conversation's epoch-0 key wrapped to both members.
 * Returns the request body for `POST /api/invitations/accept`, the keys to keep, and the
 * recovery key's display form to show once.
 * @param {{token: string, email: string, displayName: string, password: string,
 *          therapistIdentity: string, conversation: string}} input
 */
export async function makeSignUp(input) {
  const { fields, identity, recoveryDisplay } = await makeAccountKeys(input.password);
  const therapist = parseIdentity(input.therapistIdentity);
  const epochKey = confide.ConversationKey.generate();
  const createdAt = Date.now();
  const body = {
    token: input.token,
    email: input.email,
    display_name: input.displayName,
    ...fields,
    client_envelope: confide.b64encode(
      confide.wrapConversationKey(epochKey, input.conversation, 0, identity.public, identity, createdAt),
    ),
    therapist_envelope: confide.b64encode(
      confide.wrapConversationKey(epochKey, input.conversation, 0, therapist, identity, createdAt),
    ),
  };
  const keys = new Keys(identity);
  keys.keep(input.conversation, 0, epochKey, createdAt);
  return { body, keys, recoveryDisplay };
}

/**
 * The token and the therapist's fingerprint of an invitation link's fragment. Throws
 * FormatError for a fragment without the fingerprint or otherwise malformed.
 * @param {string} fragment what follows `#`
 */
export function parseInvitation(fragment) {
  return confide.parseInvitationFragment(fragment);
}

/**
 * Refuses (BindingError) a therapist identity, as the server serves it for an invitation,
 * whose fingerprint is not the one the invitation link carries.
 * @param {Uint8Array} fingerprint from the link
 * @param {string} therapistIdentity base64url, from the server
 */
export function checkInvitationTherapist(fingerprint, therapistIdentity) {
  confide.checkInvitationTherapist(fingerprint, parseIdentity(therapistIdentity));
}

/**
 * What a new therapist or admin makes when opening their setup link: an account's keys
 * and nothing else (they are in no conversation yet). Returns the body of
 * `POST /api/setup/accept`, the keys to keep, and the recovery key's display form.
 * @param {{token: string, displayName: string, password: string}} input
 */
export async function makeStaffSignUp(input) {
  const { fields, identity, recoveryDisplay } = await makeAccountKeys(input.password);
  const body = { token: input.token, display_name: input.displayName, ...fields };
  return { body, keys: new Keys(identity), recoveryDisplay };
}

/**
 * The safety number of two identities: 12 groups of 5 digits, and the QR payload bytes.
 * @param {confide.PublicIdentity} mine
 * @param {confide.PublicIdentity} theirs
 */
export function safetyNumber(mine, theirs) {
  return {
    digits: confide.formatSafetyNumber(confide.safetyNumber(mine, theirs)),
    qrPayload: confide.safetyQrPayload(mine, theirs),
  };
}

/**
 * What an identity succession (base64url) states, if it verifies under `confirmer`'s
 * identity and names `userId`, `confirmerId` and `newIdentity` (crypto/SPEC.md, "Identity
 * succession"): the member's previous identity and when the recovery was confirmed.
 * Throws a CryptoError for any other.
 * @param {string} text
 * @param {confide.PublicIdentity} confirmer
 * @param {{userId: number, confirmerId: number, newIdentity: confide.PublicIdentity}} expected
 * @returns {confide.Succession}
 */
export function verifySuccession(text, confirmer, expected) {
  return confide.verifySuccession(confide.b64decode(text), confirmer, expected);
}

/**
 * The number of one identity, for an assisted recovery (crypto/SPEC.md): 30 digits in 6
 * groups of 5, and the 33-byte QR payload. The client's new browser shows its new
 * identity's; the therapist's shows the one the server holds for the request.
 * @param {confide.PublicIdentity} identity
 */
export function identityNumber(identity) {
  return {
    digits: confide.formatIdentityNumber(confide.identityNumber(identity)),
    qrPayload: confide.identityQrPayload(identity),
  };
}

/**
 * Assisted recovery, in the client's new browser: new keys exactly as at sign-up
 * (`makeAccountKeys`). Returns the body of `POST /api/auth/assisted-recovery`, the new
 * public identity (its number is shown to the therapist) and the new recovery key's
 * display form to show once. The private identity is wiped here: once the therapist
 * confirms, the new password opens it from the server's copy, in any browser.
 * @param {{email: string, password: string}} input
 */
export async function makeAssistedRecovery({ email, password }) {
  const { fields, identity, recoveryDisplay } = await makeAccountKeys(password);
  const publicIdentity = identity.public;
  identity.wipe();
  return { body: { email, ...fields }, publicIdentity, recoveryDisplay };
}

/**
 * Whether the sender must start a new epoch before the next message (crypto/SPEC.md,
 * "Epoch rotation").
 * @param {number} messagesInEpoch
 * @param {number} ageSeconds
 * @param {boolean} keysChanged whether a member's keys changed since the epoch began
 */
export function needsRotation(messagesInEpoch, ageSeconds, keysChanged) {
  return confide.epochNeedsRotation(messagesInEpoch, Math.max(0, ageSeconds), keysChanged);
}

/** The crypto package's error base class, for `instanceof` checks. */
export function isCryptoError(/** @type {unknown} */ error) {
  return error instanceof confide.CryptoError;
}

/**
 * Whether `error` refuses a key wrapped with X25519 alone for an epoch begun after this
 * person's identity held an X-Wing key (crypto/SPEC.md, "Version 3: wrapped with X-Wing").
 */
export function isDowngrade(/** @type {unknown} */ error) {
  return error instanceof confide.DowngradeError;
}

/**
 * A recovery key as the person typed it. Throws FormatError when it is mistyped (its
 * checksum does not match, a character is not one of its own, or it is too short or
 * long): checked here, before anything is sent or derived.
 * @param {string} text
 * @returns {confide.RecoveryKey}
 */
export function readRecoveryKey(text) {
  return confide.RecoveryKey.fromDisplay(text);
}

/**
 * Forgot password, with the recovery key (crypto/SPEC.md, "Recovery"): open the recovery
 * copy of the identity from `POST /api/auth/recover/begin`'s answer, wrap it under the new
 * password (a new salt; the served parameters checked against the protocol's bounds and
 * raised to this client's default where lower) and
 * sign the new material with the identity. Returns the body of
 * `POST /api/auth/recover/finish` (never the recovery key or the password) and the keys
 * to keep. Throws DecryptionError when the recovery key does not open this account's keys
 * (or the email has no account: the server's stand-in opens with no key).
 * @param {{begun: any, recoveryKey: confide.RecoveryKey, email: string, newPassword: string}} input
 */
export async function makeRecovery({ begun, recoveryKey, email, newPassword }) {
  if (!begun?.kdf || begun.kdf.algorithm !== 'argon2id13') {
    throw new confide.FormatError('The server named an unknown password derivation');
  }
  // The served parameters, checked against the protocol's bounds, and never below this
  // client's own default: a server cannot weaken the derivation of the new password.
  const served = new confide.KdfParams({
    opslimit: begun.kdf.opslimit,
    memlimit: begun.kdf.memlimit,
  });
  const params = new confide.KdfParams({
    opslimit: Math.max(served.opslimit, confide.DEFAULT_KDF_PARAMS.opslimit),
    memlimit: Math.max(served.memlimit, confide.DEFAULT_KDF_PARAMS.memlimit),
  });
  // The account's keys only (sign_pk || enc_pk), never its whole identity.
  const expected = confide.b64decode(begun.keys);
  const recoveryWrap = recoveryKey.wrappingKey();
  let identity;
  try {
    identity = confide.unwrapIdentity(
      confide.b64decode(begun.recovery_bundle),
      recoveryWrap,
      expected,
    );
  } finally {
    recoveryWrap.wipe();
  }
  const salt = confide.newSalt();
  let passwordKeys = null;
  try {
    passwordKeys = await confide.derivePasswordKeysOffThread(newPassword, salt, params);
    const keyBundle = confide.wrapIdentity(identity, passwordKeys.kek, confide.BundleKind.PASSWORD);
    const claim = new confide.RecoveryClaim({
      challenge: confide.b64decode(begun.challenge),
      email,
      salt,
      params,
      authSecret: passwordKeys.authSecret,
      keyBundle,
    });
    const proof = confide.signRecovery(identity, claim);
    const body = {
      email,
      challenge: begun.challenge,
      salt: confide.b64encode(salt),
      opslimit: params.opslimit,
      memlimit: params.memlimit,
      auth_secret: passwordKeys.authSecretB64(),
      key_bundle: confide.b64encode(keyBundle),
      proof: confide.b64encode(proof),
    };
    return { body, keys: new Keys(identity) };
  } catch (error) {
    identity.wipe();
    throw error;
  } finally {
    passwordKeys?.wipe();
  }
}

// --- attachments (crypto/SPEC.md, "Attachments" and "Message content") ------------------

/** Bytes of the file in each chunk of an attachment's stream but the last. */
export const ATTACHMENT_CHUNK = 65536;
/** Files one message presents at most. */
export const MAX_ATTACHMENTS = 10;

/**
 * A message's content: its text alone when it presents no file.
 * @param {string} text
 * @param {AttachmentReference[]} [attachments]
 * @returns {Content}
 */
export function messageContent(text, attachments = []) {
  return attachments.length ? new confide.MessageContent({ text, attachments }) : text;
}

/**
 * The words of a content.
 * @param {Content} content
 */
export function textOf(content) {
  return typeof content === 'string' ? content : content.text;
}

/**
 * The files a content presents (none for text).
 * @param {Content} content
 * @returns {AttachmentReference[]}
 */
export function attachmentsOf(content) {
  return typeof content === 'string' ? [] : [...content.attachments];
}

/**
 * What the page shows and asks for of a file a message presents; the key stays inside the
 * reference.
 * @param {AttachmentReference} reference
 * @returns {{id: string, name: string, size: number, type: string}}
 */
export function describeAttachment(reference) {
  return {
    id: reference.attachmentUuid,
    name: reference.name,
    size: reference.size,
    type: reference.type,
  };
}

/**
 * A file sealed as it is read (crypto/SPEC.md, "Attachments"): `start()` gives the stream's
 * first bytes, `push(piece)` the next chunk for each `ATTACHMENT_CHUNK` bytes of the file
 * (the rest, for the last); then `digest` (base64url, what the upload is completed with)
 * and `reference(id)`, for the message that presents it, under the id the server gave
 * the upload.
 */
export class AttachmentSealing {
  #sealer;

  /**
   * Throws FormatError for a size, name or type the format does not take.
   * @param {number} size
   * @param {string} name
   * @param {string} type
   */
  constructor(size, name, type) {
    this.#sealer = new confide.AttachmentSealer(size, name, type);
  }

  /** The length of the stream the server will hold. */
  get streamSize() {
    return /** @type {number} */ (this.#sealer.streamSize);
  }

  /** @returns {Uint8Array} */
  start() {
    return this.#sealer.start();
  }

  /**
   * @param {Uint8Array} piece
   * @returns {Uint8Array}
   */
  push(piece) {
    return this.#sealer.push(piece);
  }

  /** The stream's digest, base64url, once the whole file is pushed. */
  get digest() {
    return confide.b64encode(this.#sealer.digest);
  }

  /**
   * @param {string} id the upload's id
   * @returns {AttachmentReference}
   */
  reference(id) {
    return this.#sealer.reference(id);
  }

  /** Zero the file key: an upload cancelled or failed. */
  wipe() {
    this.#sealer.wipe();
  }
}

/**
 * An attachment's stream opened as its bytes arrive: `feed` gives the file's bytes
 * authenticated so far, and nothing fed is the file until `finish()` returned (it throws
 * for a stream that ends early or is not the one the message names).
 */
export class AttachmentOpening {
  #opener;

  /** @param {AttachmentReference} reference */
  constructor(reference) {
    this.#opener = new confide.AttachmentOpener(reference);
    this.streamSize = /** @type {number} */ (confide.attachmentCiphertextSize(reference.size));
  }

  /**
   * @param {Uint8Array} piece
   * @returns {Uint8Array}
   */
  feed(piece) {
    return this.#opener.feed(piece);
  }

  finish() {
    this.#opener.finish();
  }
}

