/**
 * A new therapist or admin opens their one-time setup link (`/setup#<token>`): what the
 * link makes (practice, role, email), their name and password, keys made in this browser,
 * the recovery key shown once and confirmed. The email is the one the admin named.
 *
 * @module
 */

import * as api from '../api.js';
import { h, focusHeading } from '../dom.js';
import { makeStaffSignUp, warmPasswordDerivation } from '../keys.js';
import { field, newPasswordFields, renderUnusableLink } from './fields.js';
import { renderRecovery } from './recovery-key.js';

const ROLE = /** @type {Record<string, string>} */ ({ therapist: 'therapist', admin: 'practice admin' });

/**
 * @param {HTMLElement} root
 * @param {{token: string, onDone: (me: any, keys: import('../keys.js').Keys) => void}} options
 */
export async function renderSetup(root, { token, onDone }) {
  root.replaceChildren(
    h('section', { class: 'screen narrow' }, h('h1', {}, 'Set up your account'), h('p', { role: 'status' }, 'Checking your link…')),
  );
  let details;
  try {
    if (!token) throw new api.ApiError('setup_link_invalid', 'No token', 410);
    details = await api.post('/api/setup/lookup', { token });
  } catch (problem) {
    const invalid = problem instanceof api.ApiError && problem.code !== 'network';
    renderUnusableLink(root, { id: 'setup-title', title: 'This link cannot be used', invalid, ask: 'your practice’s admin' });
    return;
  }
  renderForm(root, token, details, onDone);
}

/**
 * @param {HTMLElement} root
 * @param {string} token
 * @param {any} details
 * @param {(me: any, keys: import('../keys.js').Keys) => void} onDone
 */
function renderForm(root, token, details, onDone) {
  const email = h('p', { class: 'setup-email' }, h('span', { class: 'hint' }, 'You will sign in as '), h('strong', {}, details.email));
  const name = field('setup-name', 'Your name', { type: 'text', autocomplete: 'name', value: details.display_name, maxlength: 150 }, 'How clients and colleagues will see you.');
  const password = newPasswordFields('setup', {
    label: 'Choose a password',
    confirmLabel: 'Type the password again',
    userInputs: () => [name.input.value, details.email, details.practice],
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const status = h('p', { class: 'form-status', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create my account');
  const form = h('form', { class: 'card form', novalidate: true }, email, name.node, ...password.nodes, error, status, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const displayName = name.input.value.trim();
    const secret = password.value();
    const problem = !displayName ? [name.input, 'Enter your name.'] : password.problem();
    if (problem) {
      error.textContent = /** @type {string} */ (problem[1]);
      /** @type {HTMLElement} */ (problem[0]).focus();
      return;
    }
    submit.setAttribute('disabled', '');
    status.textContent = 'Making your keys on this device…';
    let made = null;
    try {
      made = await makeStaffSignUp({ token, displayName, password: secret });
      const answer = await api.post('/api/setup/accept', made.body);
      await api.afterAuthentication();
      password.clear();
      history.replaceState(null, '', '/');
      const keys = made.keys;
      renderRecovery(root, made.recoveryDisplay, () => onDone(answer.user, keys));
    } catch (failure) {
      made?.keys.wipe();
      status.textContent = '';
      submit.removeAttribute('disabled');
      error.textContent = describe(failure);
    }
  });
  root.replaceChildren(
    h(
      'section',
      { class: 'screen narrow', 'aria-labelledby': 'setup-title' },
      h('h1', { id: 'setup-title' }, `Join ${details.practice}`),
      h(
        'p',
        { class: 'lead' },
        `You are invited to join ${details.practice} as ${ROLE[details.role] ?? details.role}. ` +
          'Your keys are made on this device; nobody else, the practice’s admins included, ever holds them.',
      ),
      form,
    ),
  );
  focusHeading(root);
  warmPasswordDerivation();
}

/** @param {unknown} failure */
function describe(failure) {
  if (failure instanceof api.ApiError) {
    if (failure.code === 'email_taken') return 'An account with this email already exists. Sign in instead, or ask your admin for a link for another email.';
    if (failure.code === 'setup_link_invalid') return 'This link was used, revoked or has expired. Ask your practice’s admin for a new one.';
    if (failure.code === 'network') return 'The server could not be reached. Check your connection and try again.';
  }
  return 'Your account could not be created. Try again.';
}
