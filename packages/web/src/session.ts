/**
 * The API key is entered once and kept for the browser tab's session only
 * (sessionStorage): closing the tab forgets it, and it is never written anywhere else.
 * The web app has no privileges of its own: every request carries this key.
 */
const STORAGE_KEY = 'aios.apiKey';

/** `refused`: the server refused the key (revoked, expired), not the person forgetting it. */
type Listener = (key: string | null, refused: boolean) => void;
const listeners = new Set<Listener>();

function storage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

let current: string | null = storage()?.getItem(STORAGE_KEY) ?? null;

export function sessionKey(): string | null {
  return current;
}

export function setSessionKey(key: string | null, options: { refused?: boolean } = {}): void {
  current = key;
  const store = storage();
  if (key === null) store?.removeItem(STORAGE_KEY);
  else store?.setItem(STORAGE_KEY, key);
  for (const listener of listeners) listener(key, options.refused === true);
}

export function onSessionKey(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The key's id (aios_sk_<id>_<secret>), safe to show: the secret is never displayed. */
export function keyIdOf(key: string): string | null {
  const match = /^aios_sk_([A-Za-z0-9]+)_/.exec(key);
  return match?.[1] ?? null;
}
