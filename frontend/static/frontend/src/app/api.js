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
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{keepalive?: boolean}} [options]
 * @returns {Promise<any>}
 */
async function request(method, path, body, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRFToken'] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      keepalive: options.keepalive ?? false,
    });
  } catch {
    throw new ApiError('network', 'The server could not be reached.', 0);
  }
  const type = response.headers.get('Content-Type') ?? '';
  const answer = type.includes('application/json') ? await response.json().catch(() => null) : null;
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
 */
export function get(path) {
  return request('GET', path);
}

/**
 * POST a JSON body, with the CSRF token (fetched first if needed, and once more if the
 * server refused it: signing in rotates it).
 * @param {string} path
 * @param {unknown} [body]
 * @param {{keepalive?: boolean}} [options]
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
 * @param {string} method
 * @param {string} path
 * @param {unknown} body
 * @param {{keepalive?: boolean}} options
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
