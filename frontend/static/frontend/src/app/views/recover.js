/**
 * Forgot password: email, recovery key and a new password, on any browser. The recovery
 * key opens the keys here and is never sent; every other session of the account is
 * signed out; the identity stays, so the people you write with see no key change.
 *
 * Lost the recovery key too: "I have lost my recovery key too" (`/recover#assisted`) leads
 * to an assisted recovery through the therapist (views/assisted-recovery.js).
 *
 * @module
 */

import * as api from '../api.js';
import { h, focusHeading } from '../dom.js';
import { isCryptoError, warmPasswordDerivation } from '../keys.js';
import { MistypedKeyError, recoverAccount, recoveryKeyProblem } from '../recovery.js';
import { renderAssistedRecovery } from './assisted-recovery.js';
import { SecondFactorAbandoned, askSecondFactor } from './second-factor.js';
import { field, newPasswordFields } from './fields.js';

/**
 * @param {HTMLElement} root
 * @param {{onRecovered: (me: any, keys: import('../keys.js').Keys) => void}} options
 */
export function renderRecover(root, { onRecovered }) {
  if (location.hash === '#assisted') {
    renderAssistedRecovery(root);
    return;
  }
  const email = field('recover-email', 'Email', { type: 'email', autocomplete: 'username' });
  const key = field(
    'recover-key',
    'Recovery key',
    { type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'characters' },
    'The 56 letters and digits you wrote down when you made your account, in groups of four. Dashes and spaces do not matter.',
  );
  const password = newPasswordFields('recover', {
    label: 'New password',
    confirmLabel: 'Type the new password again',
    userInputs: () => [email.input.value],
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const status = h('p', { class: 'form-status', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Set the new password');
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    email.node,
    key.node,
    ...password.nodes,
    error,
    status,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const values = {
      email: email.input.value.trim(),
      recoveryKey: key.input.value,
      newPassword: password.value(),
    };
    // The recovery key is read here, before anything is sent or derived: a typo is
    // caught by its checksum.
    const mistyped = values.recoveryKey.trim() ? recoveryKeyProblem(values.recoveryKey) : null;
    const problem = !/^[^@\s]+@[^@\s]+$/.test(values.email)
      ? [email.input, 'Enter the email you sign in with.']
      : !values.recoveryKey.trim()
        ? [key.input, 'Enter your recovery key.']
        : mistyped
          ? [key.input, mistyped]
          : password.problem();
    if (problem) {
      error.textContent = /** @type {string} */ (problem[1]);
      /** @type {HTMLElement} */ (problem[0]).focus();
      return;
    }
    submit.setAttribute('disabled', '');
    status.textContent = 'Opening your keys with the recovery key…';
    try {
      const { me, keys } = await recoverAccount({
        ...values,
        // The recovery key stands for the password only: an account with a second factor
        // passes it on the second step's screen before the new password is stored.
        secondFactor: (required) => askSecondFactor(root, required),
      });
      key.input.value = '';
      password.clear();
      status.textContent = '';
      onRecovered(me, keys);
    } catch (failure) {
      if (!section.isConnected) root.replaceChildren(section); // the second step's screen was shown
      status.textContent = '';
      submit.removeAttribute('disabled');
      const [where, text] = describe(failure, key.input);
      error.textContent = text;
      where.focus();
    }
  });
  const section = h(
    'section',
    { class: 'screen narrow', 'aria-labelledby': 'recover-title' },
    h('h1', { id: 'recover-title' }, 'Forgot your password?'),
    h(
      'p',
      { class: 'lead' },
      'Your recovery key unlocks your messages on this device and sets a new password. ' +
        'It is not sent anywhere. Every other device you are signed in on will be signed out.',
    ),
    form,
    h('p', {}, lostKey(root)),
    h('p', {}, h('a', { href: '/' }, 'Back to sign-in')),
  );
  root.replaceChildren(section);
  focusHeading(root);
  email.input.focus();
  warmPasswordDerivation();
}

/**
 * The way on for someone without their recovery key: their therapist can help.
 * @param {HTMLElement} root
 */
function lostKey(root) {
  const link = h('a', { href: '/recover#assisted' }, 'I have lost my recovery key too');
  link.addEventListener('click', (event) => {
    event.preventDefault();
    history.pushState(null, '', '/recover#assisted');
    renderAssistedRecovery(root);
  });
  return link;
}

/**
 * Where to point the person and what to tell them.
 * @param {unknown} failure
 * @param {HTMLInputElement} keyInput
 * @returns {[HTMLElement, string]}
 */
function describe(failure, keyInput) {
  if (failure instanceof SecondFactorAbandoned) {
    return [
      keyInput,
      failure.message === 'cancelled'
        ? 'Nothing was changed. Your password is set only after your second factor.'
        : 'Nothing was changed: the second step waited too long or had too many tries. Press the button to start again.',
    ];
  }
  if (failure instanceof MistypedKeyError) {
    // Read before anything was sent or derived.
    return [keyInput, `${failure.message}. Compare each group with what you wrote down.`];
  }
  if (failure instanceof api.ApiError) {
    if (failure.code === 'recovery_challenge_invalid') {
      return [keyInput, `${failure.message} Press the button again to start over.`];
    }
    if (failure.code === 'recovery_proof_invalid') {
      return [keyInput, NOT_THIS_ACCOUNT];
    }
    if (failure.code === 'rate_limited') {
      return [keyInput, 'Too many attempts. Wait a few minutes, then try again.'];
    }
    if (failure.code === 'network') {
      return [keyInput, 'The server could not be reached. Check your connection.'];
    }
    return [keyInput, `Recovering your account failed (${failure.code}).`];
  }
  if (isCryptoError(failure)) return [keyInput, NOT_THIS_ACCOUNT];
  return [keyInput, 'Recovering your account failed. Try again.'];
}

const NOT_THIS_ACCOUNT =
  'This recovery key does not open the keys of this account. Check the email and the key.';
