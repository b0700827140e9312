import { useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import { ErrorNote } from '../components/error-note';
import { useAction } from '../hooks';
import { setSessionKey } from '../session';

/** Checks a key against the server: any valid key is told its scopes, a refused one 401. */
async function checkKey(key: string): Promise<void> {
  await ok(api.GET('/v1/whoami', { headers: { authorization: `Bearer ${key}` } }));
}

/** The key is asked once per browser session; nothing else of the app shows without it. */
export function KeyEntry({ ended }: { ended: boolean }) {
  const [key, setKey] = useState('');
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    return run(async () => {
      const given = key.trim();
      await checkKey(given);
      setSessionKey(given);
    });
  };
  return (
    <main id="main" class="key-entry">
      <h1>AIOS</h1>
      {ended && (
        <p class="notice" role="status">
          The server refused the key (revoked or expired): enter another one.
        </p>
      )}
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          placeholder="aios_sk_…"
          value={key}
          onInput={(event) => setKey((event.target as HTMLInputElement).value)}
        />
        <p class="hint">
          Kept for this browser tab only, until it is closed. Create one with{' '}
          <code>aios keys create --name web --scope admin</code>.
        </p>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Use this key'}
        </button>
        <ErrorNote error={error} />
      </form>
    </main>
  );
}
