/**
 * A client accepts an invitation: who invited them, their details and password, keys made
 * in this browser, the recovery key shown once and confirmed.
 *
 * @module
 */

import * as api from '../api.js';
import { h, focusHeading } from '../dom.js';
import { checkInvitationTherapist, makeSignUp, parseInvitation, warmPasswordDerivation } from '../keys.js';
import { field, newPasswordFields, renderUnusableLink } from './fields.js';
import { renderRecovery } from './recovery-key.js';

/**
 * The link's fragment is the server's token and the therapist's fingerprint (crypto/SPEC.md,
 * "Invitation links"): a fragment without it is refused before any request, and a therapist
 * key the server serves that does not match it is refused before anything is made.
 * @param {HTMLElement} root
 * @param {{fragment: string, onDone: (me: any, keys: import('../keys.js').Keys, conversation: string) => void}} options
 */
export async function renderInvite(root, { fragment, onDone }) {
  root.replaceChildren(
    h('section', { class: 'screen narrow' }, h('h1', {}, 'Your invitation'), h('p', { role: 'status' }, 'Checking your invitation…')),
  );
  let link;
  try {
    link = parseInvitation(fragment);
  } catch {
    renderUnusableLink(root, { id: 'invite-title', title: 'This invitation cannot be used', invalid: true, ask: 'your therapist' });
    return;
  }
  let details;
  try {
    details = await api.post('/api/invitations/lookup', { token: link.token });
  } catch (problem) {
    const invalid = problem instanceof api.ApiError && problem.code !== 'network';
    renderUnusableLink(root, { id: 'invite-title', title: 'This invitation cannot be used', invalid, ask: 'your therapist' });
    return;
  }
  try {
    checkInvitationTherapist(link.fingerprint, details.therapist.public_identity);
  } catch {
    renderKeyMismatch(root, details.therapist.display_name);
    return;
  }
  renderDetailsForm(root, link.token, details, onDone);
}

/**
 * The therapist key the server gave is not the one the link names: nothing is made, and
 * the person is told to reach their therapist another way.
 * @param {HTMLElement} root
 * @param {string} therapist the name the server gave (shown as the server's word only)
 */
function renderKeyMismatch(root, therapist) {
  root.replaceChildren(
    h(
      'section',
      { class: 'screen narrow', 'aria-labelledby': 'invite-title' },
      h('h1', { id: 'invite-title' }, 'Do not use this invitation'),
      h(
        'p',
        { class: 'lead', role: 'alert' },
        `The security key this portal gave for your therapist (named here as ${therapist}) is not the one in your invitation link. ` +
          'Someone may be trying to read your messages, so no account was made and nothing was sent.',
      ),
      h(
        'p',
        {},
        'Tell your therapist by phone or at your next session, and do not sign up through this link.',
      ),
      h('p', {}, h('a', { href: '/' }, 'Go to sign-in')),
    ),
  );
  focusHeading(root);
}

/**
 * @param {HTMLElement} root
 * @param {string} token
 * @param {any} details
 * @param {(me: any, keys: import('../keys.js').Keys, conversation: string) => void} onDone
 */
function renderDetailsForm(root, token, details, onDone) {
  const therapist = details.therapist.display_name;
  const name = field('invite-name', 'Your name', { type: 'text', autocomplete: 'name', value: details.client_name, maxlength: 150 }, `How ${therapist} will see you.`);
  const email = field('invite-email', 'Email', { type: 'email', autocomplete: 'email' }, 'You sign in with it. Notifications never include message content.');
  const secret = newPasswordFields('invite', {
    label: 'Choose a password',
    confirmLabel: 'Type the password again',
    userInputs: () => [name.input.value, email.input.value, therapist, details.practice],
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const status = h('p', { class: 'form-status', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create my account');
  const form = h('form', { class: 'card form', novalidate: true }, name.node, email.node, ...secret.nodes, error, status, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const values = {
      displayName: name.input.value.trim(),
      email: email.input.value.trim(),
      password: secret.value(),
    };
    const problem = !values.displayName
      ? [name.input, 'Enter your name.']
      : !/^[^@\s]+@[^@\s]+$/.test(values.email)
        ? [email.input, 'Enter a valid email address.']
        : secret.problem();
    if (problem) {
      error.textContent = /** @type {string} */ (problem[1]);
      /** @type {HTMLElement} */ (problem[0]).focus();
      return;
    }
    submit.setAttribute('disabled', '');
    status.textContent = 'Making your keys on this device…';
    let made = null;
    try {
      made = await makeSignUp({
        token,
        email: values.email,
        displayName: values.displayName,
        password: values.password,
        therapistIdentity: details.therapist.public_identity,
        conversation: details.conversation,
      });
      const answer = await api.post('/api/invitations/accept', made.body);
      await api.afterAuthentication();
      secret.clear();
      history.replaceState(null, '', '/');
      renderRecovery(root, made.recoveryDisplay, () => onDone(answer.user, made.keys, answer.conversation));
    } catch (failure) {
      made?.keys.wipe();
      status.textContent = '';
      submit.removeAttribute('disabled');
      if (failure instanceof api.ApiError && failure.code === 'email_taken') {
        error.textContent = 'An account with this email already exists. Sign in instead, or use another email.';
        email.input.focus();
      } else if (failure instanceof api.ApiError && failure.code === 'invitation_invalid') {
        error.textContent = 'This invitation was used or has expired. Ask your therapist for a new one.';
      } else {
        error.textContent = 'Your account could not be created. Try again.';
      }
    }
  });
  root.replaceChildren(
    h(
      'section',
      { class: 'screen narrow', 'aria-labelledby': 'invite-title' },
      h('h1', { id: 'invite-title' }, `${therapist} invited you`),
      h('p', { class: 'lead' }, `${therapist} at ${details.practice} invited you to message them securely between sessions. Only the two of you can read what you write.`),
      form,
    ),
  );
  focusHeading(root);
  warmPasswordDerivation();
}
