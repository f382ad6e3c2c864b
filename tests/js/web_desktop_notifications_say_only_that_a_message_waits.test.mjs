// Desktop notifications (alerts.js): off until turned on, and then only with the browser's
// permission; what they show is the same fixed text whatever arrived, with a sound; the
// switch is one `confide.*` entry, forgotten with the others. And the server key a browser
// subscribes with is read as strict base64url (push.js).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MemoryStorage } from './_app_support.mjs';
import { Alerts } from '../../frontend/static/frontend/src/app/alerts.js';
import { fromBase64Url } from '../../frontend/static/frontend/src/app/push.js';

/** Stand-ins for the browser: Notification with its permission, a service worker. */
function browser(permission) {
  const shown = [];
  globalThis.Notification = class {
    static permission = permission;
    static async requestPermission() {
      return permission;
    }
    constructor(title, options) {
      shown.push({ title, ...options, via: 'page' });
    }
  };
  const registration = {
    active: {},
    async showNotification(title, options) {
      shown.push({ title, ...options, via: 'worker' });
    },
  };
  Object.defineProperty(globalThis, 'navigator', {
    value: { serviceWorker: { getRegistration: async () => registration } },
    configurable: true,
  });
  return shown;
}

test('off until turned on: nothing is shown', async () => {
  const shown = browser('granted');
  const alerts = new Alerts(new MemoryStorage());
  assert.equal(alerts.on, false);
  await alerts.notify();
  assert.deepEqual(shown, []);
});

test('turned on, a notification without content, through the service worker', async () => {
  const shown = browser('granted');
  const storage = new MemoryStorage();
  const alerts = new Alerts(storage);
  assert.equal(await alerts.set(true), true);
  assert.equal(storage.getItem('confide.alerts'), 'on');
  await alerts.notify();
  assert.equal(shown.length, 1);
  const [notice] = shown;
  assert.equal(notice.title, 'Confide');
  assert.equal(notice.body, 'A secure message is waiting');
  assert.equal(notice.via, 'worker');
  assert.deepEqual(Object.keys(notice).sort(), ['body', 'icon', 'tag', 'title', 'via']);
});

test('refused permission leaves them off and says why', async () => {
  browser('denied');
  const storage = new MemoryStorage();
  const alerts = new Alerts(storage);
  await assert.rejects(alerts.set(true), /blocked/);
  assert.equal(storage.getItem('confide.alerts'), null);
});

test('turned off, the entry goes', async () => {
  browser('granted');
  const storage = new MemoryStorage();
  const alerts = new Alerts(storage);
  await alerts.set(true);
  assert.equal(await alerts.set(false), false);
  assert.equal(storage.getItem('confide.alerts'), null);
});

test('the server key is strict base64url', () => {
  assert.deepEqual([...fromBase64Url('AQID_-8')], [1, 2, 3, 255, 239]);
  for (const bad of ['', 'AQID=', 'AQ ID', 'AQ+D', 'AQ/D']) {
    assert.throws(() => fromBase64Url(bad), /base64url/, bad);
  }
});
