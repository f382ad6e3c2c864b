/**
 * The practice's messaging agreement, shown to a client before the first message.
 *
 * Acceptance is recorded on the server (version and time, `POST /api/agreement`), so every
 * browser of the person knows it and the practice keeps the record. Nothing is stored in
 * the browser. Per-practice texts belong to a later change.
 *
 * @module
 */

export const AGREEMENT_VERSION = '2025-1';

/** Sections of the default agreement: [heading, paragraphs]. */
export const AGREEMENT = /** @type {[string, string[]][]} */ ([
  [
    'What messaging is for',
    [
      'Messaging is for short matters between sessions: scheduling, a question, an update on ' +
        'something you agreed to try. It does not replace your sessions.',
    ],
  ],
  [
    'Not for emergencies',
    [
      'Messages are not monitored around the clock. If you are in crisis, call or text 988 ' +
        '(Suicide & Crisis Lifeline). In an emergency, call 911 or go to the nearest emergency ' +
        'room. Do not wait for a reply here.',
    ],
  ],
  [
    'When to expect a reply',
    [
      'Your therapist usually replies within two business days, during office hours. ' +
        'Messages sent in the evening, at weekends or on holidays are read on the next ' +
        'business day.',
    ],
  ],
  [
    'Confidentiality and its limits',
    [
      'Messages are end-to-end encrypted: only you and your therapist can read them, not the ' +
        'practice staff or the server that carries them.',
      'As in your sessions, your therapist must act on what you share, and may have to tell ' +
        'others, when there is an imminent risk of serious harm to you or to someone else, ' +
        'and when the law requires it (for example suspected abuse of a child, an elder or a ' +
        'dependent adult, or a court order). In California this includes the duty to protect ' +
        '(Civil Code 43.92) and the Confidentiality of Medical Information Act (Civil Code 56).',
      'Your therapist may keep messages as part of your clinical record.',
    ],
  ],
  [
    'Your device',
    [
      'Anyone who can use your unlocked device may read your messages. Sign out on a shared ' +
        'device. The Quick exit button leaves this page at once.',
    ],
  ],
]);

/**
 * Whether the signed-in person has accepted the current version, as the server recorded
 * it (`agreement` in the answer to sign-in and `/api/me`).
 * @param {{agreement?: {version: string, accepted_at: string}|null}} me
 */
export function hasAccepted(me) {
  return me?.agreement?.version === AGREEMENT_VERSION;
}

/**
 * Record the acceptance of the current version on the server (`POST /api/agreement`);
 * resolves to the record, which `me.agreement` takes. Throws ApiError when it fails:
 * the person is then asked again, nothing is recorded in the browser instead.
 * @param {(path: string, body: object) => Promise<any>} post the API's `post`
 * @param {any} me
 */
export async function recordAcceptance(post, me) {
  const answer = await post('/api/agreement', { version: AGREEMENT_VERSION });
  if (answer?.agreement?.version !== AGREEMENT_VERSION) {
    throw new Error('The server did not record this version of the agreement');
  }
  me.agreement = answer.agreement;
  return answer.agreement;
}
