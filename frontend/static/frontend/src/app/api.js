/**
 * The HTTP API (docs/protocol.md, "HTTP API"): JSON in and out, the CSRF token on every
 * POST, and every error turned into an ApiError carrying the documented `code`.
 *
 * @module
 */

/** An answer with an error body, or no answer at all (`code` "network"). */
export class ApiError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {number} status
   * @param {Record<string, unknown>} [data]
   */
  constructor(code, message, status, data = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.data = data;
  }
}

/** @type {string|null} */
let csrfToken = null;

async function refreshCsrf() {
  const answer = await request('GET', '/api/csrf');
  csrfToken = typeof answer.csrf_token === 'string' ? answer.csrf_token : null;
}

/**
 * @typedef {object} RequestOptions
 * @property {boolean} [keepalive]
 * @property {AbortSignal} [signal] aborting it rejects with the signal's reason (an
 *   AbortError), never with an ApiError
 */

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body] JSON, or raw bytes (a Uint8Array, sent as application/octet-stream)
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
async function request(method, path, body, options = {}) {
  const raw = body instanceof Uint8Array;
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = raw ? 'application/octet-stream' : 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRFToken'] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : raw ? /** @type {Uint8Array} */ (body) : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      keepalive: options.keepalive ?? false,
      signal: options.signal,
    });
  } catch {
    options.signal?.throwIfAborted();
    throw new ApiError('network', 'The server could not be reached.', 0);
  }
  return answerOf(response, options.signal);
}

/**
 * The JSON answer of a response, or its error as an ApiError.
 * @param {Response} response
 * @param {AbortSignal} [signal]
 * @returns {Promise<any>}
 */
export async function answerOf(response, signal) {
  const type = response.headers.get('Content-Type') ?? '';
  const answer = type.includes('application/json') ? await response.json().catch(() => null) : null;
  signal?.throwIfAborted();
  if (response.ok && answer !== null) return answer;
  const error = answer?.error;
  if (error && typeof error.code === 'string') {
    const { code, message, ...data } = error;
    throw new ApiError(code, String(message ?? code), response.status, data);
  }
  throw new ApiError('server_error', `The server answered ${response.status}.`, response.status);
}

/**
 * GET a path of the API.
 * @param {string} path
 * @param {RequestOptions} [options]
 */
export function get(path, options = {}) {
  return request('GET', path, undefined, options);
}

/**
 * POST a JSON body, with the CSRF token (fetched first if needed, and once more if the
 * server refused it: signing in rotates it).
 * @param {string} path
 * @param {unknown} [body]
 * @param {RequestOptions} [options]
 */
export async function post(path, body = {}, options = {}) {
  return withCsrf('POST', path, body, options);
}

/**
 * PUT a JSON body, with the CSRF token as for `post`.
 * @param {string} path
 * @param {unknown} body
 */
export async function put(path, body) {
  return withCsrf('PUT', path, body, {});
}

/**
 * PUT raw bytes (`application/octet-stream`: a part of an attachment's stream), with the
 * CSRF token as for `post`.
 * @param {string} path
 * @param {Uint8Array} bytes
 * @param {RequestOptions} [options]
 */
export async function putBytes(path, bytes, options = {}) {
  return withCsrf('PUT', path, bytes, options);
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} body
 * @param {RequestOptions} options
 */
async function withCsrf(method, path, body, options) {
  if (!csrfToken) await refreshCsrf();
  try {
    return await request(method, path, body, options);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'csrf_failed') throw error;
    await refreshCsrf();
    return request(method, path, body, options);
  }
}

/** Forget the CSRF token (it changes with every sign-in and sign-out). */
export function forgetCsrf() {
  csrfToken = null;
}

/**
 * After signing in or up, the session and the CSRF token are new.
 */
export async function afterAuthentication() {
  await refreshCsrf();
}
