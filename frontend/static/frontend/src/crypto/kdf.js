/**
 * Password derivation: Argon2id, then two independent subkeys.
 *
 *     master      = Argon2id(NFC(password) as UTF-8, salt(16), opslimit, memlimit, 32 bytes)
 *     auth_secret = H(master, "confide/v1/auth")      sent to the server, never the password
 *     kek         = H(master, "confide/v1/key-wrap")  wraps the private identity; never sent
 *
 * The server stores `auth_secret` under its own password hasher. Knowing `auth_secret`
 * does not give `kek`: both are independent BLAKE2b outputs of `master`.
 *
 * Argon2id runs synchronously in WebAssembly (a few hundred milliseconds at the default
 * parameters). `derivePasswordKeysOffThread` runs it in a dedicated Worker
 * (`kdf-worker.js`, same origin) so that a page stays responsive; only the 32-byte master
 * key comes back, and the two subkeys are derived from it here.
 *
 * @module
 */

import sodium from './_sodium.js';
import * as labels from './_labels.js';
import { requireLength, requireType, typeName } from './_fields.js';
import { KEY_SIZE, h, wipeBytes } from './_primitives.js';
import { randomBytes } from './random.js';
import { Secret, fieldsOf } from './_secret.js';
import { WrappingKey } from './bundle.js';
import { b64encode } from './encoding.js';
import { FormatError, WeakParametersError } from './errors.js';

const MIB = 1024 * 1024;
export const SALT_SIZE = 16;
export const MIN_OPSLIMIT = 2;
export const MAX_OPSLIMIT = 10;
export const MIN_MEMLIMIT = 32 * MIB;
export const MAX_MEMLIMIT = 256 * MIB;

/** Matches a UTF-16 surrogate that is not part of a pair. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Argon2id cost parameters: `opslimit` passes and `memlimit` bytes of memory.
 *
 * The parameters travel from the server to every new browser of the user, so both bounds
 * matter: the minimum keeps a hostile server from downgrading the derivation (which would
 * make the password cheap to guess from `auth_secret`), the maximum keeps it from freezing
 * a phone. Throws FormatError unless `2 <= opslimit <= 10` and
 * `32 MiB <= memlimit <= 256 MiB` with `memlimit` a whole number of KiB.
 */
export class KdfParams {
  /** @param {{opslimit: number, memlimit: number}} params */
  constructor({ opslimit, memlimit }) {
    for (const [name, value, low, high] of /** @type {const} */ ([
      ['opslimit', opslimit, MIN_OPSLIMIT, MAX_OPSLIMIT],
      ['memlimit', memlimit, MIN_MEMLIMIT, MAX_MEMLIMIT],
    ])) {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new FormatError(`The Argon2id ${name} must be an integer, not ${String(value)}`);
      }
      if (value < low || value > high) {
        throw new FormatError(`The Argon2id ${name} must be from ${low} to ${high}, not ${value}`);
      }
    }
    if (memlimit % 1024) {
      throw new FormatError(`The Argon2id memlimit must be a whole number of KiB, not ${memlimit}`);
    }
    /** @readonly */
    this.opslimit = opslimit;
    /** @readonly */
    this.memlimit = memlimit;
    Object.freeze(this);
  }
}

export const DEFAULT_KDF_PARAMS = new KdfParams({ opslimit: 3, memlimit: 64 * MIB });

/**
 * `params` as served by the server for an existing account, if they are no cheaper than
 * `floor` in passes and in memory; run before anything is derived from them.
 *
 * The floor is the client's own sign-up default: an account made by a client never has
 * less, so a server that serves less is asking for a password that is cheaper to guess
 * from what it receives. Throws WeakParametersError naming both sides (and FormatError
 * when either argument is not a KdfParams).
 *
 * @param {KdfParams} params
 * @param {KdfParams} [floor]
 * @returns {KdfParams}
 */
export function checkServedParams(params, floor = DEFAULT_KDF_PARAMS) {
  if (!(params instanceof KdfParams)) {
    throw new FormatError('The served KDF parameters must be a KdfParams');
  }
  if (!(floor instanceof KdfParams)) throw new FormatError('The KDF floor must be a KdfParams');
  if (params.opslimit < floor.opslimit || params.memlimit < floor.memlimit) {
    throw new WeakParametersError(
      `The server asked for a cheaper password derivation (${cost(params)}) than this ` +
        `client allows (at least ${cost(floor)}); the password was not used`,
    );
  }
  return params;
}

/** @param {KdfParams} params */
function cost(params) {
  return `${params.opslimit} ${params.opslimit === 1 ? 'pass' : 'passes'}, ${params.memlimit / MIB} MiB`;
}

/** The two keys derived from a password; both are secret and redacted when printed. */
export class PasswordKeys extends Secret {
  /** @type {WrappingKey} */
  #kek;

  /**
   * @param {Uint8Array} authSecret 32 bytes, copied
   * @param {WrappingKey} kek owned from now on: wiping these keys wipes it
   */
  constructor(authSecret, kek) {
    const auth = requireLength(authSecret, KEY_SIZE, 'The auth secret');
    requireType(kek, WrappingKey, 'The key-encryption key');
    super({ authSecret: auth }, { children: [kek] });
    this.#kek = kek;
    Object.freeze(this);
  }

  /**
   * The 32-byte secret sent to the server at sign-up and login, in place of the password
   * (a copy). Treat it as a password: never log it.
   */
  get authSecret() {
    return fieldsOf(this).authSecret.slice();
  }

  /** `authSecret` in the transport encoding (base64url, no padding, 43 characters). */
  authSecretB64() {
    return b64encode(fieldsOf(this).authSecret);
  }

  /** The key-encryption key that wraps the private identity; it never leaves the client. */
  get kek() {
    fieldsOf(this);
    return this.#kek;
  }
}

/** A fresh random 16-byte Argon2id salt, made once per user at sign-up. */
export function newSalt() {
  return randomBytes(SALT_SIZE);
}

/**
 * Derive `authSecret` and `kek` from a password with Argon2id (32-byte master).
 *
 * The password is NFC-normalised and encoded as UTF-8 first, so the same password typed on
 * different systems gives the same keys.
 *
 * Throws FormatError for an empty or non-string password, a password that is not valid
 * Unicode text (a lone surrogate), a salt that is not 16 bytes, or `params` that are not a
 * {@link KdfParams}.
 * @param {string} password
 * @param {Uint8Array} salt
 * @param {KdfParams} params
 * @returns {PasswordKeys}
 */
export function derivePasswordKeys(password, salt, params) {
  return keysFromMaster(_deriveMaster(password, salt, params));
}

/**
 * {@link derivePasswordKeys} with Argon2id in a dedicated Worker, so that the calling page
 * keeps painting and answering input meanwhile. The same checks and errors; the same keys.
 * Where there is no Worker (Node, old browsers) it derives on the calling thread.
 *
 * The Worker gets the password, salt and parameters, returns the master key (its copy is
 * transferred, not kept) and is terminated; the subkeys are derived here and the master
 * key wiped.
 * @param {string} password
 * @param {Uint8Array} salt
 * @param {KdfParams} params
 * @returns {Promise<PasswordKeys>}
 */
export async function derivePasswordKeysOffThread(password, salt, params) {
  _checkKdfInput(password, salt, params);
  if (typeof globalThis.Worker !== 'function') return derivePasswordKeys(password, salt, params);
  const started = spare ?? startWorker();
  spare = null;
  try {
    const worker = await started.ready;
    const master = await new Promise((resolve, reject) => {
      worker.onmessage = (event) => {
        const { master: bytes, error } = event.data ?? {};
        if (bytes instanceof Uint8Array && bytes.length === KEY_SIZE) resolve(bytes);
        else reject(new FormatError(`The password derivation failed: ${String(error ?? 'no key')}`));
      };
      worker.onerror = (event) => {
        event.preventDefault?.();
        reject(new FormatError('The password derivation failed in its Worker'));
      };
      worker.postMessage({
        password,
        salt: salt.slice(),
        opslimit: params.opslimit,
        memlimit: params.memlimit,
      });
    });
    return keysFromMaster(master);
  } finally {
    started.worker.terminate();
  }
}

/**
 * Start the derivation Worker ahead of time (loading libsodium into it takes a moment), so
 * that the next {@link derivePasswordKeysOffThread} finds it ready: for a sign-in screen
 * while the person types. It holds nothing secret until it is used, once.
 */
export function warmPasswordDerivation() {
  if (typeof globalThis.Worker !== 'function' || spare) return;
  spare = startWorker();
  spare.ready.catch(() => {
    spare = null;
  });
}

/** @type {{worker: Worker, ready: Promise<Worker>}|null} */
let spare = null;

function startWorker() {
  const worker = new Worker(new URL('./kdf-worker.js', import.meta.url), { type: 'module' });
  const ready = new Promise((resolve, reject) => {
    worker.onmessage = (event) => {
      if (event.data?.ready === true) resolve(worker);
    };
    worker.onerror = (event) => {
      event.preventDefault?.();
      worker.terminate();
      reject(new FormatError('The password derivation could not start'));
    };
  });
  return { worker, /** @type {Promise<Worker>} */ ready };
}

/**
 * The two subkeys of a master key, which is wiped.
 * @param {Uint8Array} master
 */
function keysFromMaster(master) {
  const authSecret = h(master, labels.AUTH);
  const kek = h(master, labels.KEY_WRAP);
  try {
    return new PasswordKeys(authSecret, new WrappingKey(kek));
  } finally {
    wipeBytes(master, authSecret, kek);
  }
}

/**
 * Check the arguments of a derivation; returns the NFC-normalised password.
 * @param {unknown} password
 * @param {unknown} salt
 * @param {unknown} params
 * @returns {{normalised: string, checkedSalt: Uint8Array}}
 */
function _checkKdfInput(password, salt, params) {
  if (typeof password !== 'string') {
    throw new FormatError(`The password must be a string, not ${typeName(password)}`);
  }
  if (!password) throw new FormatError('The password must not be empty');
  const checkedSalt = requireLength(salt, SALT_SIZE, 'The salt');
  requireType(params, KdfParams, 'The KDF parameters');
  // TextEncoder would silently replace a lone surrogate with U+FFFD: refuse it instead.
  const normalised = password.normalize('NFC');
  if (LONE_SURROGATE.test(normalised)) {
    throw new FormatError('The password is not valid Unicode text');
  }
  return { normalised, checkedSalt };
}

/**
 * The 32-byte Argon2id master key, after checking every argument. Internal (the vector
 * tests compare it); index.js does not export it.
 * @param {string} password
 * @param {Uint8Array} salt
 * @param {KdfParams} params
 * @returns {Uint8Array}
 */
export function _deriveMaster(password, salt, params) {
  const { normalised, checkedSalt } = _checkKdfInput(password, salt, params);
  const encoded = new TextEncoder().encode(normalised);
  try {
    return sodium.crypto_pwhash(
      KEY_SIZE,
      encoded,
      checkedSalt,
      params.opslimit,
      params.memlimit,
      sodium.crypto_pwhash_ALG_ARGON2ID13,
    );
  } finally {
    wipeBytes(encoded);
  }
}
