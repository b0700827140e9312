import { useEffect, useState } from 'preact/hooks';
import { ScopeNote } from '../access';
import { api, isApiError, ok } from '../api/client';
import { type ApiError, asApiError } from '../api/errors';
import { MAX_LENGTH } from '../api/max-length.gen';
import { Confirm } from '../components/confirm';
import { ErrorNote } from '../components/error-note';
import { formatDate, formatNumber } from '../components/format';
import { useAction, useLoad } from '../hooks';
import type { Fragment } from './types';

interface DetailProps {
  id: string;
  onClose: () => void;
  /** The fragment was changed or deleted: the list around it is stale. */
  onChanged: () => void;
  /** Whether the key may change it (memory:write); otherwise it is shown to read. */
  editable: boolean;
}

type HistoryAnswer = Awaited<ReturnType<typeof loadHistory>>;

function loadHistory(id: string) {
  return ok(api.GET('/v1/memory/{id}/history', { params: { path: { id } } }));
}

function History({ history }: { history: HistoryAnswer | undefined }) {
  return (
    <section aria-labelledby="history-title">
      <h3 id="history-title">History</h3>
      {history && (
        <ol class="timeline" aria-label="History of this fragment, oldest first">
          {history.items.map((entry) => (
            <li key={`${entry.version}-${entry.kind}-${entry.at}`}>
              <div class="when">
                <strong>
                  v{entry.version} {entry.kind}
                </strong>{' '}
                <time dateTime={entry.at}>{formatDate(entry.at)}</time>
                {entry.note && <span class="muted"> — {entry.note}</span>}
              </div>
              <blockquote>{entry.text}</blockquote>
              <div class="muted">importance {formatNumber(entry.importance)}</div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Editor({ fragment, onSaved }: { fragment: Fragment; onSaved: (f: Fragment) => void }) {
  const [text, setText] = useState(fragment.text);
  const [importance, setImportance] = useState(String(fragment.importance));
  const { busy, error, run } = useAction();
  useEffect(() => {
    setText(fragment.text);
    setImportance(String(fragment.importance));
  }, [fragment]);
  const save = async (event: Event) => {
    event.preventDefault();
    const body: { text?: string; importance?: number } = {};
    if (text !== fragment.text) body.text = text;
    const weight = Number(importance);
    if (weight !== fragment.importance) body.importance = weight;
    if (Object.keys(body).length === 0) return;
    await run(async () =>
      onSaved(
        await ok(api.PATCH('/v1/memory/{id}', { params: { path: { id: fragment.id } }, body })),
      ),
    );
  };
  return (
    <form onSubmit={save} aria-label="Edit fragment">
      <label for="fragment-text">Text</label>
      <textarea
        id="fragment-text"
        rows={6}
        required
        maxLength={MAX_LENGTH['PATCH /v1/memory/{id}'].text}
        value={text}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      <label for="fragment-importance">Importance (0 to 1)</label>
      <input
        id="fragment-importance"
        type="number"
        min={0}
        max={1}
        step={0.05}
        value={importance}
        onInput={(e) => setImportance((e.target as HTMLInputElement).value)}
      />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save (re-embedded)
        </button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}

/** One fragment: its text and fields, edit, delete, and its history as a timeline. */
export function FragmentDetail({ id, onClose, onChanged, editable }: DetailProps) {
  const loaded = useLoad(() => ok(api.GET('/v1/memory/{id}', { params: { path: { id } } })), [id]);
  const [fragment, setFragment] = useState<Fragment>();
  const [confirming, setConfirming] = useState(false);
  const [deleted, setDeleted] = useState(false);
  const [error, setError] = useState<ApiError>();
  useEffect(() => setFragment(loaded.data), [loaded.data]);
  const history = useLoad(() => loadHistory(id), [id, deleted ? -1 : (fragment?.version ?? 0)]);
  // A fragment deleted before it was opened (an old link, a citation) is no failure: its
  // history tells what it was. One that never existed is said once, not once per request.
  const wasDeleted = deleted || history.data?.deleted === true;
  const fragmentError =
    wasDeleted && isApiError(loaded.error, 'FRAGMENT_NOT_FOUND') ? undefined : loaded.error;
  const historyError = history.error?.code === loaded.error?.code ? undefined : history.error;
  const remove = async () => {
    setConfirming(false);
    try {
      await ok(api.DELETE('/v1/memory/{id}', { params: { path: { id } } }));
      setDeleted(true);
      onChanged();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <section class="detail" aria-labelledby="detail-title">
      <div class="detail-head">
        <h2 id="detail-title">
          Fragment <code>{id}</code>
        </h2>
        <button type="button" onClick={onClose}>
          Back to the list
        </button>
      </div>
      <ErrorNote error={fragmentError ?? error ?? historyError} />
      {wasDeleted && (
        <p class="notice" role="status">
          Deleted. Its history stays readable below.
        </p>
      )}
      {fragment && !wasDeleted && (
        <>
          <dl class="facts">
            <div>
              <dt>namespace</dt>
              <dd>{fragment.namespace}</dd>
            </div>
            <div>
              <dt>source</dt>
              <dd>{fragment.source ?? '—'}</dd>
            </div>
            <div>
              <dt>version</dt>
              <dd>{fragment.version}</dd>
            </div>
            <div>
              <dt>created</dt>
              <dd>{formatDate(fragment.createdAt)}</dd>
            </div>
            <div>
              <dt>updated</dt>
              <dd>{formatDate(fragment.updatedAt)}</dd>
            </div>
            <div>
              <dt>accessed</dt>
              <dd>
                {fragment.accessCount} time(s), last {formatDate(fragment.accessedAt)}
              </dd>
            </div>
          </dl>
          {editable ? (
            <>
              <Editor
                fragment={fragment}
                onSaved={(f) => {
                  setFragment(f);
                  onChanged();
                }}
              />
              <div class="actions">
                <button type="button" class="danger" onClick={() => setConfirming(true)}>
                  Delete fragment
                </button>
              </div>
            </>
          ) : (
            <>
              <blockquote aria-label="Text">{fragment.text}</blockquote>
              <ScopeNote scope="memory:write">Editing and deleting a fragment</ScopeNote>
            </>
          )}
        </>
      )}
      <History history={history.data} />
      <Confirm
        open={confirming}
        title="Delete this fragment?"
        confirmLabel="Delete"
        danger
        onConfirm={() => void remove()}
        onCancel={() => setConfirming(false)}
      >
        <p>It is no longer found or used in answers; its history stays readable.</p>
      </Confirm>
    </section>
  );
}
