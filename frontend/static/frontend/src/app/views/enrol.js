/**
 * Two-step sign-in: setting up and managing the account's second factors. An
 * authenticator app is set up from a QR code of its `otpauth://` URI (or its key typed in)
 * and confirmed by a code from it; a passkey is made by the browser's own WebAuthn API; the
 * ten recovery codes that come with the first factor are shown once, and the screen goes
 * on only once the person says they saved them.
 *
 * Therapists and admins come here right after signing in when they have no second factor
 * (`required`): nothing else is open to them until they set one up. Everyone reaches it
 * at `#/security`, which also holds the notification settings: emails (the server's),
 * push to this browser, and desktop notifications with a sound while the page is open.
 *
 * @module
 */

import * as api from '../api.js';
import { h, focusHeading, shortTime } from '../dom.js';
import { currentSubscription, disablePush, enablePush, pushSupported } from '../push.js';
import { WEAK_PARAMETERS_TEXT, derivePasswordKeys, isWeakParameters } from '../keys.js';
import { drawQr, qrModules } from '../qr.js';
import { createCredential, passkeysAvailable } from '../webauthn.js';

/**
 * @param {HTMLElement} root
 * @param {{me: any, required: boolean, onDone: () => void, onSignOut: () => void,
 *          alerts?: import('../alerts.js').Alerts}} options
 *   `onDone`: leave the screen (once a required factor is set up, or when asked to)
 * @returns {() => void}
 */
export function renderEnrol(root, { me, required, onDone, onSignOut, alerts }) {
  let live = true;
  // Staff who must set up a second factor see only that; everyone else, their settings.
  const title = required ? 'Two-step sign-in' : 'Settings';

  /** @param {string} [notice] */
  const overview = async (notice) => {
    root.replaceChildren(h('section', { class: 'screen narrow' }, h('h1', { id: 'enrol-title' }, title), h('p', { role: 'status' }, 'Loading…')));
    let factors;
    try {
      factors = await api.get('/api/2fa');
    } catch {
      if (!live) return;
      root.replaceChildren(h('section', { class: 'screen narrow' }, h('h1', { id: 'enrol-title' }, title), h('p', { role: 'alert' }, 'Your second factors could not be loaded. Reload the page to try again.')));
      return;
    }
    if (!live) return;
    const has = Boolean(factors.totp) || factors.passkeys.length > 0;
    if (required && has) {
      onDone();
      return;
    }
    showOverview(factors, notice);
  };

  /**
   * @param {any} factors
   * @param {string} [notice]
   */
  const showOverview = (factors, notice) => {
    const has = Boolean(factors.totp) || factors.passkeys.length > 0;
    const items = [];
    if (factors.totp) {
      items.push(h('li', {}, h('span', {}, `Authenticator app, set up ${shortTime(factors.totp.confirmed_at)}`), removeButton(factors, { factor: 'totp' }, 'the authenticator app')));
    }
    for (const passkey of factors.passkeys) {
      const used = passkey.last_used_at ? `, last used ${shortTime(passkey.last_used_at)}` : '';
      items.push(h('li', {}, h('span', {}, `Passkey “${passkey.name}”${used}`), removeButton(factors, { factor: 'passkey', passkey_id: passkey.id }, `the passkey “${passkey.name}”`)));
    }
    const actions = h('div', { class: 'alternatives' },
      h('button', { type: 'button', class: has ? 'secondary' : 'primary', onclick: () => setUpApp() }, factors.totp ? 'Replace the authenticator app' : 'Set up an authenticator app'),
      passkeysAvailable() ? h('button', { type: 'button', class: 'secondary', onclick: () => addPasskey() }, 'Add a passkey') : null);
    root.replaceChildren(
      h('section', { class: 'screen narrow', 'aria-labelledby': 'enrol-title' },
        h('h1', { id: 'enrol-title' }, title),
        notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
        required ? null : h('h2', {}, 'Two-step sign-in'),
        h('p', { class: 'lead' }, required
          ? 'Therapists and admins protect their accounts with a second step: after the password, a code from an authenticator app on your phone, or a passkey. Set one up to continue.'
          : 'After your password, a second step proves it is you: a code from an authenticator app on your phone, or a passkey. Your keys are sent to a browser only after it.'),
        h('div', { class: 'card' },
          h('h2', {}, 'Your second factors'),
          has ? h('ul', { class: 'factor-list' }, items) : h('p', {}, 'None yet.'),
          has ? h('p', { class: 'hint' }, `Recovery codes left: ${factors.recovery_codes_left} of 10.`) : null),
        actions,
        required ? null : emailSettings(),
        required ? null : pushSettings(),
        required || !alerts ? null : alertSettings(alerts),
        required
          ? h('p', {}, h('button', { type: 'button', class: 'link-button', onclick: () => onSignOut() }, 'Sign out'))
          : h('p', {}, h('button', { type: 'button', class: 'link-button', onclick: () => onDone() }, 'Back'))),
    );
    focusHeading(root);
  };

  // --- email notifications ----------------------------------------------------------------

  /** The email notifications switch: loaded, then saved at each change. */
  const emailSettings = () => {
    const box = /** @type {HTMLInputElement} */ (h('input', { id: 'email-notifications', type: 'checkbox', disabled: true, 'aria-describedby': 'email-notifications-hint' }));
    const status = h('p', { class: 'form-status', role: 'status' });
    api.get('/api/me/notifications').then(
      (answer) => {
        box.checked = Boolean(answer.email);
        box.disabled = false;
      },
      () => {
        status.textContent = 'Your email settings could not be loaded.';
      },
    );
    box.addEventListener('change', async () => {
      box.disabled = true;
      status.textContent = 'Saving…';
      try {
        const answer = await api.post('/api/me/notifications', { email: box.checked });
        box.checked = Boolean(answer.email);
        status.textContent = answer.email ? 'Emails are on.' : 'Emails are off.';
      } catch {
        box.checked = !box.checked;
        status.textContent = 'Not saved. Try again.';
      } finally {
        box.disabled = false;
      }
    });
    return h('div', { class: 'card' },
      h('h2', {}, 'Email notifications'),
      h('div', { class: 'check' },
        box,
        h('label', { for: 'email-notifications' }, 'Email me when a message waits and I am not signed in')),
      h('p', { class: 'hint', id: 'email-notifications-hint' },
        'At most one email an hour. It says only that a secure message is waiting: never who wrote or what.'),
      status);
  };

  // --- push notifications to this browser ---------------------------------------------------

  /** The switch for Web Push to this browser: subscribes or unsubscribes at each change. */
  const pushSettings = () => {
    const box = /** @type {HTMLInputElement} */ (h('input', { id: 'push-notifications', type: 'checkbox', disabled: true, 'aria-describedby': 'push-notifications-hint' }));
    const status = h('p', { class: 'form-status', role: 'status' });
    if (!pushSupported()) {
      status.textContent = 'This browser cannot show push notifications.';
    } else {
      currentSubscription().then(
        (subscription) => {
          box.checked = Boolean(subscription) && Notification.permission === 'granted';
          box.disabled = false;
        },
        () => {
          status.textContent = 'Push notifications could not be checked.';
        },
      );
    }
    box.addEventListener('change', async () => {
      box.disabled = true;
      status.textContent = 'Saving…';
      try {
        if (box.checked) {
          await enablePush(api);
          status.textContent = 'Push notifications are on for this browser.';
        } else {
          await disablePush(api);
          status.textContent = 'Push notifications are off for this browser.';
        }
      } catch (problem) {
        box.checked = false;
        await disablePush(api);
        status.textContent = problem instanceof Error && !(problem instanceof api.ApiError) ? problem.message : 'Not saved. Try again.';
      } finally {
        box.disabled = false;
      }
    });
    return h('div', { class: 'card' },
      h('h2', {}, 'Push notifications'),
      h('div', { class: 'check' },
        box,
        h('label', { for: 'push-notifications' }, 'Notify this browser or phone when a message waits and the portal is closed')),
      h('p', { class: 'hint', id: 'push-notifications-hint' },
        'For this browser only, until you sign out or your sign-in expires. It says only that a secure message is waiting: never who wrote or what. On a phone, add the portal to your home screen first.'),
      status);
  };

  // --- desktop notifications while the page is open -------------------------------------------

  /** @param {import('../alerts.js').Alerts} alerts */
  const alertSettings = (alerts) => {
    const box = /** @type {HTMLInputElement} */ (h('input', { id: 'desktop-alerts', type: 'checkbox', 'aria-describedby': 'desktop-alerts-hint' }));
    box.checked = alerts.on && 'Notification' in globalThis && Notification.permission === 'granted';
    const status = h('p', { class: 'form-status', role: 'status' });
    box.addEventListener('change', async () => {
      box.disabled = true;
      try {
        box.checked = await alerts.set(box.checked);
        status.textContent = box.checked ? 'Desktop notifications and sound are on.' : 'Desktop notifications and sound are off.';
      } catch (problem) {
        box.checked = false;
        status.textContent = problem instanceof Error ? problem.message : 'Not saved. Try again.';
      } finally {
        box.disabled = false;
      }
    });
    return h('div', { class: 'card' },
      h('h2', {}, 'While the portal is open'),
      h('div', { class: 'check' },
        box,
        h('label', { for: 'desktop-alerts' }, 'Show a notification and play a sound when a message arrives in the background')),
      h('p', { class: 'hint', id: 'desktop-alerts-hint' },
        'When this tab is hidden, or the message is in another conversation. The notification says only that a secure message is waiting.'),
      status);
  };

  // --- an authenticator app -------------------------------------------------------------

  const setUpApp = async () => {
    let begun;
    try {
      begun = await api.post('/api/2fa/totp/begin');
    } catch (problem) {
      overview(describe(problem));
      return;
    }
    if (!live) return;
    const canvas = /** @type {HTMLCanvasElement} */ (h('canvas', { class: 'qr', role: 'img', 'aria-label': 'QR code for your authenticator app' }));
    drawQr(canvas, qrModules(begun.uri), 6);
    const grouped = begun.secret.match(/.{1,4}/g).join(' ');
    const input = /** @type {HTMLInputElement} */ (h('input', { id: 'totp-code', name: 'code', type: 'text', autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9 ]*', maxlength: 7, required: true, 'aria-describedby': 'totp-code-hint totp-error' }));
    const error = h('p', { class: 'form-error', role: 'alert', id: 'totp-error' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Confirm');
    const form = h('form', { class: 'form', novalidate: true },
      h('div', { class: 'field' },
        h('label', { for: 'totp-code' }, 'Code from your authenticator app'),
        h('p', { class: 'hint', id: 'totp-code-hint' }, 'The six digits the app shows for Confide now.'),
        input),
      error,
      h('div', { class: 'alternatives' }, submit, h('button', { type: 'button', class: 'link-button', onclick: () => overview() }, 'Cancel')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      const code = input.value.replace(/\s+/g, '');
      if (!/^[0-9]{6}$/.test(code)) {
        error.textContent = 'Type the six digits your authenticator app shows.';
        input.focus();
        return;
      }
      submit.setAttribute('disabled', '');
      try {
        const answer = await api.post('/api/2fa/totp/confirm', { code });
        showCodes(answer.recovery_codes, 'Your authenticator app is set up.');
      } catch (problem) {
        submit.removeAttribute('disabled');
        if (problem instanceof api.ApiError && problem.code === 'second_factor_expired') {
          overview('The set-up waited too long. Begin it again.');
          return;
        }
        error.textContent = describe(problem);
        input.focus();
      }
    });
    root.replaceChildren(
      h('section', { class: 'screen narrow', 'aria-labelledby': 'app-title' },
        h('h1', { id: 'app-title' }, 'Set up your authenticator app'),
        h('ol', { class: 'enrol-steps' },
          h('li', {}, h('p', {}, 'In an authenticator app on your phone (such as Google Authenticator, Microsoft Authenticator, 2FAS or your password manager), add an account by scanning this code.'),
            h('figure', { class: 'qr-figure' }, canvas)),
          h('li', {}, h('p', { id: 'totp-secret-label' }, 'If you cannot scan it, type this key into the app instead (time-based):'),
            h('p', {}, h('code', { class: 'totp-secret', id: 'totp-secret', 'aria-labelledby': 'totp-secret-label' }, grouped))),
          h('li', {}, h('p', {}, 'Type the code the app then shows, to check that it works.'), form))),
    );
    focusHeading(root);
  };

  // --- a passkey ------------------------------------------------------------------------

  const addPasskey = () => {
    const name = /** @type {HTMLInputElement} */ (h('input', { id: 'passkey-name', name: 'name', type: 'text', autocomplete: 'off', maxlength: 64, required: true, value: 'Passkey', 'aria-describedby': 'passkey-name-hint passkey-error' }));
    const error = h('p', { class: 'form-error', role: 'alert', id: 'passkey-error' });
    const status = h('p', { class: 'form-status', role: 'status' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Create the passkey');
    const form = h('form', { class: 'card form', novalidate: true },
      h('div', { class: 'field' },
        h('label', { for: 'passkey-name' }, 'Name of the passkey'),
        h('p', { class: 'hint', id: 'passkey-name-hint' }, 'So you can tell your passkeys apart, such as “Work laptop” or “Phone”.'),
        name),
      error, status,
      h('div', { class: 'alternatives' }, submit, h('button', { type: 'button', class: 'link-button', onclick: () => overview() }, 'Cancel')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      const label = name.value.trim();
      if (!label) {
        error.textContent = 'Give the passkey a name.';
        name.focus();
        return;
      }
      submit.setAttribute('disabled', '');
      status.textContent = 'Follow your browser’s steps to make the passkey…';
      try {
        const { options } = await api.post('/api/2fa/webauthn/register/begin');
        const credential = await createCredential(options);
        const answer = await api.post('/api/2fa/webauthn/register/finish', { credential, name: label });
        status.textContent = '';
        if (answer.recovery_codes) showCodes(answer.recovery_codes, `The passkey “${label}” is added.`);
        else overview(`The passkey “${label}” is added.`);
      } catch (problem) {
        status.textContent = '';
        submit.removeAttribute('disabled');
        error.textContent = problem instanceof api.ApiError ? describe(problem) : 'No passkey was made. Try again, or set up an authenticator app.';
      }
    });
    root.replaceChildren(
      h('section', { class: 'screen narrow', 'aria-labelledby': 'passkey-title' },
        h('h1', { id: 'passkey-title' }, 'Add a passkey'),
        h('p', { class: 'lead' }, 'A passkey lives on this device (or your phone, or a security key) and is unlocked with your fingerprint, face or device PIN.'),
        form),
    );
    focusHeading(root);
    name.focus();
  };

  // --- recovery codes -------------------------------------------------------------------

  /**
   * @param {string[]} codes
   * @param {string} done what was just set up
   */
  const showCodes = (codes, done) => {
    const list = h('ol', { class: 'recovery-codes', 'aria-label': 'Recovery codes' }, codes.map((code) => h('li', {}, code)));
    const check = /** @type {HTMLInputElement} */ (h('input', { id: 'codes-saved', type: 'checkbox' }));
    const error = h('p', { class: 'form-error', role: 'alert' });
    const form = h('form', { class: 'form', novalidate: true },
      h('div', { class: 'check' }, check, h('label', { for: 'codes-saved' }, 'I have saved my recovery codes')),
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Continue'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!check.checked) {
        error.textContent = 'Save the codes first: they are shown only now.';
        check.focus();
        return;
      }
      // The codes are kept nowhere: off the page before going on.
      list.replaceChildren();
      overview(done);
    });
    root.replaceChildren(
      h('section', { class: 'screen narrow', 'aria-labelledby': 'codes-title' },
        h('h1', { id: 'codes-title' }, 'Your recovery codes'),
        h('p', { class: 'notice', role: 'status' }, done),
        h('p', { class: 'lead' }, 'If you lose your phone or passkey, each of these codes signs you in once in their place. They are shown only now: write them down or print them, and keep them away from this device.'),
        h('div', { class: 'card' }, list),
        form),
    );
    focusHeading(root);
  };

  // --- removing a factor ----------------------------------------------------------------

  /**
   * @param {any} factors
   * @param {Record<string, unknown>} which
   * @param {string} what
   */
  const removeButton = (factors, which, what) =>
    h('button', { type: 'button', class: 'secondary', onclick: () => confirmRemoval(factors, which, what) }, `Remove ${what}`);

  /**
   * @param {any} factors
   * @param {Record<string, unknown>} which
   * @param {string} what
   */
  const confirmRemoval = (factors, which, what) => {
    const byCode = Boolean(factors.totp);
    const input = /** @type {HTMLInputElement} */ (h('input', byCode
      ? { id: 'remove-proof', type: 'text', autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9 ]*', maxlength: 7, required: true }
      : { id: 'remove-proof', type: 'password', autocomplete: 'current-password', required: true }));
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'danger' }, `Remove ${what}`);
    const form = h('form', { class: 'card form', novalidate: true },
      h('div', { class: 'field' }, h('label', { for: 'remove-proof' }, byCode ? 'Code from your authenticator app' : 'Your password'), input),
      error,
      h('div', { class: 'alternatives' }, submit, h('button', { type: 'button', class: 'link-button', onclick: () => overview() }, 'Cancel')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      submit.setAttribute('disabled', '');
      let passwordKeys = null;
      try {
        /** @type {Record<string, unknown>} */
        const proof = { ...which };
        if (byCode) proof.totp = input.value.replace(/\s+/g, '');
        else {
          const kdf = await api.post('/api/auth/params', { email: me.email });
          passwordKeys = await derivePasswordKeys(input.value, kdf);
          proof.auth_secret = passwordKeys.authSecretB64();
        }
        input.value = '';
        await api.post('/api/2fa/remove', proof);
        overview(`Removed ${what}.`);
      } catch (problem) {
        submit.removeAttribute('disabled');
        error.textContent = describe(problem);
      } finally {
        passwordKeys?.wipe();
      }
    });
    root.replaceChildren(
      h('section', { class: 'screen narrow', 'aria-labelledby': 'remove-title' },
        h('h1', { id: 'remove-title' }, `Remove ${what}`),
        h('p', { class: 'lead' }, byCode ? 'To remove it, type a code from your authenticator app.' : 'To remove it, type your password.'),
        form),
    );
    focusHeading(root);
    input.focus();
  };

  overview();
  return () => {
    live = false;
  };
}

/** @param {unknown} problem */
function describe(problem) {
  if (problem instanceof api.ApiError) {
    if (['second_factor_invalid', 'forbidden', 'not_found'].includes(problem.code)) return problem.message;
    if (problem.code === 'rate_limited') return 'Too many attempts. Wait a few minutes, then try again.';
    if (problem.code === 'network') return 'The server could not be reached. Check your connection.';
    return `That did not work (${problem.code}).`;
  }
  if (isWeakParameters(problem)) return WEAK_PARAMETERS_TEXT;
  return 'That did not work. Try again.';
}
