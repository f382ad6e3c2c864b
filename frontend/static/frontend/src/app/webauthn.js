/**
 * Passkeys (WebAuthn) through the browser's own API: the server's options, which travel as
 * JSON (binary fields in base64url), turned into what `navigator.credentials` takes, and
 * the credential it gives turned back into JSON (`PublicKeyCredential.toJSON()`, written
 * out here for browsers that lack it).
 *
 * @module
 */

/** @param {string} text base64url, without padding */
export function fromB64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** @param {ArrayBuffer|ArrayBufferView} data */
export function toB64url(data) {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @param {any[]|undefined} list */
function descriptors(list) {
  return (list ?? []).map((item) => ({ ...item, id: fromB64url(item.id) }));
}

/**
 * `navigator.credentials.create`'s `publicKey`, from the server's JSON options.
 * @param {any} json
 */
export function creationOptions(json) {
  return {
    ...json,
    challenge: fromB64url(json.challenge),
    user: { ...json.user, id: fromB64url(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

/**
 * `navigator.credentials.get`'s `publicKey`, from the server's JSON options.
 * @param {any} json
 */
export function requestOptions(json) {
  return {
    ...json,
    challenge: fromB64url(json.challenge),
    allowCredentials: descriptors(json.allowCredentials),
  };
}

/**
 * A credential from `create` or `get` as JSON, as the server reads it.
 * @param {any} credential a PublicKeyCredential
 */
export function credentialJSON(credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON();
  const response = credential.response;
  /** @type {Record<string, any>} */
  const body = { clientDataJSON: toB64url(response.clientDataJSON) };
  if (response.attestationObject) {
    body.attestationObject = toB64url(response.attestationObject);
    body.transports = typeof response.getTransports === 'function' ? response.getTransports() : [];
  } else {
    body.authenticatorData = toB64url(response.authenticatorData);
    body.signature = toB64url(response.signature);
    body.userHandle = response.userHandle ? toB64url(response.userHandle) : null;
  }
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response: body,
    clientExtensionResults: credential.getClientExtensionResults?.() ?? {},
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
  };
}

/** Whether this browser can use passkeys at all. */
export function passkeysAvailable() {
  return typeof globalThis.PublicKeyCredential === 'function' && Boolean(globalThis.navigator?.credentials);
}

/**
 * Ask the browser for a passkey's answer to the server's challenge.
 * @param {any} options the server's JSON options
 */
export async function getAssertion(options) {
  const credential = await navigator.credentials.get({ publicKey: /** @type {any} */ (requestOptions(options)) });
  if (!credential) throw new Error('No passkey was chosen');
  return credentialJSON(credential);
}

/**
 * Ask the browser to make a new passkey for the server's options.
 * @param {any} options the server's JSON options
 */
export async function createCredential(options) {
  const credential = await navigator.credentials.create({ publicKey: /** @type {any} */ (creationOptions(options)) });
  if (!credential) throw new Error('No passkey was made');
  return credentialJSON(credential);
}
