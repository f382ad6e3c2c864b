// Loads the web client's plain-logic modules (no DOM) for node --test, with stand-ins for
// what only a browser has (a WebSocket, the HTTP API behind fetch, location) and the
// protocol's schema for checking what crosses the wire.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const APP_URL = new URL('../../frontend/static/frontend/src/app/', import.meta.url);

/**
 * A pin store stand-in (seen.js's `PinStore`): keeps the pins as the server would, with a
 * counter, and refuses a write on a record that is no longer the newest.
 */
export class MemoryPinStore {
  constructor() {
    this.counter = 0;
    this.pins = [];
    this.writes = 0;
  }

  async read() {
    return { counter: this.counter, pins: this.pins.map((pin) => ({ ...pin })) };
  }

  async write(previous, pins) {
    if (previous !== this.counter) {
      throw Object.assign(new Error('another session wrote'), { code: 'pins_changed' });
    }
    this.counter += 1;
    this.writes += 1;
    this.pins = pins.map((pin) => ({ ...pin }));
    return this.counter;
  }
}

/** Fingerprints for tests that name identities by strings: the string itself. */
export const sameString = (identity) => identity;

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

/** Import one module of the web client by file name. */
export async function appModule(name) {
  return import(new URL(name, APP_URL).href);
}

/** The path of the web client's listing of conversations (conversations.js). */
export const { LISTING, LISTING_PAGE } = await appModule('conversations.js');
/** The listing's first page, as a sign-in asks for it. */
export const FIRST_PAGE = `${LISTING}&limit=${LISTING_PAGE}`;

/** The conversation and message ids of protocol/schema.json's examples. */
export const CONVERSATION = '6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b';
export const EXAMPLE_MESSAGE_ID = '0b7e54a2-5f0c-4d59-9d8e-2f5c1a7b3e90';
/** The people of the schema's examples: the client signed in here, and their therapist. */
export const ME = 7;
export const PEER = 8;
/** The database generation a `ready` names unless a test says otherwise. */
export const GENERATION = '5f0c2a7e9b6d4e31a8c2f4d6b1e3a597';

/** The server's `ready` for this person, naming the database generation. */
export function readyFrame(generation = GENERATION) {
  return {
    type: 'ready',
    user: ME,
    generation,
    limits: { max_frame_bytes: 262144, message_rate: 20, message_burst: 40, history_page: 100, max_sockets: 10 },
  };
}

/**
 * A WebSocket stand-in: the page's socket.js talks to it, and the test plays the server
 * (`deliver` a frame, `drop` the connection) and reads what the page sent.
 */
export class FakeWebSocket {
  /** @type {FakeWebSocket[]} */
  static opened = [];

  constructor(url) {
    this.url = url;
    /** The frames the page sent, parsed, in order. */
    this.sent = [];
    this.closedWith = null;
    this.onmessage = null;
    this.onclose = null;
    FakeWebSocket.opened.push(this);
  }

  static get latest() {
    return FakeWebSocket.opened.at(-1);
  }

  send(text) {
    this.sent.push(JSON.parse(text));
  }

  close(code) {
    this.closedWith = code;
  }

  /** The server sends `frame` (a string is sent as it is). */
  deliver(frame) {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  /** The server closes the connection with `code`. */
  drop(code) {
    this.onclose?.({ code });
  }

  /** The frames of one type the page sent. */
  sentOf(type) {
    return this.sent.filter((frame) => frame.type === type);
  }
}

/**
 * When the message numbered `seq` was stored: an hour ago, a second apart, so that the
 * epoch is young and no test begins a new one by age unless it means to.
 */
const STORED_FROM = Date.now() - 3_600_000;
const sentAt = (seq) => new Date(STORED_FROM + seq * 1000).toISOString();

/** Let every promise chain that waits on nothing but other promises run to its end. */
export function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Flush until `predicate()` holds (at most `rounds` times); returns its last value. */
export async function waitFor(predicate, rounds = 100) {
  for (let round = 0; round < rounds; round += 1) {
    const value = predicate();
    if (value) return value;
    await flush();
  }
  return predicate();
}

/** The `n`-th sync request (from 0) the page sent on its current socket, once it is sent. */
export function syncRequest(tab, n) {
  return waitFor(() => tab.ws.sentOf('sync')[n]);
}

/** The server's reply to a sync `request`: one page of CONVERSATION, with `page`'s fields. */
export function syncReply(request, page) {
  return { type: 'sync', ref: request.ref, conversations: [{ conversation: CONVERSATION, has_more: false, ...page }] };
}

export function jsonAnswer(body) {
  return {
    ok: true,
    status: 200,
    headers: { get: () => 'application/json' },
    json: async () => body,
  };
}

/**
 * A signed-in tab with real keys and stand-ins for the browser (location, WebSocket) and
 * the HTTP API (fetch): the client (ME) and their therapist (PEER) share CONVERSATION,
 * whose epoch-0 key the therapist wrapped. `listing` overrides fields of the server's
 * account of the conversation; `createdAt` makes both identities version 2 (holding X-Wing
 * keys) and the epoch-0 envelope version 3, signing that time. With it, `classical` wraps
 * the envelopes to this person with X25519 alone (version 2, to the version-1 form of the
 * same keys, as before they published their X-Wing key at `since`), and `peerVersion1`
 * leaves the therapist's identity at version 1. Call `close()` at the end (it wipes and
 * stops the timers).
 */
export async function signedInTab({
  listing = {},
  storage = new MemoryStorage(),
  createdAt = null,
  classical = false,
  since = Date.now(),
  peerVersion1 = false,
} = {}) {
  const { confide } = await import('./_support.mjs');
  const { Keys } = await appModule('keys.js');
  const { Messenger } = await appModule('messenger.js');
  const { SeenIdentities } = await appModule('seen.js');

  // Without a signed creation time the epochs are of version 1, as before identities held
  // X-Wing keys; with one, both identities are version 2 and the envelopes version 3.
  const version = createdAt === null ? null : undefined;
  const before = confide.IdentityKeyPair.generate(null);
  const mine = version === null ? before : before.upgraded(since);
  const theirs = confide.IdentityKeyPair.generate(peerVersion1 ? null : version);
  const wrappedTo = classical ? before.public : mine.public;
  const epochKeys = [confide.ConversationKey.generate()];
  const b64 = confide.b64encode;
  const envelope = (epoch) => ({
    epoch,
    wrapper: PEER,
    envelope: b64(
      confide.wrapConversationKey(epochKeys[epoch], CONVERSATION, epoch, wrappedTo, theirs, createdAt),
    ),
  });
  const conversation = {
    id: CONVERSATION,
    status: 'active',
    current_epoch: 0,
    last_seq: 0,
    epoch_started_at: new Date().toISOString(),
    epoch_messages: 0,
    last_message_at: null,
    last_read_seq: 0,
    unread: 0,
    members: [
      { id: ME, display_name: 'Casey Client', role: 'client', public_identity: b64(mine.public.toBytes()) },
      { id: PEER, display_name: 'Theo Therapist', role: 'therapist', public_identity: b64(theirs.public.toBytes()) },
    ],
    read_seqs: {},
    envelopes: [envelope(0)],
    ...listing,
  };
  /** The paths the page asked the API for. */
  const requests = [];
  globalThis.location = { protocol: 'http:', host: 'confide.test' };
  globalThis.WebSocket = FakeWebSocket;
  globalThis.fetch = async (path) => {
    requests.push(path);
    // A test's own answer first (`tab.answer`), when it gives one.
    const own = tab.answer?.(path);
    if (own !== undefined) return own;
    if (path === '/api/conversations') return jsonAnswer({ conversations: [conversation] });
    if (path === FIRST_PAGE) {
      const current = conversation.envelopes.filter((item) => item.epoch === conversation.current_epoch);
      return jsonAnswer({ conversations: [{ ...conversation, envelopes: current }], next: null });
    }
    if (path.startsWith('/api/conversations/')) return jsonAnswer({ conversation });
    throw new Error(`No stand-in for ${path}`);
  };

  const keys = new Keys(mine);
  const me = { id: ME, role: 'client', display_name: 'Casey Client' };
  const seen = new SeenIdentities(new MemoryPinStore(), sameString);
  const messenger = new Messenger({ me, keys, storage, seen });
  const events = [];
  for (const type of ['conversations', 'timeline', 'incoming', 'typing', 'status', 'epoch', 'session-ended', 'recoveries', 'identity-recovered', 'key-downgrade', 'restored', 'disclosure']) {
    messenger.addEventListener(type, (event) => events.push({ type, detail: event.detail }));
  }

  const tab = {
    /**
     * The test's stand-in for the API, asked first: a promise of the answer to `path`, or
     * undefined for the one above.
     * @type {((path: string) => Promise<any>|undefined)|null}
     */
    answer: null,
    /** The epoch-0 key of each conversation `another` listed, by id. */
    otherKeys: new Map(),
    /**
     * Another conversation of this person with the same therapist, as the server lists it
     * (its key made at its first listing, the same at each later one).
     */
    another(id, fields = {}) {
      const key = tab.otherKeys.get(id) ?? confide.ConversationKey.generate();
      tab.otherKeys.set(id, key);
      const wrapped = confide.wrapConversationKey(key, id, 0, wrappedTo, theirs, createdAt);
      return {
        ...conversation,
        id,
        current_epoch: 0,
        envelopes: [{ epoch: 0, wrapper: PEER, envelope: b64(wrapped) }],
        ...fields,
      };
    },
    messenger,
    seen,
    keys,
    mine,
    theirs,
    /** The version-1 form of this person's keys. */
    before,
    conversation,
    requests,
    events,
    storage,
    /** The socket the page opened last. */
    get ws() {
      return FakeWebSocket.latest;
    },
    /** Start the messenger and answer its socket with the server's `ready`. */
    async connect({ generation = GENERATION } = {}) {
      await messenger.start();
      tab.ws.deliver(readyFrame(generation));
      await flush();
    },
    /**
     * The connection drops and comes back (`tick` moves the test's mocked timers on, past
     * the first reconnect delay); the new socket gets a `ready` naming `generation`.
     */
    async reconnect({ generation = GENERATION, tick }) {
      tab.ws.drop(1006);
      await flush();
      tick(1000);
      tab.ws.deliver(readyFrame(generation));
      await flush();
    },
    /** Open the conversation's timeline, answering its first history request. */
    async open(messages = []) {
      const opening = messenger.open(CONVERSATION);
      await flush();
      const [request] = tab.ws.sentOf('history').slice(-1);
      tab.ws.deliver({
        type: 'history', ref: request.ref, conversation: CONVERSATION,
        messages, has_more: false, last_seq: messages.at(-1)?.seq ?? 0,
      });
      await opening;
      await flush();
      return messenger.conversations.get(CONVERSATION).timeline;
    },
    /** The server is restored to before epoch `epoch`: it and the later ones are not listed. */
    forgetEpochsFrom(epoch) {
      conversation.current_epoch = epoch - 1;
      conversation.envelopes = conversation.envelopes.filter((item) => item.epoch < epoch);
    },
    /** The server starts epoch `epoch`, wrapped by the therapist (listed from then on). */
    beginEpoch(epoch) {
      epochKeys[epoch] = confide.ConversationKey.generate();
      conversation.current_epoch = epoch;
      conversation.envelopes.push(envelope(epoch));
    },
    /** A stored message as the server sends it, sealed by `sender` with its own keys. */
    stored({ seq, text = `message ${seq}`, sender = PEER, clientMessageId = crypto.randomUUID(), epoch = 0 }) {
      const identity = sender === ME ? mine : theirs;
      const sealed = confide.sealText(text, epochKeys[epoch], CONVERSATION, epoch, identity, clientMessageId);
      return {
        type: 'message', conversation: CONVERSATION, seq, client_message_id: clientMessageId,
        epoch, sender, ciphertext: b64(sealed), sent_at: sentAt(seq),
      };
    },
    /** The server's push of a message the page sent, once stored under `seq`. */
    pushOf(send, seq) {
      return {
        type: 'message', conversation: send.conversation, seq, client_message_id: send.client_message_id,
        epoch: send.epoch, sender: ME, ciphertext: send.ciphertext,
        sent_at: sentAt(seq),
      };
    },
    /** The server's ack of a `send` frame the page sent (its reply, with its `ref`). */
    ackOf(send, seq, { duplicate = false, ref = send.ref } = {}) {
      const ack = {
        type: 'ack', conversation: send.conversation, client_message_id: send.client_message_id,
        seq, sent_at: sentAt(seq), duplicate,
      };
      return ref === null ? ack : { ...ack, ref };
    },
    close() {
      messenger.wipe();
    },
  };
  return tab;
}

/** protocol/schema.json, generated from protocol/ (`python -m protocol.schema`). */
export const SCHEMA = JSON.parse(readFileSync(new URL('../../protocol/schema.json', import.meta.url), 'utf8'));

/**
 * A validator for one place of the schema, such as `#/frames/to_server`. Ajv (draft
 * 2020-12, with the formats: uuid, date-time) is a test-only dev dependency (package.json).
 * The schema's own metadata (`frames`, `errors`, ...) and the `discriminator` it borrows
 * from OpenAPI are declared as keywords, so that Ajv's strict mode still rejects typos.
 */
export function schemaValidator(pointer) {
  const require = createRequire(import.meta.url);
  const Ajv2020 = require('ajv/dist/2020').default;
  const addFormats = require('ajv-formats').default;
  const ajv = new Ajv2020({ allErrors: true });
  ajv.addVocabulary(['discriminator', 'frames', 'http', 'errors', 'close_codes', 'version']);
  addFormats(ajv);
  ajv.addSchema(SCHEMA);
  const validate = ajv.getSchema(`${SCHEMA.$id}${pointer}`);
  if (!validate) throw new Error(`No schema at ${pointer}`);
  return validate;
}
