import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AccessProvider, accessOf, type Scope, ScopeNote } from './access';
import { api, ok } from './api/client';
import { useLoad } from './hooks';
import { AdminPage } from './pages/admin';
import { BackupsPage } from './pages/backups';
import { ChatPage } from './pages/chat';
import { KeyEntry } from './pages/key-entry';
import { MemoriesPage } from './pages/memories';
import { PersonalityPage } from './pages/personality';
import { SystemPage } from './pages/system';
import { linkHandler, navigate, usePath } from './router';
import { keyIdOf, onSessionKey, sessionKey, setSessionKey } from './session';

interface Page {
  path: string;
  title: string;
  component: ComponentType;
  /** The scope its first request needs: without it the page says so instead. */
  needs: Scope;
}

/** The pages, in the order of the navigation. */
export const PAGES: readonly Page[] = [
  { path: '/chat', title: 'Chat', component: ChatPage, needs: 'chat' },
  { path: '/memories', title: 'Memories', component: MemoriesPage, needs: 'memory:read' },
  { path: '/personality', title: 'Personality', component: PersonalityPage, needs: 'chat' },
  { path: '/backups', title: 'Backups', component: BackupsPage, needs: 'backup' },
  { path: '/system', title: 'System', component: SystemPage, needs: 'memory:read' },
  { path: '/admin', title: 'Admin', component: AdminPage, needs: 'admin' },
];

const DEFAULT_PAGE = PAGES[0] as Page;

function pageOf(path: string): Page | undefined {
  return PAGES.find((p) => path === p.path || path.startsWith(`${p.path}/`));
}

export function App() {
  const [key, setKey] = useState(sessionKey());
  const [ended, setEnded] = useState(false);
  const path = usePath();
  useEffect(
    () =>
      onSessionKey((next, refused) => {
        setEnded(refused);
        setKey(next);
      }),
    [],
  );
  // The key's scopes, read again for each key: pages and controls it cannot use are not offered.
  const whoami = useLoad(async () => (key === null ? undefined : ok(api.GET('/v1/whoami'))), [key]);
  const page = pageOf(path);
  useEffect(() => {
    if (!page) navigate(DEFAULT_PAGE.path, { replace: true });
  }, [page]);
  useEffect(() => {
    document.title = page ? `${page.title} · AIOS` : 'AIOS';
  }, [page]);

  if (key === null) return <KeyEntry ended={ended} />;
  const shown = page ?? DEFAULT_PAGE;
  const access = accessOf(whoami.data);
  const Current = shown.component;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">AIOS</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a
                  href={p.path}
                  aria-current={p === page ? 'page' : undefined}
                  onClick={linkHandler(p.path)}
                >
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="session">
          key <code>{keyIdOf(key) ?? '?'}</code>
          <button type="button" onClick={() => setSessionKey(null)}>
            Forget key
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{shown.title}</h1>
        <AccessProvider value={access}>
          {whoami.loading ? (
            <p role="status">Loading…</p>
          ) : access.can(shown.needs) ? (
            <Current />
          ) : (
            <ScopeNote scope={shown.needs}>The {shown.title} page</ScopeNote>
          )}
        </AccessProvider>
      </main>
    </>
  );
}
