/**
 * Assisted recovery, the therapist's side, without the page (views/recoveries.js shows
 * it): the pending requests of this therapist's clients, and the confirmation that gives
 * a client their history back (crypto/SPEC.md, "Assisted recovery"; docs/protocol.md).
 *
 * Confirming wraps every epoch key this browser holds of the therapist's conversations with
 * the client to the request's new identity, signed by the therapist, and sends them: in
 * batches of at most `MAX_RECOVERY_ENVELOPES` for a long history, the last with the
 * confirmation, so the server changes the account only once it holds all of them. The
 * confirmation carries the identity succession the therapist signs: the client's identity
 * as this browser knows it is replaced by the new one. The client's peers take the old
 * identity (their earlier messages are signed with it) only from that succession.
 *
 * @module
 */

import * as api from './api.js';
import { parseIdentity } from './keys.js';
import { LIMITS } from './protocol.js';

/**
 * @typedef {object} PendingRecovery
 * @property {number} id
 * @property {{id: number, display_name: string, public_identity: string}} client
 * @property {string} new_identity base64url public identity the client's new browser made
 * @property {string} requested_at
 * @property {string} expires_at
 * @property {{conversation: string, epochs: number[]}[]} conversations
 */

/**
 * The pending requests of this therapist's clients, oldest first.
 * @param {{get: (path: string) => Promise<any>}} [http] the API (a stand-in in tests)
 * @returns {Promise<PendingRecovery[]>}
 */
export async function pendingRecoveries(http = api) {
  const answer = await http.get('/api/recoveries');
  return Array.isArray(answer?.recoveries) ? answer.recoveries : [];
}

/**
 * The request's new identity, verified (its self-signature and key shape): what the
 * therapist compares, by its number, with the one on the client's screen. Throws a
 * CryptoError for one that is not a valid identity.
 * @param {PendingRecovery} item
 */
export function newIdentityOf(item) {
  return parseIdentity(item.new_identity);
}

/**
 * Every epoch key the request covers, wrapped to its new identity by this therapist, in
 * batches for the server. Throws MissingKeyError for an epoch this browser does not hold
 * (nothing is sent then).
 * @param {PendingRecovery} item
 * @param {import('./keys.js').Keys} keys
 * @returns {string[][]}
 */
export function envelopeBatches(item, keys) {
  const identity = newIdentityOf(item);
  const envelopes = item.conversations.flatMap(({ conversation, epochs }) =>
    keys.wrapHistory(conversation, epochs, identity),
  );
  const size = LIMITS.MAX_RECOVERY_ENVELOPES;
  const batches = [];
  for (let start = 0; start < envelopes.length; start += size) {
    batches.push(envelopes.slice(start, start + size));
  }
  return batches.length ? batches : [[]];
}

/**
 * The server holds other keys for the client than the ones this browser knows (and
 * pinned): a succession from them would vouch for keys nobody compared.
 */
export class UnknownIdentityError extends Error {
  constructor() {
    super("The client's current keys are not the ones this browser knows");
    this.name = 'UnknownIdentityError';
  }
}

/**
 * The succession this therapist signs for the request: the client's identity, which must
 * be the one this browser knows for them (`seen`), replaced by the new one. Throws
 * UnknownIdentityError when it is not, and a CryptoError for an identity that is not one.
 * @param {PendingRecovery} item
 * @param {{keys: import('./keys.js').Keys, me: {id: number},
 *          seen: import('./seen.js').SeenIdentities}} therapist
 */
export function successionFor(item, { keys, me, seen }) {
  const next = newIdentityOf(item);
  const previous = parseIdentity(item.client.public_identity);
  if (seen.check(item.client.id, item.client.public_identity).changed) throw new UnknownIdentityError();
  return keys.signSuccession({ userId: item.client.id, confirmerId: me.id, previous, next });
}

/**
 * Confirm the request: every batch but the last is kept by the server with the request,
 * the last one confirms, with the succession this therapist signs. Returns the server's
 * answer (`{recovery, state, client, conversations}`). Throws, before any request,
 * MissingKeyError when this browser lacks an epoch's key and UnknownIdentityError when the
 * client's current keys are not the ones it knows; ApiError for what the server refused
 * (`recovery_invalid`: no longer pending; `bad_envelopes`; ...), and an ApiError
 * `server_error` when the server answers with an identity other than the one compared.
 * The sign-in's listing carried only each conversation's current envelope
 * (conversations.js, `LISTING`): a conversation with an epoch whose key this browser has
 * not opened is listed again first, with all of its envelopes.
 * @param {PendingRecovery} item
 * @param {{keys: import('./keys.js').Keys, me: {id: number},
 *          seen: import('./seen.js').SeenIdentities,
 *          refreshConversation?: (id: string) => Promise<unknown>}} therapist this person
 *   (a Messenger)
 * @param {{post: (path: string, body?: unknown) => Promise<any>}} [http]
 */
export async function confirmRecovery(item, therapist, http = api) {
  for (const { conversation, epochs } of item.conversations) {
    if (therapist.refreshConversation && epochs.some((epoch) => !therapist.keys.hasKey(conversation, epoch))) {
      await therapist.refreshConversation(conversation);
    }
  }
  const batches = envelopeBatches(item, therapist.keys);
  const succession = successionFor(item, therapist);
  const base = `/api/recoveries/${encodeURIComponent(String(item.id))}`;
  for (const batch of batches.slice(0, -1)) {
    await http.post(`${base}/envelopes`, { envelopes: batch });
  }
  const answer = await http.post(`${base}/confirm`, { envelopes: batches[batches.length - 1], succession });
  if (answer?.client?.public_identity !== item.new_identity) {
    throw new api.ApiError(
      'server_error',
      'The server answered with another identity than the one compared.',
      200,
    );
  }
  return answer;
}

/**
 * Decline the request: the client's account stays as it was.
 * @param {PendingRecovery} item
 * @param {{post: (path: string, body?: unknown) => Promise<any>}} [http]
 */
export function declineRecovery(item, http = api) {
  return http.post(`/api/recoveries/${encodeURIComponent(String(item.id))}/decline`);
}
