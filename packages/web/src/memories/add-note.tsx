import { useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import { MAX_LENGTH } from '../api/max-length.gen';
import { ErrorNote } from '../components/error-note';
import { useAction } from '../hooks';
import { linkHandler } from '../router';

type Added = Awaited<ReturnType<typeof remember>>;

function remember(text: string, namespace: string) {
  return ok(
    api.POST('/v1/memory', {
      body: { text, ...(namespace.trim() ? { namespace: namespace.trim() } : {}) },
    }),
  );
}

const SAID: Record<Added['status'], string> = {
  added: 'Remembered',
  duplicate: 'Already remembered',
  merged: 'Merged into a fragment it repeats',
};

/** Remembers one note typed here, as `aios memory add` does; the same text is not stored twice. */
export function AddNote({ onAdded }: { onAdded: () => void }) {
  const [text, setText] = useState('');
  const [namespace, setNamespace] = useState('');
  const [added, setAdded] = useState<Added>();
  const { busy, error, run } = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    setAdded(undefined);
    return run(async () => {
      setAdded(await remember(text, namespace));
      setText('');
      onAdded();
    });
  };
  const path = added ? `/memories/${encodeURIComponent(added.fragment.id)}` : '';
  return (
    <section aria-labelledby="add-title" class="panel">
      <h2 id="add-title">Remember a note</h2>
      <form onSubmit={submit} aria-labelledby="add-title">
        <label for="note-text">Note</label>
        <textarea
          id="note-text"
          rows={3}
          required
          maxLength={MAX_LENGTH['POST /v1/memory'].text}
          value={text}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        />
        <label for="note-namespace">Into namespace (default: default)</label>
        <input
          id="note-namespace"
          maxLength={MAX_LENGTH['POST /v1/memory'].namespace}
          value={namespace}
          onInput={(e) => setNamespace((e.target as HTMLInputElement).value)}
        />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || text.trim() === ''}>
            Remember
          </button>
        </div>
        {added && (
          <p role="status">
            {SAID[added.status]} in {added.fragment.namespace}:{' '}
            <a href={path} onClick={linkHandler(path)}>
              open it
            </a>
          </p>
        )}
        <ErrorNote error={error} />
      </form>
    </section>
  );
}
