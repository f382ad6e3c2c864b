/**
 * Behaviour shared by every type that holds secret key material.
 *
 * The bytes live in a module-private WeakMap, not in properties or `#private` fields, so
 * they are not reachable from the object: JSON.stringify, structuredClone, postMessage,
 * Node's util.inspect and the browser console's object view all see nothing (a console
 * shows `#private` fields, which is why they are not used here). `toString`, `toJSON` and
 * Node's custom inspection return a redacted form such as
 * `ConversationKey(secret=<hidden>)`.
 *
 * `wipe()` zeroes the bytes (sodium_memzero) and makes the object unusable. JavaScript
 * cannot guarantee that no other copy exists (libsodium.js copies arguments into its
 * WebAssembly heap and the garbage collector may move arrays), so keep secret objects
 * short-lived and wipe them when done.
 *
 * The accessors {@link fieldsOf} and {@link secretMaterial} are for the crypto modules
 * only; index.js does not export them.
 *
 * @module
 */

import { equalBytes, concat } from './_fields.js';
import { wipeBytes } from './_primitives.js';
import { FormatError } from './errors.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * @typedef {object} Held
 * @property {Record<string, Uint8Array>} fields
 * @property {string[]} material names of the fields that form the secret, in order
 * @property {Secret[]} children secret objects owned (and wiped) by this one
 * @property {boolean} wiped
 */

/** @type {WeakMap<Secret, Held>} */
const held = new WeakMap();

/** Base class of the secret-holding types. */
export class Secret {
  /**
   * @param {Record<string, Uint8Array>} fields the secret arrays, owned by this object
   * @param {{material?: string[], children?: Secret[]}} [options]
   */
  constructor(fields, options = {}) {
    held.set(this, {
      fields,
      material: options.material ?? Object.keys(fields),
      children: options.children ?? [],
      wiped: false,
    });
  }

  /**
   * Non-secret details shown by toString; empty by default.
   * @protected
   * @returns {string}
   */
  _publicRepr() {
    return '';
  }

  /** A redacted description: the type, public details, never the secret. */
  toString() {
    const state = held.get(this)?.wiped ? 'wiped' : 'hidden';
    const details = this._publicRepr();
    const prefix = details ? `${details}, ` : '';
    return `${this.constructor.name}(${prefix}secret=<${state}>)`;
  }

  /** JSON.stringify gives the redacted description, never the bytes. */
  toJSON() {
    return this.toString();
  }

  /** Node's util.inspect and console.log give the redacted description. */
  [INSPECT]() {
    return this.toString();
  }

  /** Whether {@link wipe} has been called. */
  get wiped() {
    return held.get(this)?.wiped ?? true;
  }

  /**
   * Constant-time comparison with another secret of the same type.
   * @param {unknown} other
   * @returns {boolean}
   */
  equals(other) {
    if (!(other instanceof Secret) || other.constructor !== this.constructor) return false;
    const mine = secretMaterial(this);
    const theirs = secretMaterial(other);
    try {
      return equalBytes(mine, theirs);
    } finally {
      wipeBytes(mine, theirs);
    }
  }

  /** Zero the secret bytes (and those of owned secrets); the object is unusable after. */
  wipe() {
    const state = held.get(this);
    if (!state || state.wiped) return;
    wipeBytes(...Object.values(state.fields));
    for (const child of state.children) child.wipe();
    state.wiped = true;
  }
}

/**
 * The secret arrays of `secret` (not copies). FormatError if it was wiped.
 * @param {Secret} secret
 * @returns {Record<string, Uint8Array>}
 */
export function fieldsOf(secret) {
  const state = held.get(secret);
  if (!state) throw new FormatError('Not a secret object of this package');
  if (state.wiped) throw new FormatError(`The ${secret.constructor.name} has been wiped`);
  return state.fields;
}

/**
 * A new array holding the secret material of `secret`: its material fields in order,
 * then that of its children. The caller should wipe it when done.
 * @param {Secret} secret
 * @returns {Uint8Array}
 */
export function secretMaterial(secret) {
  const fields = fieldsOf(secret);
  const state = /** @type {Held} */ (held.get(secret));
  const parts = state.material.map((name) => fields[name]);
  const children = state.children.map((child) => secretMaterial(child));
  try {
    return concat(...parts, ...children);
  } finally {
    wipeBytes(...children);
  }
}
