/**
 * The practice's messaging agreement, shown to a client before the first message.
 *
 * The server keeps the text and its version, per practice (`GET /api/agreement`), and
 * records the acceptance of the version shown (`POST /api/agreement`), so every browser of
 * the person shows the same text and the practice keeps the record. Nothing is stored in
 * the browser. When the practice publishes a new version, the server refuses the client's
 * next message with `agreement_required`, and the page shows the agreement again.
 *
 * @module
 */

/**
 * @typedef {object} AgreementText
 * @property {string} version
 * @property {string} published_at
 * @property {{heading: string, paragraphs: string[]}[]} sections
 */

/**
 * @typedef {object} CurrentAgreement the answer of `GET /api/agreement`
 * @property {AgreementText} agreement the practice's current version
 * @property {{version: string, accepted_at: string}|null} accepted this person's acceptance of it
 */

/**
 * The practice's current agreement, and whether this person accepted it.
 * @param {(path: string) => Promise<any>} get the API's `get`
 * @returns {Promise<CurrentAgreement>}
 */
export async function fetchAgreement(get) {
  const answer = await get('/api/agreement');
  const text = answer?.agreement;
  if (typeof text?.version !== 'string' || !Array.isArray(text.sections)) {
    throw new Error('The server sent no messaging agreement');
  }
  return { agreement: text, accepted: answer.accepted ?? null };
}

/**
 * Whether the person accepted the version the server called current.
 * @param {CurrentAgreement|null} current
 */
export function hasAccepted(current) {
  return Boolean(current?.accepted) && current?.accepted?.version === current?.agreement.version;
}

/**
 * Record the acceptance of the version shown (`POST /api/agreement`); resolves to the
 * record, which `current.accepted` and `me.agreement` take. Throws ApiError when it fails
 * (`agreement_required`: a newer version was published since it was fetched): the person
 * is then asked again, nothing is recorded in the browser instead.
 * @param {(path: string, body: object) => Promise<any>} post the API's `post`
 * @param {CurrentAgreement} current
 * @param {any} me
 */
export async function recordAcceptance(post, current, me) {
  const { version } = current.agreement;
  const answer = await post('/api/agreement', { version });
  if (answer?.agreement?.version !== version) {
    throw new Error('The server did not record this version of the agreement');
  }
  current.accepted = answer.agreement;
  me.agreement = answer.agreement;
  return answer.agreement;
}
