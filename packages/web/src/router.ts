import { useEffect, useState } from 'preact/hooks';

/**
 * History routing: every page has its own URL (the server answers index.html for any
 * page path), so reload, back and bookmarks work.
 */
type Listener = () => void;
const listeners = new Set<Listener>();

function notify(): void {
  for (const listener of listeners) listener();
}

globalThis.addEventListener?.('popstate', notify);

export function currentPath(): string {
  return globalThis.location?.pathname ?? '/';
}

export function currentSearch(): string {
  return globalThis.location?.search ?? '';
}

/** What a history entry of the app holds: the address it was opened from, if in the app. */
interface EntryState {
  from?: string;
}

/**
 * Goes to `path` (with its query string). A new entry remembers the address it was left
 * from, so that a page can tell whether going back returns where it means to go.
 */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  const here = currentPath() + currentSearch();
  if (path === here) return;
  if (options.replace) history.replaceState(history.state, '', path);
  else history.pushState({ from: here } satisfies EntryState, '', path);
  notify();
}

/** The address the current entry was opened from within the app (kept over a reload). */
export function cameFrom(): string | null {
  const state = (globalThis.history?.state ?? null) as EntryState | null;
  return typeof state?.from === 'string' ? state.from : null;
}

function useRouted(read: () => string): string {
  const [value, setValue] = useState(read());
  useEffect(() => {
    const listener = () => setValue(read());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, [read]);
  return value;
}

/** The current path; re-renders on navigation. */
export function usePath(): string {
  return useRouted(currentPath);
}

/** The current query string (`?…`, or empty); re-renders on navigation. */
export function useSearch(): string {
  return useRouted(currentSearch);
}

/** Click handler of an in-app link: navigates without reloading (modified clicks as usual). */
export function linkHandler(path: string) {
  return (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(path);
  };
}
