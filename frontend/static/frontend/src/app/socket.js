/**
 * The realtime layer: the one websocket of the tab. Connect, reconnect with backoff and
 * jitter, match replies to requests by `ref`, and keep the connection honest with pings.
 *
 * It knows nothing of messages or keys: the messenger gives it frames (built by frames.js)
 * and gets back the frames no request is waiting for.
 *
 * @module
 */

import { backoffDelay } from './backoff.js';
import { pingFrame } from './frames.js';
import { CLOSE, SESSION_GONE } from './protocol.js';

export const PING_SECONDS = 25;
const PONG_TIMEOUT_MS = 10_000;
// Refused for the user's other live sockets: only one of them closing can let this one in,
// so its backoff starts four doublings on, and a tab opened once too often knocks rarely.
const TOO_MANY_SOCKETS_STEPS = 4;

/** A request's reply never came, or the connection was lost before it did. */
export class SocketError extends Error {
  /**
   * @param {string} code "timeout", "disconnected" or a server error code
   * @param {string} message
   * @param {Record<string, unknown>} [data]
   */
  constructor(code, message, data = {}) {
    super(message);
    this.name = 'SocketError';
    this.code = code;
    this.data = data;
  }
}

/**
 * @typedef {'connecting'|'open'|'waiting'|'offline'|'closed'} SocketState
 */

export class Socket {
  /** @type {WebSocket|null} */
  #ws = null;
  /** @type {Map<string, {resolve: (v: any) => void, reject: (e: Error) => void, timer: number}>} */
  #pending = new Map();
  #counter = 0;
  #attempt = 0;
  /** @type {number|undefined} */
  #retryTimer;
  /** @type {number|undefined} */
  #pingTimer;
  #stopped = true;
  /** @type {SocketState} */
  state = 'closed';
  connections = 0;

  /**
   * @param {{url: string, onFrame: (frame: any) => void, onReady: (frame: any) => void,
   *          onState: (state: SocketState) => void, onSessionGone: (code: number) => void,
   *          backoff?: {initial?: number, maximum?: number}}} options
   */
  constructor(options) {
    this.options = options;
    this.onOnline = () => this.#online();
    this.onOffline = () => this.#offline();
  }

  /** Start connecting, and keep connected until {@link stop}. */
  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    globalThis.addEventListener?.('online', this.onOnline);
    globalThis.addEventListener?.('offline', this.onOffline);
    this.#connect();
  }

  /** Close for good (sign-out); pending requests fail. */
  stop() {
    this.#stopped = true;
    globalThis.removeEventListener?.('online', this.onOnline);
    globalThis.removeEventListener?.('offline', this.onOffline);
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      ws.onclose = null;
      ws.close(1000);
    }
    this.#failPending('disconnected');
    this.#setState('closed');
  }

  get connected() {
    return this.state === 'open';
  }

  /**
   * Send a frame that has no reply (typing). Returns whether it was handed to the socket.
   * @param {object} frame
   */
  send(frame) {
    if (!this.connected || !this.#ws) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Send a frame and wait for the reply with the same `ref` (or its error frame).
   * @param {object} frame
   * @param {number} [timeoutMs]
   * @returns {Promise<any>}
   */
  request(frame, timeoutMs = 10_000) {
    if (!this.connected || !this.#ws) {
      return Promise.reject(new SocketError('disconnected', 'Not connected'));
    }
    this.#counter += 1;
    const ref = `r${this.#counter}`;
    const ws = this.#ws;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ref);
        reject(new SocketError('timeout', 'No reply in time'));
      }, timeoutMs);
      this.#pending.set(ref, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...frame, ref }));
    });
  }

  /** Drop the connection now (a dead ping, the network went away); it comes back. */
  drop() {
    const ws = this.#ws;
    if (!ws) return;
    this.#ws = null;
    ws.onclose = null;
    ws.onmessage = null;
    try {
      ws.close(4000);
    } catch {
      // already closing
    }
    this.#closed(1006);
  }

  #connect() {
    if (this.#stopped) return;
    clearTimeout(this.#retryTimer);
    if (globalThis.navigator?.onLine === false) {
      this.#setState('offline');
      return;
    }
    this.#setState('connecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}${this.options.url}`);
    this.#ws = ws;
    ws.onmessage = (event) => this.#receive(event.data);
    ws.onclose = (event) => {
      if (this.#ws === ws) {
        this.#ws = null;
        this.#closed(event.code);
      }
    };
  }

  /** @param {unknown} data */
  #receive(data) {
    if (typeof data !== 'string') return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    if (frame.type === 'ready') {
      this.#attempt = 0;
      this.connections += 1;
      this.#setState('open');
      this.#startPings();
      this.options.onReady(frame);
      return;
    }
    const waiting = typeof frame.ref === 'string' ? this.#pending.get(frame.ref) : undefined;
    if (waiting) {
      this.#pending.delete(frame.ref);
      clearTimeout(waiting.timer);
      if (frame.type === 'error') {
        const { type, code, message, ref, ...rest } = frame;
        waiting.reject(new SocketError(String(code), String(message ?? code), rest));
      } else {
        waiting.resolve(frame);
      }
      return;
    }
    // Events, and replies whose request gave up waiting: an ack among them still settles
    // its message (a late ack), so the messenger must see them.
    this.options.onFrame(frame);
  }

  /** @param {number} code */
  #closed(code) {
    clearInterval(this.#pingTimer);
    this.#failPending('disconnected');
    if (this.#stopped) return;
    if (SESSION_GONE.has(code)) {
      this.#stopped = true;
      this.#setState('closed');
      this.options.onSessionGone(code);
      return;
    }
    if (globalThis.navigator?.onLine === false) {
      this.#setState('offline');
      return;
    }
    const steps = code === CLOSE.TOO_MANY_SOCKETS ? TOO_MANY_SOCKETS_STEPS : 0;
    const delay = backoffDelay(this.#attempt + steps, this.options.backoff);
    this.#attempt += 1;
    this.#setState('waiting');
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #online() {
    if (this.#stopped || this.state === 'open' || this.state === 'connecting') return;
    this.#attempt = 0;
    this.#connect();
  }

  #offline() {
    if (this.#stopped) return;
    // The browser knows the network is gone: do not wait for a ping to find out.
    if (this.#ws) this.drop();
    else this.#setState('offline');
  }

  #startPings() {
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      this.request(pingFrame(), PONG_TIMEOUT_MS).catch((error) => {
        if (error instanceof SocketError && error.code === 'timeout') this.drop();
      });
    }, PING_SECONDS * 1000);
  }

  /** @param {string} code */
  #failPending(code) {
    for (const [ref, waiting] of this.#pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new SocketError(code, 'The connection was lost before the reply'));
      this.#pending.delete(ref);
    }
  }

  /** @param {SocketState} state */
  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.options.onState(state);
  }
}
