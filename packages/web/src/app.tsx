import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
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
}

/** The pages, in the order of the navigation. */
export const PAGES: readonly Page[] = [
  { path: '/chat', title: 'Chat', component: ChatPage },
  { path: '/memories', title: 'Memories', component: MemoriesPage },
  { path: '/personality', title: 'Personality', component: PersonalityPage },
  { path: '/backups', title: 'Backups', component: BackupsPage },
  { path: '/system', title: 'System', component: SystemPage },
  { path: '/admin', title: 'Admin', component: AdminPage },
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
  const page = pageOf(path);
  useEffect(() => {
    if (!page) navigate(DEFAULT_PAGE.path, { replace: true });
  }, [page]);
  useEffect(() => {
    document.title = page ? `${page.title} · AIOS` : 'AIOS';
  }, [page]);

  if (key === null) return <KeyEntry ended={ended} />;
  const Current = (page ?? DEFAULT_PAGE).component;
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
        <h1>{(page ?? DEFAULT_PAGE).title}</h1>
        <Current />
      </main>
    </>
  );
}
