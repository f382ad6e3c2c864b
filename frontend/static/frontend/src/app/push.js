/**
 * The installable app's side in the page: the service worker (`/service-worker.js`), and
 * this browser's Web Push subscription (docs/web-client.md, "Push notifications").
 *
 * A browser subscribes only once its person turns push on in Settings, and the server
 * ties the subscription to the session: every way out of the session removes it (the page
 * unsubscribes; the server drops it with the session, whatever the page managed).
 *
 * @module
 */

const WORKER = '/service-worker.js';

/** Whether this browser can receive Web Push at all. */
export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in globalThis && 'Notification' in globalThis;
}

/**
 * Register the service worker (once per page load; the browser keeps it up to date).
 * @returns {Promise<ServiceWorkerRegistration|null>}
 */
export async function registerWorker() {
  if (!('serviceWorker' in navigator)) return null;
  try {
    return await navigator.serviceWorker.register(WORKER, { scope: '/' });
  } catch {
    return null; // a browser that refuses it still has the page, without notifications
  }
}

/** @returns {Promise<ServiceWorkerRegistration|null>} */
async function registration() {
  if (!('serviceWorker' in navigator)) return null;
  return (await navigator.serviceWorker.getRegistration('/')) ?? null;
}

/** @returns {Promise<PushSubscription|null>} */
export async function currentSubscription() {
  const worker = await registration();
  return worker ? worker.pushManager.getSubscription() : null;
}

/**
 * Base64url (unpadded) to bytes, for `applicationServerKey`.
 * @param {string} text
 */
export function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error('not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * Ask for permission, subscribe with the server's key, and register the subscription.
 * Throws an Error whose message can be shown when any step fails.
 * @param {{get: (path: string) => Promise<any>, post: (path: string, body?: unknown) => Promise<any>}} api
 */
export async function enablePush(api) {
  if (!pushSupported()) throw new Error('This browser cannot show push notifications.');
  const settings = await api.get('/api/me/push');
  if (!settings.public_key) throw new Error('This server sends no push notifications.');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('Notifications are blocked for this site in the browser’s settings.');
  const worker = (await registration()) ?? (await registerWorker());
  if (!worker) throw new Error('This browser cannot show push notifications.');
  await navigator.serviceWorker.ready;
  let subscription = await worker.pushManager.getSubscription();
  if (subscription) await subscription.unsubscribe(); // made for another server key, perhaps
  subscription = await worker.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: fromBase64Url(settings.public_key),
  });
  const { endpoint, keys } = subscription.toJSON();
  await api.post('/api/me/push/subscribe', { endpoint, keys: { p256dh: keys?.p256dh, auth: keys?.auth } });
}

/**
 * Unsubscribe this browser, and tell the server unless it is the session's end (which
 * drops the subscription on the server by itself). Never throws.
 * @param {{post: (path: string, body?: unknown, options?: any) => Promise<any>}|null} api
 */
export async function disablePush(api) {
  try {
    const subscription = await currentSubscription();
    if (!subscription) return;
    const endpoint = subscription.endpoint;
    await subscription.unsubscribe();
    if (api) await api.post('/api/me/push/unsubscribe', { endpoint }).catch(() => {});
  } catch {
    // Nothing more to do here: the server forgets it with the session.
  }
}
