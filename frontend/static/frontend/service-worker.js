/**
 * The portal's service worker, served at `/service-worker.js` so that it controls `/`
 * (docs/web-client.md, "The installable app").
 *
 * It does two things and no more:
 * - on a push, it shows that a secure message is waiting. Its words are its own, fixed
 *   here: whatever a payload says is never shown, so neither a push service nor anyone who
 *   took over the server can put a name or a sentence on a lock screen;
 * - on a click on that notification, it brings the portal's window forward, or opens one.
 *
 * It caches nothing and answers no request: the page is `no-store`, its keys live in the
 * page's memory only, and a copy kept here would outlive a sign-out.
 */

const TITLE = 'Confide';
const BODY = 'A secure message is waiting';
// One notification at a time: a second push replaces the first.
const TAG = 'confide-message-waiting';

self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('push', (event) => {
  event.waitUntil(
    self.registration.showNotification(TITLE, {
      body: BODY,
      tag: TAG,
      icon: '/static/frontend/icon-192.png',
      badge: '/static/frontend/icon-192.png',
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin && 'focus' in client) return client.focus();
      }
      return self.clients.openWindow('/');
    })(),
  );
});
