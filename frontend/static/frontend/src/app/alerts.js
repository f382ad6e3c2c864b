/**
 * Desktop notifications and a sound when a message arrives while the page is hidden, or
 * in another conversation than the one shown (docs/web-client.md, "Desktop notifications").
 *
 * Off until the person turns them on in Settings, for this browser only: the choice is
 * kept in localStorage as `confide.alerts` (nothing secret, and forgotten at sign-out with
 * everything else). The notification says only that a secure message is waiting, never
 * who wrote or what: a desktop notification shows on a shared or projected screen. The
 * sound is made here with the Web Audio API; no file, no other origin.
 *
 * @module
 */

const KEY = 'confide.alerts';
const TITLE = 'Confide';
const BODY = 'A secure message is waiting';
const TAG = 'confide-message-waiting';

export class Alerts {
  /** @param {Storage|null} storage */
  constructor(storage) {
    this.storage = storage;
    /** @type {AudioContext|null} */
    this.audio = null;
  }

  /** Whether this browser's person turned them on. */
  get on() {
    try {
      return this.storage?.getItem(KEY) === 'on';
    } catch {
      return false;
    }
  }

  /**
   * Turn them on (asking for the permission to notify, from a click) or off. Resolves to
   * whether they are on.
   * @param {boolean} on
   */
  async set(on) {
    if (!on) {
      this.storage?.removeItem(KEY);
      return false;
    }
    if (!('Notification' in globalThis)) throw new Error('This browser cannot show notifications.');
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') throw new Error('Notifications are blocked for this site in the browser’s settings.');
    this.storage?.setItem(KEY, 'on');
    this.prime();
    return true;
  }

  /** Make the sound possible: browsers allow audio only after a gesture on the page. */
  prime() {
    try {
      const Context = globalThis.AudioContext ?? /** @type {any} */ (globalThis).webkitAudioContext;
      if (!this.audio && Context) this.audio = new Context();
      if (this.audio?.state === 'suspended') this.audio.resume().catch(() => {});
    } catch {
      this.audio = null;
    }
  }

  /** A message waits: a notification without content, and a short double tone. */
  async notify() {
    if (!this.on || !('Notification' in globalThis) || Notification.permission !== 'granted') return;
    this.chime();
    const options = { body: BODY, tag: TAG, icon: '/static/frontend/icon-192.png' };
    try {
      const worker = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration('/') : null;
      if (worker?.active) {
        await worker.showNotification(TITLE, options);
        return;
      }
      const shown = new Notification(TITLE, options);
      shown.onclick = () => {
        window.focus();
        shown.close();
      };
    } catch {
      // Not shown: the tab's title still counts the message.
    }
  }

  /** Two soft tones, a fifth apart, a fifth of a second in all. */
  chime() {
    const audio = this.audio;
    if (!audio || audio.state !== 'running') return;
    const start = audio.currentTime;
    for (const [offset, pitch] of [[0, 660], [0.1, 990]]) {
      const tone = audio.createOscillator();
      const volume = audio.createGain();
      tone.frequency.value = pitch;
      volume.gain.setValueAtTime(0.0001, start + offset);
      volume.gain.exponentialRampToValueAtTime(0.08, start + offset + 0.01);
      volume.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.09);
      tone.connect(volume).connect(audio.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.1);
    }
  }
}
