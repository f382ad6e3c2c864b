/**
 * Forgot password, with the recovery key: the requests and the keys, without the page
 * (views/recover.js shows it). docs/protocol.md, "Password recovery".
 *
 * The typed recovery key is read first: a typo is reported before any request is made or
 * anything derived. The recovery key and the new password never leave the page; the server
 * receives the new authentication secret, the new bundle and the identity's proof.
 *
 * @module
 */

import * as api from './api.js';
import { isCryptoError, makeRecovery, readRecoveryKey } from './keys.js';

/** The typed recovery key is not one: a typo, a missing group or a stray character. */
export class MistypedKeyError extends Error {
  /** @param {string} message what is wrong with it, fit to show */
  constructor(message) {
    super(message);
    this.name = 'MistypedKeyError';
  }
}

/**
 * Why the typed recovery key is not one, as a sentence to show, or null when it reads:
 * for a form to say so at once, before anything is sent or derived.
 * @param {string} text
 * @returns {string|null}
 */
export function recoveryKeyProblem(text) {
  try {
    readRecoveryKey(text).wipe();
    return null;
  } catch (error) {
    if (!isCryptoError(error)) throw error;
    return `${/** @type {Error} */ (error).message}. Compare each group with what you wrote down.`;
  }
}

/**
 * Recover the account of `email`: returns the signed-in person (`me`, as
 * `POST /api/auth/recover/finish` answers it) and their keys. Every other session of the
 * account ends on the server.
 *
 * Throws MistypedKeyError for a mistyped recovery key (no request made), DecryptionError when
 * the key does not open this account's keys, and ApiError for what the server refused
 * (`recovery_challenge_invalid`, `recovery_proof_invalid`, `rate_limited`, ...).
 *
 * For an account with a second factor the server answers `second_factor_required`, and
 * `secondFactor` is asked for it (with that answer): it resolves with the signed-in
 * person once the second step of a sign-in passed (views/second-factor.js), and only then
 * is the new password stored.
 * @param {{email: string, recoveryKey: string, newPassword: string,
 *          secondFactor?: (required: {methods: string[]}) => Promise<any>}} input
 * @param {{post: (path: string, body?: unknown) => Promise<any>,
 *          afterAuthentication?: () => Promise<void>}} [http] the API (a stand-in in tests)
 */
export async function recoverAccount({ email, recoveryKey, newPassword, secondFactor }, http = api) {
  let key;
  try {
    key = readRecoveryKey(recoveryKey);
  } catch (error) {
    if (isCryptoError(error)) throw new MistypedKeyError(/** @type {Error} */ (error).message);
    throw error;
  }
  try {
    const begun = await http.post('/api/auth/recover/begin', { email });
    const made = await makeRecovery({ begun, recoveryKey: key, email, newPassword });
    try {
      let answer = await http.post('/api/auth/recover/finish', made.body);
      if (answer?.second_factor_required === true) {
        // The recovery key stands for the password only: the new password is stored when
        // the account's second factor passes.
        if (!secondFactor) {
          throw new api.ApiError('second_factor_required', 'This account needs its second factor.', 200);
        }
        answer = { user: await secondFactor(answer) };
      }
      try {
        // The identity the server publishes must certify the keys the recovery key opened.
        made.keys.adopt(answer?.user?.public_identity);
      } catch {
        throw new api.ApiError(
          'server_error',
          'The server answered with another identity than the one recovered.',
          200,
        );
      }
      await http.afterAuthentication?.();
      return { me: answer.user, keys: made.keys };
    } catch (error) {
      made.keys.wipe();
      throw error;
    }
  } finally {
    key.wipe();
  }
}
