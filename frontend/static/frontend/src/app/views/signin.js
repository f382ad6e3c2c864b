/**
 * Sign-in: email and password → the account's Argon2id parameters → derive → sign in with
 * the authentication secret → (for an account with a second factor, its second step:
 * views/second-factor.js) → open the key bundle. The password never leaves the page, and
 * its keys stay in memory only until the bundle is open.
 *
 * @module
 */

import * as api from '../api.js';
import { h, focusHeading } from '../dom.js';
import {
  Keys,
  WEAK_PARAMETERS_TEXT,
  derivePasswordKeys,
  isCryptoError,
  isWeakParameters,
  warmPasswordDerivation,
} from '../keys.js';
import { SecondFactorAbandoned, askSecondFactor } from './second-factor.js';

/**
 * @param {HTMLElement} root
 * @param {{notice?: string, onSignedIn: (me: any, keys: Keys) => void}} options
 */
export function renderSignIn(root, { notice, onSignedIn }) {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'signin-error' });
  const status = h('p', { class: 'form-status', role: 'status' });
  const email = h('input', {
    id: 'signin-email',
    name: 'email',
    type: 'email',
    autocomplete: 'username',
    required: true,
  });
  const password = h('input', {
    id: 'signin-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card form', 'aria-describedby': 'signin-error', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'signin-email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'signin-password' }, 'Password'), password),
    error,
    status,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const address = /** @type {HTMLInputElement} */ (email).value.trim();
    const secret = /** @type {HTMLInputElement} */ (password).value;
    if (!address || !secret) {
      error.textContent = 'Enter your email and password.';
      return;
    }
    submit.setAttribute('disabled', '');
    status.textContent = 'Unlocking your keys…';
    let passwordKeys = null;
    try {
      const kdf = await api.post('/api/auth/params', { email: address });
      passwordKeys = await derivePasswordKeys(secret, kdf);
      const answer = await api.post('/api/auth/signin', {
        email: address,
        auth_secret: passwordKeys.authSecretB64(),
      });
      /** @type {HTMLInputElement} */ (password).value = '';
      const user = answer.second_factor_required ? await askSecondFactor(root, answer) : answer.user;
      await api.afterAuthentication();
      const keys = Keys.open(passwordKeys, user.key_bundle, user.public_identity);
      status.textContent = '';
      onSignedIn(user, keys);
    } catch (problem) {
      if (problem instanceof SecondFactorAbandoned) {
        const notice = problem.message === 'cancelled' ? undefined : 'The sign-in waited too long or had too many tries. Sign in again.';
        renderSignIn(root, { notice, onSignedIn });
        return;
      }
      if (!form.isConnected) {
        // The second step's screen replaced this one.
        renderSignIn(root, { notice: describe(problem), onSignedIn });
        return;
      }
      status.textContent = '';
      error.textContent = describe(problem);
      submit.removeAttribute('disabled');
      /** @type {HTMLInputElement} */ (password).focus();
    } finally {
      passwordKeys?.wipe();
    }
  });
  root.replaceChildren(
    h(
      'section',
      { class: 'screen narrow', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title' }, 'Sign in'),
      notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
      h(
        'p',
        { class: 'lead' },
        'Messages here are end-to-end encrypted. Your password unlocks your keys on this ' +
          'device and is never sent to the server.',
      ),
      form,
      h('p', {}, h('a', { href: '/recover' }, 'Forgot your password?')),
    ),
  );
  focusHeading(root);
  email.focus();
  warmPasswordDerivation();
}

/** @param {unknown} problem */
function describe(problem) {
  if (problem instanceof api.ApiError) {
    if (problem.code === 'unauthenticated') return 'The email or password is wrong.';
    if (problem.code === 'rate_limited') {
      return 'Too many attempts. Wait a few minutes, then try again.';
    }
    if (problem.code === 'network') return 'The server could not be reached. Check your connection.';
    if (problem.code === 'csrf_failed' && location.protocol === 'http:') {
      // Its cookies go over https only: nothing sent over plain http can pass.
      return `This portal works only over https: open https://${location.host}/ instead.`;
    }
    return `Signing in failed (${problem.code}).`;
  }
  if (isWeakParameters(problem)) return WEAK_PARAMETERS_TEXT;
  if (isCryptoError(problem)) {
    return 'Your keys could not be opened with this password. If you changed it elsewhere, use the new one.';
  }
  return 'Signing in failed. Try again.';
}
