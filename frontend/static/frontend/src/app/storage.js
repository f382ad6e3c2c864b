/**
 * The browser storage the client uses, and forgetting it.
 *
 * Everything the client keeps in web storage is named `confide.*`: the outbox
 * (sessionStorage, ciphertext) and the peers' identities seen (localStorage, public). Every
 * way out of a session (sign-out, quick exit, inactivity, the server ending the session)
 * removes all of it, so a shared or watched device shows no trace of the portal in storage.
 *
 * @module
 */

export const PREFIX = 'confide.';

/**
 * The named storage, or null where the browser refuses it (private modes, policies).
 * @param {'localStorage'|'sessionStorage'} name
 * @returns {Storage|null}
 */
export function storageOf(name) {
  try {
    return globalThis[name] ?? null;
  } catch {
    return null;
  }
}

/**
 * Remove every `confide.*` entry from each storage given; other entries are left alone.
 * Returns how many were removed.
 * @param {...({length: number, key: (i: number) => string|null, removeItem: (k: string) => void}|null)} storages
 */
export function forgetStored(...storages) {
  let removed = 0;
  for (const storage of storages) {
    if (!storage) continue;
    try {
      const names = [];
      for (let i = 0; i < storage.length; i += 1) {
        const name = storage.key(i);
        if (name !== null && name.startsWith(PREFIX)) names.push(name);
      }
      for (const name of names) {
        storage.removeItem(name);
        removed += 1;
      }
    } catch {
      // A storage that cannot be read cannot hold anything of ours either.
    }
  }
  return removed;
}
