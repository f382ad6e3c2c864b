/**
 * The second step of signing in, for an account with a second factor: a code from the
 * authenticator app, a passkey, or one of the recovery codes. The server sends the
 * account's wrapped keys only after it (docs/protocol.md, "Second factors"); meanwhile the
 * password's keys wait in the sign-in screen's memory, never stored.
 *
 * @module
 */

import * as api from '../api.js';
import { h, focusHeading } from '../dom.js';
import { getAssertion, passkeysAvailable } from '../webauthn.js';

/** The sign-in gave up on its second step: back to the password. */
export class SecondFactorAbandoned extends Error {
  /** @param {string} reason */
  constructor(reason) {
    super(reason);
    this.name = 'SecondFactorAbandoned';
  }
}

/**
 * Ask for the second factor until the server takes one; resolves with the signed-in
 * account (`user` of the answer, with its key bundle). Rejects with
 * `SecondFactorAbandoned` when the person cancels, or the sign-in must start again.
 * @param {HTMLElement} root
 * @param {{methods: string[]}} required the server's `second_factor_required` answer
 * @returns {Promise<any>}
 */
export function askSecondFactor(root, { methods }) {
  return new Promise((resolve, reject) => {
    const hasApp = methods.includes('totp');
    const hasPasskey = methods.includes('webauthn') && passkeysAvailable();
    let recovery = !hasApp;
    const error = h('p', { class: 'form-error', role: 'alert', id: 'second-factor-error' });
    const status = h('p', { class: 'form-status', role: 'status' });
    const label = h('label', { for: 'second-factor-code' });
    const hint = h('p', { class: 'hint', id: 'second-factor-hint' });
    const input = /** @type {HTMLInputElement} */ (h('input', { id: 'second-factor-code', name: 'code', type: 'text', required: true, spellcheck: 'false', 'aria-describedby': 'second-factor-hint second-factor-error' }));
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Continue');
    const switcher = h('button', { type: 'button', class: 'link-button' });
    const passkey = hasPasskey ? h('button', { type: 'button', class: 'secondary' }, 'Use a passkey') : null;
    const cancel = h('button', { type: 'button', class: 'link-button' }, 'Cancel and sign in again');

    const showMode = () => {
      label.textContent = recovery ? 'Recovery code' : 'Code from your authenticator app';
      hint.textContent = recovery
        ? 'One of the ten codes you saved when you set up two-step sign-in, like k7qm-2xwd-9rfa-c3hv. Each works once.'
        : 'Six digits, from the app on your phone. They change every 30 seconds.';
      input.setAttribute('autocomplete', recovery ? 'off' : 'one-time-code');
      input.setAttribute('inputmode', recovery ? 'text' : 'numeric');
      if (recovery) input.removeAttribute('pattern');
      else input.setAttribute('pattern', '[0-9 ]*');
      input.setAttribute('maxlength', recovery ? '24' : '7');
      switcher.textContent = recovery ? 'Use your authenticator app' : 'Use a recovery code';
      switcher.hidden = !hasApp;
      input.value = '';
    };
    showMode();

    /** @param {Record<string, unknown>} proof */
    const send = async (proof) => {
      error.textContent = '';
      status.textContent = 'Checking…';
      for (const control of [submit, passkey]) control?.setAttribute('disabled', '');
      try {
        const answer = await api.post('/api/auth/signin/second-factor', proof);
        status.textContent = '';
        resolve(answer.user);
      } catch (problem) {
        status.textContent = '';
        for (const control of [submit, passkey]) control?.removeAttribute('disabled');
        if (problem instanceof api.ApiError && problem.code === 'second_factor_expired') {
          reject(new SecondFactorAbandoned(problem.message));
          return;
        }
        error.textContent = describe(problem);
        input.focus();
      }
    };

    const form = h('form', { class: 'card form', novalidate: true, 'aria-describedby': 'second-factor-error' },
      h('div', { class: 'field' }, label, hint, input),
      error,
      status,
      submit,
      h('p', { class: 'alternatives' }, switcher, passkey));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = input.value.replace(/\s+/g, '');
      if (!recovery && !/^[0-9]{6}$/.test(text)) {
        error.textContent = 'Type the six digits your authenticator app shows.';
        input.focus();
        return;
      }
      if (recovery && !/^[0-9a-z]{4}(-?[0-9a-z]{4}){3}$/i.test(text)) {
        error.textContent = 'A recovery code has sixteen letters and digits, in four groups.';
        input.focus();
        return;
      }
      send(recovery ? { recovery_code: text } : { totp: text });
    });
    switcher.addEventListener('click', () => {
      recovery = !recovery;
      error.textContent = '';
      showMode();
      input.focus();
    });
    passkey?.addEventListener('click', async () => {
      error.textContent = '';
      let assertion;
      try {
        const { options } = await api.post('/api/auth/signin/passkey-options');
        assertion = await getAssertion(options);
      } catch (problem) {
        if (problem instanceof api.ApiError && problem.code === 'second_factor_expired') {
          reject(new SecondFactorAbandoned(problem.message));
          return;
        }
        error.textContent = problem instanceof api.ApiError
          ? describe(problem)
          : 'No passkey was used. Try again, or use your authenticator app or a recovery code.';
        return;
      }
      send({ webauthn: assertion });
    });
    cancel.addEventListener('click', () => {
      api.post('/api/auth/signout').catch(() => {});
      reject(new SecondFactorAbandoned('cancelled'));
    });

    root.replaceChildren(
      h('section', { class: 'screen narrow', 'aria-labelledby': 'second-factor-title' },
        h('h1', { id: 'second-factor-title' }, 'Two-step sign-in'),
        h('p', { class: 'lead' }, 'Your password was right. To finish signing in, prove it is you with your second factor.'),
        form,
        h('p', {}, cancel)),
    );
    focusHeading(root);
    if (!recovery) input.focus();
  });
}

/** @param {unknown} problem */
function describe(problem) {
  if (problem instanceof api.ApiError) {
    if (problem.code === 'second_factor_invalid') return problem.message;
    if (problem.code === 'rate_limited') return 'Too many attempts. Wait a few minutes, then sign in again.';
    if (problem.code === 'network') return 'The server could not be reached. Check your connection.';
    return `Signing in failed (${problem.code}).`;
  }
  return 'Signing in failed. Try again.';
}
