/**
 * The safety number of a conversation: 60 digits in 12 groups and a QR code of the
 * 65-byte payload (crypto/SPEC.md, "Safety numbers"), to compare in person.
 *
 * @module
 */

import { h, focusHeading } from '../dom.js';
import { safetyNumber } from '../keys.js';
import { drawQr, qrModules } from '../qr.js';

/**
 * @param {HTMLElement} root
 * @param {{messenger: import('../messenger.js').Messenger, conversationId: string}} ctx
 * @returns {() => void}
 */
export function renderSafety(root, { messenger, conversationId }) {
  const conversation = messenger.conversations.get(conversationId);
  const peer = conversation && messenger.peer(conversation);
  if (!conversation || !peer) {
    root.replaceChildren(h('section', { class: 'screen' }, h('h1', {}, 'Conversation not found'), h('p', {}, h('a', { href: '#/' }, 'Back'))));
    focusHeading(root);
    return () => {};
  }
  const { digits, qrPayload } = safetyNumber(messenger.keys.publicIdentity, peer.identity);
  const groups = digits.split(' ');
  const hex = [...qrPayload].map((b) => b.toString(16).padStart(2, '0')).join('');
  const canvas = /** @type {HTMLCanvasElement} */ (h('canvas', { class: 'qr', role: 'img', 'aria-label': 'QR code of the safety number' }));
  drawQr(canvas, qrModules(qrPayload), 6);
  const changed = conversation.identityChanged;
  const verified = messenger.isVerified(conversation);
  const status = h('p', { class: 'notice verified-status', role: 'status' });
  const showStatus = (/** @type {boolean} */ on) => {
    status.textContent = on
      ? `You verified ${peer.displayName}'s key: this number matched when you compared it. If it ever changes, this browser and your others will stop and ask before you write again.`
      : `Not verified yet. When the numbers match on both screens, mark them as compared: any browser you sign in to will then stop and ask before you write if ${peer.displayName}'s key changes.`;
  };
  showStatus(verified);
  const verifyButton = h('button', {
    type: 'button',
    class: 'primary',
    hidden: verified,
    onclick: () => {
      if (!messenger.verifyIdentity(conversationId, peer.identityB64)) {
        status.textContent = `${peer.displayName}'s key changed while this number was shown. Open the safety number again and compare the new one.`;
        return;
      }
      showStatus(true);
      verifyButton.hidden = true;
      if (changed) location.hash = `#/c/${conversationId}`;
    },
  }, changed ? 'We compared the new number and it matches' : 'We compared the numbers and they match');
  root.replaceChildren(
    h('section', { class: 'screen narrow', 'aria-labelledby': 'safety-title' },
      h('p', { class: 'back' }, h('a', { href: `#/c/${conversationId}` }, `← Back to ${peer.displayName}`)),
      h('h1', { id: 'safety-title' }, `Safety number with ${peer.displayName}`),
      h('p', { class: 'lead' }, `Compare these numbers with ${peer.displayName} in person, for example at your next session. If they match on both screens, nobody can be reading along. If they differ, tell each other and do not share anything sensitive until it is resolved.`),
      changed ? h('p', { class: 'banner' }, `${peer.displayName}'s keys changed since you last saw them. Compare the new number.`) : null,
      h('div', { class: 'card safety' },
        h('p', { class: 'safety-digits', 'aria-label': `Safety number: ${groups.join(', ')}` }, ...groups.map((group) => h('span', {}, group))),
        h('figure', { class: 'qr-figure' }, canvas, h('figcaption', {}, 'Or scan each other\'s code.')),
        h('details', {}, h('summary', {}, 'Show the code as text'), h('code', { class: 'qr-hex' }, hex))),
      status,
      verifyButton,
    ),
  );
  focusHeading(root);
  return () => {};
}
