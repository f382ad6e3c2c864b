/**
 * A dedicated Worker that runs Argon2id off the page's main thread (see
 * `derivePasswordKeysOffThread` in kdf.js, which starts and ends it).
 *
 * It says `{ready: true}` once libsodium is loaded, then gets `{password, salt, opslimit,
 * memlimit}`, checks them as `derivePasswordKeys` does,
 * and answers `{master}` (the 32-byte master key, transferred, so no copy stays here) or
 * `{error}` (the error's name and message, never the password). It keeps nothing between
 * messages and is terminated after one.
 *
 * @module
 */

import { KdfParams, _deriveMaster } from './kdf.js';
import { wipeBytes } from './_primitives.js';

globalThis.onmessage = (/** @type {MessageEvent} */ event) => {
  const { password, salt, opslimit, memlimit } = event.data ?? {};
  try {
    const master = _deriveMaster(password, salt, new KdfParams({ opslimit, memlimit }));
    const copy = master.slice();
    wipeBytes(master);
    globalThis.postMessage({ master: copy }, { transfer: [copy.buffer] });
  } catch (error) {
    const { name, message } = /** @type {Error} */ (error);
    globalThis.postMessage({ error: `${name}: ${message}` });
  } finally {
    if (salt instanceof Uint8Array) wipeBytes(salt);
  }
};

// libsodium is ready once this module runs (the package's top-level await); a message
// posted before then could be lost, so the page waits for this one.
globalThis.postMessage({ ready: true });
