/**
 * Lost the recovery key too: the client gets their account back through their therapist
 * (crypto/SPEC.md, "Assisted recovery"; docs/protocol.md, "Assisted recovery").
 *
 * This browser makes new keys, exactly as at sign-up (a new identity, the new password's
 * bundle, a new recovery key shown once and checked), and asks the server to keep them
 * until the therapist confirms. Then it shows the new identity's number, 30 digits and a
 * QR code, for the client to compare with their therapist in a session: the therapist's
 * browser shows the number of the identity the server holds for the request, and confirms
 * only when the two match. Nothing changes until then; the old password keeps working.
 *
 * What this page shows never depends on whether the email has an account: the server
 * answers every request alike, and the number is made here.
 *
 * @module
 */

import * as api from '../api.js';
import { h, focusHeading } from '../dom.js';
import { identityNumber, makeAssistedRecovery, warmPasswordDerivation } from '../keys.js';
import { drawQr, qrModules } from '../qr.js';
import { MIN_LENGTH } from '../strength.js';
import { field, newPasswordFields } from './fields.js';
import { renderRecovery } from './recovery-key.js';

/**
 * The form: email and a new password.
 * @param {HTMLElement} root
 */
export function renderAssistedRecovery(root) {
  const email = field('assisted-email', 'Email', { type: 'email', autocomplete: 'username' });
  const password = newPasswordFields('assisted', {
    label: 'New password',
    confirmLabel: 'Type the new password again',
    hint: `At least ${MIN_LENGTH} characters and hard to guess: a few unrelated words work well. It will unlock your new keys and never leaves this device.`,
    userInputs: () => [email.input.value],
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const status = h('p', { class: 'form-status', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Make my new keys');
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    email.node,
    ...password.nodes,
    error,
    status,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const values = { email: email.input.value.trim(), password: password.value() };
    const problem = !/^[^@\s]+@[^@\s]+$/.test(values.email)
      ? [email.input, 'Enter the email you sign in with.']
      : password.problem();
    if (problem) {
      error.textContent = /** @type {string} */ (problem[1]);
      /** @type {HTMLElement} */ (problem[0]).focus();
      return;
    }
    submit.setAttribute('disabled', '');
    status.textContent = 'Making your new keys on this device…';
    try {
      const made = await makeAssistedRecovery(values);
      await api.post('/api/auth/assisted-recovery', made.body);
      password.clear();
      renderRecovery(root, made.recoveryDisplay, () => renderNumber(root, made.publicIdentity));
    } catch (failure) {
      status.textContent = '';
      submit.removeAttribute('disabled');
      error.textContent = describe(failure);
      email.input.focus();
    }
  });
  root.replaceChildren(
    h(
      'section',
      { class: 'screen narrow', 'aria-labelledby': 'assisted-title' },
      h('h1', { id: 'assisted-title' }, 'Lost your recovery key too?'),
      h(
        'p',
        { class: 'lead' },
        'Your therapist can give you your messages back. You make new keys here; at your next session you compare a number with your therapist, and they confirm it.',
      ),
      h(
        'ol',
        {},
        h('li', {}, 'Enter your email and choose a new password.'),
        h('li', {}, 'Write down the new recovery key you are shown.'),
        h('li', {}, 'Show your therapist the number on the next screen. Once they confirm, sign in with your new password: all your messages will be there.'),
      ),
      h(
        'p',
        {},
        'Until your therapist confirms, nothing changes: your old password still works, and the request lapses after a week. Every device you are signed in on will be signed out once it is confirmed.',
      ),
      form,
      h('p', {}, h('a', { href: '/recover' }, 'I have my recovery key'), ' · ', h('a', { href: '/' }, 'Back to sign-in')),
    ),
  );
  focusHeading(root);
  warmPasswordDerivation();
}

/**
 * The new identity's number, to compare with the therapist. Shown whatever the server
 * knows of the email: it is made from the keys this browser made.
 * @param {HTMLElement} root
 * @param {import('../../crypto/index.js').PublicIdentity} identity
 */
export function renderNumber(root, identity) {
  const { digits, qrPayload } = identityNumber(identity);
  const groups = digits.split(' ');
  const canvas = /** @type {HTMLCanvasElement} */ (
    h('canvas', { class: 'qr', role: 'img', 'aria-label': 'QR code of your new number' })
  );
  drawQr(canvas, qrModules(qrPayload), 6);
  root.replaceChildren(
    h(
      'section',
      { class: 'screen narrow', 'aria-labelledby': 'assisted-number-title' },
      h('h1', { id: 'assisted-number-title' }, 'Show this number to your therapist'),
      h(
        'p',
        { class: 'lead' },
        'At your next session, your therapist opens your request and compares this number with the one on their screen, group by group. If they match, they confirm, and your messages come back.',
      ),
      h(
        'div',
        { class: 'card safety' },
        h(
          'p',
          { class: 'safety-digits identity-digits', 'aria-label': `Your new number: ${groups.join(', ')}` },
          ...groups.map((group) => h('span', {}, group)),
        ),
        h('figure', { class: 'qr-figure' }, canvas, h('figcaption', {}, 'Or let your therapist look at this code.')),
      ),
      h(
        'p',
        {},
        'Keep this page open until then, or write the number down: it is not secret. If your therapist says the numbers differ, do not let them confirm; make a new request together.',
      ),
      h(
        'p',
        {},
        'Once your therapist has confirmed, sign in with your email and your new password. Until then your old password still works.',
      ),
      h('p', {}, h('a', { href: '/' }, 'Go to sign-in')),
    ),
  );
  focusHeading(root);
}

/**
 * What went wrong, to show (the server answers alike for every email).
 * @param {unknown} failure
 */
function describe(failure) {
  if (failure instanceof api.ApiError) {
    if (failure.code === 'rate_limited') return 'Too many requests for now. Wait a while, then try again.';
    if (failure.code === 'network') return 'The server could not be reached. Check your connection.';
    return `Your request could not be sent (${failure.code}). Try again.`;
  }
  return 'Your new keys could not be made. Try again.';
}
