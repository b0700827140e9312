import { useState } from 'preact/hooks';
import { api } from '../api/client';
import { apiErrorOf } from '../api/errors';
import { ErrorNote } from '../components/error-note';
import { useAction } from '../hooks';
import { setSessionKey } from '../session';

/** Checks a key against the server: 401 refuses it; a key without memory:read is still a key. */
async function checkKey(key: string): Promise<void> {
  const { response, error } = await api.GET('/v1/status', {
    headers: { authorization: `Bearer ${key}` },
  });
  if (response.ok || response.status === 403) return;
  throw apiErrorOf(response.status, error);
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
