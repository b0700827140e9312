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

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === currentPath() + (globalThis.location?.search ?? '')) return;
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  notify();
}

/** The current path; re-renders on navigation. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const listener = () => setPath(currentPath());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return path;
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
