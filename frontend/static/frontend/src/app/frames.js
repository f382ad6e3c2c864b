/**
 * Every frame this browser sends (docs/protocol.md, "Client → server frames"), each built
 * by one function here, so that the browser's side of the wire has one definition too:
 * tests/js checks every builder's output against protocol/schema.json.
 *
 * The socket adds `ref` to the frames that wait for a reply. Optional fields are left out
 * rather than sent as null, as the server's own frames do.
 *
 * @module
 */

/**
 * Store a sealed message; answered by `ack` after the commit.
 * @param {{conversation: string, clientMessageId: string, epoch: number, ciphertext: string}} message
 */
export function sendFrame({ conversation, clientMessageId, epoch, ciphertext }) {
  return { type: 'send', conversation, client_message_id: clientMessageId, epoch, ciphertext };
}

/**
 * The messages after each given sequence number, one page per conversation.
 * @param {Record<string, number>} after conversation id → the last `seq` held
 */
export function syncFrame(after) {
  return { type: 'sync', after: { ...after } };
}

/**
 * A page of messages before `before`, or the newest page when it is not given.
 * @param {string} conversation
 * @param {{before?: number, limit?: number}} [page]
 */
export function historyFrame(conversation, { before, limit } = {}) {
  /** @type {{type: 'history', conversation: string, before?: number, limit?: number}} */
  const frame = { type: 'history', conversation };
  if (before !== undefined) frame.before = before;
  if (limit !== undefined) frame.limit = limit;
  return frame;
}

/**
 * The person has read up to `seq`.
 * @param {string} conversation
 * @param {number} seq
 */
export function readFrame(conversation, seq) {
  return { type: 'read', conversation, seq };
}

/**
 * The person is typing (nothing is stored, nothing answers).
 * @param {string} conversation
 */
export function typingFrame(conversation) {
  return { type: 'typing', conversation };
}

/**
 * Begin epoch `epoch` with one envelope per member.
 * @param {string} conversation
 * @param {number} epoch
 * @param {{recipient: number, envelope: string}[]} envelopes
 */
export function rekeyFrame(conversation, epoch, envelopes) {
  return {
    type: 'rekey',
    conversation,
    epoch,
    envelopes: envelopes.map(({ recipient, envelope }) => ({ recipient, envelope })),
  };
}

/** Is the connection still alive? Answered by `pong`. */
export function pingFrame() {
  return { type: 'ping' };
}
