/**
 * The "Export" action of a conversation (crypto/SPEC.md, "Exports"): the whole history,
 * opened in this browser as the conversation shows it, written as one printable HTML file
 * with a list of every message signed by this person's key, and downloaded. The server is
 * told only that an export of so many messages was made (its audit log); it never sees the
 * file. A read-only (discharged) conversation exports as any other.
 *
 * The file is handed to the browser as a Blob through an object URL: nothing is run inline
 * (the page's Content-Security-Policy forbids it), and the file itself holds no script.
 *
 * @module
 */

import { ApiError, post } from '../api.js';
import { exportedText, filesOf } from '../attachments.js';
import { h } from '../dom.js';

/** 9999-12-31T23:59:59.999Z: the last time an export writes as a date (crypto/export.js). */
const MAX_EXPORT_TIME = 253_402_300_799_999;

/**
 * @param {{messenger: import('../messenger.js').Messenger, me: any, conversationId: string,
 *          announce: (text: string) => void}} ctx
 * @returns {{element: HTMLElement, status: HTMLElement}}
 */
export function exportAction({ messenger, me, conversationId, announce }) {
  const status = h('p', { class: 'export-status', role: 'status', hidden: true });
  const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'secondary export' }, 'Export'));
  const say = (/** @type {string} */ text) => {
    status.hidden = false;
    status.textContent = text;
    announce(text);
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    say('Preparing the export: loading every message…');
    try {
      const { bytes, count, peer } = await buildExport(messenger, me, conversationId);
      await post(`/api/conversations/${conversationId}/exports`, { messages: count });
      download(bytes, fileName(peer));
      say(
        `Exported ${count === 1 ? '1 message' : `${count} messages`}. The file holds the conversation in plain text: keep it where only you can read it.`,
      );
    } catch (error) {
      say(exportFailure(error));
    } finally {
      button.disabled = false;
    }
  });
  return { element: button, status };
}

/** @param {unknown} error */
function exportFailure(error) {
  if (error instanceof ApiError && error.code === 'conversation_closed') return `Not exported: ${error.message}`;
  if (error instanceof ApiError && error.code === 'not_found') return 'Not exported: this conversation is no longer available.';
  if (error instanceof ExportError) return `Not exported: ${error.message}`;
  return 'Not exported: something went wrong. Try again.';
}

class ExportError extends Error {}

/**
 * Every message of the conversation, loaded and opened, as an export file.
 * @param {import('../messenger.js').Messenger} messenger
 * @param {any} me
 * @param {string} conversationId
 */
export async function buildExport(messenger, me, conversationId) {
  const conversation = messenger.conversations.get(conversationId);
  if (!conversation) throw new ExportError('this conversation is no longer available.');
  if (!conversation.timeline) await messenger.open(conversationId);
  const timeline = conversation.timeline;
  if (!timeline) throw new ExportError('the messages could not be loaded.');
  while (!timeline.complete) {
    const held = timeline.size;
    await messenger.loadOlder(conversationId);
    if (!timeline.complete && timeline.size === held) {
      throw new ExportError('the earlier messages could not be loaded. Check the connection and try again.');
    }
  }
  /** @type {Record<string, import('../conversations.js').Member>} */
  const byRole = {};
  for (const member of conversation.members.values()) byRole[member.role] = member;
  if (!byRole.client || !byRole.therapist) throw new ExportError('this conversation has no client and therapist.');
  const messages = [];
  for (const message of timeline.sorted()) {
    // A message a restore took off the server is not in the conversation any more.
    if (message.lost) continue;
    const sender = conversation.members.get(message.sender);
    if (!sender) throw new ExportError('a message is from someone not in the conversation.');
    // A message sealed in this tab is held from its ack, signed with this person's key.
    const signer = message.signer ?? (message.sender === me.id ? messenger.keys.signKeyB64 : null);
    const opened = message.text !== null && typeof signer === 'string';
    const written = opened && message.order && message.order.sentAt <= MAX_EXPORT_TIME ? message.order.sentAt : null;
    messages.push({
      seq: message.seq,
      sender: sender.role,
      time: written ?? Date.parse(message.sentAt),
      signer: opened ? /** @type {string} */ (signer) : null,
      // A message presenting files exports its text and a line for each file: the export
      // holds text only (crypto/SPEC.md, "Exports"), never the files.
      text: opened ? exportedText(/** @type {string} */ (message.text), filesOf(message.attachments)) : null,
    });
  }
  const bytes = messenger.keys.makeExport(conversationId, {
    client: { name: byRole.client.displayName, identity: byRole.client.identity },
    therapist: { name: byRole.therapist.displayName, identity: byRole.therapist.identity },
    messages,
    exportedAt: Date.now(),
  });
  const peer = me.role === 'client' ? byRole.therapist.displayName : byRole.client.displayName;
  return { bytes, count: messages.length, peer };
}

/** "messages-with-Clara-2026-12-05.html": the other person's name and today's date. */
function fileName(/** @type {string} */ peer) {
  const name = peer.normalize('NFKD').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'conversation';
  return `messages-with-${name}-${new Date().toISOString().slice(0, 10)}.html`;
}

/**
 * Hand the file to the browser's downloads.
 * @param {Uint8Array} bytes
 * @param {string} name
 */
function download(bytes, name) {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'text/html;charset=utf-8' }));
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Long enough for the download to start; the plaintext leaves the page's memory after.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
