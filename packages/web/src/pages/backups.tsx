import { useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import { type ApiError, asApiError } from '../api/errors';
import type { paths } from '../api/schema.gen';
import { Confirm } from '../components/confirm';
import { ErrorNote } from '../components/error-note';
import { formatBytes, formatDate } from '../components/format';
import { ScrollTable } from '../components/scroll-table';
import { useLoad } from '../hooks';
import { followJob, type Job } from '../jobs/follow';
import { JobProgress } from '../jobs/job-progress';

type Snapshot =
  paths['/v1/backups']['get']['responses'][200]['content']['application/json']['items'][number];
type Diff = paths['/v1/backups/diff']['get']['responses'][200]['content']['application/json'];

/** Runs a job-starting call, follows its progress, and keeps the last state and any error. */
function useJob(onDone: (job: Job) => void) {
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<ApiError>();
  const start = async (call: () => Promise<Job>) => {
    setError(undefined);
    setJob(undefined);
    try {
      const final = await followJob(await call(), setJob);
      onDone(final);
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return { job, error, start, running: job?.status === 'running' };
}

function VerifyResult({ job }: { job: Job }) {
  const r = (job.result ?? {}) as {
    ok?: boolean;
    errors?: Array<{ code: string; message: string }>;
    snapshots?: number;
    checkedPacks?: number;
    packs?: number;
  };
  return (
    <div data-testid="verify-result">
      <span class={`badge ${r.ok ? 'status-pass' : 'status-fail'}`}>
        {r.ok ? 'repository verified' : 'damage found'}
      </span>{' '}
      {r.snapshots} snapshot(s); {r.checkedPacks} of {r.packs} pack(s) read back.
      {r.errors && r.errors.length > 0 && (
        <ul>
          {r.errors.map((e) => (
            <li key={`${e.code}-${e.message}`}>
              <code>{e.code}</code> {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function DiffView({ snapshots }: { snapshots: Snapshot[] }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [diff, setDiff] = useState<Diff>();
  const [error, setError] = useState<ApiError>();
  const first = snapshots.at(-2)?.id ?? snapshots[0]?.id ?? '';
  const last = snapshots.at(-1)?.id ?? '';
  const compare = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      setDiff(
        await ok(
          api.GET('/v1/backups/diff', {
            params: { query: { from: from || first, to: to || last } },
          }),
        ),
      );
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  const option = (s: Snapshot) => (
    <option key={s.id} value={s.id}>
      {s.id.slice(0, 8)} — {formatDate(s.time)}
    </option>
  );
  const group = (title: string, paths: string[]) =>
    paths.length > 0 && (
      <div>
        <h4>
          {title} ({paths.length})
        </h4>
        {/* Focusable: a long list scrolls, and the keyboard must reach it. */}
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region is focused to scroll it. */}
        <ul class="paths" tabIndex={0} aria-label={title}>
          {paths.map((p) => (
            <li key={p}>
              <code>{p}</code>
            </li>
          ))}
        </ul>
      </div>
    );
  return (
    <section aria-labelledby="diff-title">
      <h2 id="diff-title">Compare two snapshots</h2>
      <form class="panel inline" onSubmit={compare} aria-label="Compare snapshots">
        <label for="diff-from">From</label>
        <select
          id="diff-from"
          value={from || first}
          onChange={(e) => setFrom((e.target as HTMLSelectElement).value)}
        >
          {snapshots.map(option)}
        </select>
        <label for="diff-to">To</label>
        <select
          id="diff-to"
          value={to || last}
          onChange={(e) => setTo((e.target as HTMLSelectElement).value)}
        >
          {snapshots.map(option)}
        </select>
        <button type="submit">Compare</button>
      </form>
      <ErrorNote error={error} />
      {diff && (
        <div data-testid="diff">
          {diff.added.length + diff.removed.length + diff.modified.length + diff.metadata.length ===
          0 ? (
            <p>No difference.</p>
          ) : (
            <>
              {group('Added', diff.added)}
              {group('Removed', diff.removed)}
              {group('Changed', diff.modified)}
              {group('Only metadata changed', diff.metadata)}
            </>
          )}
        </div>
      )}
    </section>
  );
}

/** Snapshots of this tenant's data: create with live progress, compare, verify, restore, forget. */
export function BackupsPage() {
  const list = useLoad(() => ok(api.GET('/v1/backups')), []);
  const [tags, setTags] = useState('');
  const [restoring, setRestoring] = useState<Snapshot>();
  const [forgetting, setForgetting] = useState<Snapshot>();
  const [forgetError, setForgetError] = useState<ApiError>();
  const create = useJob(() => list.reload());
  const verify = useJob(() => undefined);
  const restore = useJob(() => list.reload());
  const snapshots = list.data?.items ?? [];
  const startCreate = (event: Event) => {
    event.preventDefault();
    const given = tags.split(/[\s,]+/).filter(Boolean);
    void create.start(() =>
      ok(api.POST('/v1/backups', { body: given.length ? { tags: given } : {} })),
    );
  };
  const confirmRestore = () => {
    const snapshot = restoring;
    setRestoring(undefined);
    if (!snapshot) return;
    void restore.start(() =>
      ok(
        api.POST('/v1/backups/{id}/restore', {
          params: { path: { id: snapshot.id } },
          body: { confirm: true },
        }),
      ),
    );
  };
  const confirmForget = async () => {
    const snapshot = forgetting;
    setForgetting(undefined);
    if (!snapshot) return;
    setForgetError(undefined);
    try {
      await ok(api.DELETE('/v1/backups/{id}', { params: { path: { id: snapshot.id } } }));
      list.reload();
    } catch (failure) {
      setForgetError(asApiError(failure));
    }
  };
  return (
    <>
      <section aria-labelledby="create-title">
        <h2 id="create-title">Create a snapshot</h2>
        <form class="panel inline" onSubmit={startCreate} aria-label="Create a snapshot">
          <label for="backup-tags">Tags (optional, separated by spaces)</label>
          <input
            id="backup-tags"
            value={tags}
            onInput={(e) => setTags((e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="primary" disabled={create.running}>
            Create snapshot
          </button>
        </form>
        {create.job && <JobProgress job={create.job} label="Snapshot" />}
        <ErrorNote error={create.error} />
      </section>

      <section aria-labelledby="snapshots-title">
        <h2 id="snapshots-title">Snapshots</h2>
        <ErrorNote error={list.error ?? forgetError} />
        {list.data && snapshots.length === 0 && <p>No snapshot yet.</p>}
        {snapshots.length > 0 && (
          <ScrollTable
            caption="Snapshots, oldest first"
            columns={['Id', 'Time', 'Tags', 'Files', 'Size', 'Stored', 'Actions']}
          >
            {snapshots.map((s) => (
              <tr key={s.id} data-snapshot-id={s.id}>
                <th scope="row">
                  <code>{s.id.slice(0, 8)}</code>
                </th>
                <td>{formatDate(s.time)}</td>
                <td>{s.tags.join(', ')}</td>
                <td>{s.summary.files}</td>
                <td>{formatBytes(s.summary.bytes)}</td>
                <td>{formatBytes(s.summary.bytesStored)}</td>
                <td class="actions">
                  <button
                    type="button"
                    aria-label={`Restore snapshot ${s.id.slice(0, 8)}`}
                    onClick={() => setRestoring(s)}
                  >
                    Restore
                  </button>
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Forget snapshot ${s.id.slice(0, 8)}`}
                    onClick={() => setForgetting(s)}
                  >
                    Forget
                  </button>
                </td>
              </tr>
            ))}
          </ScrollTable>
        )}
        {list.data && list.data.damaged.length > 0 && (
          <div class="notice">
            Damaged snapshot files:
            <ul>
              {list.data.damaged.map((d) => (
                <li key={d.id}>
                  <code>{d.id}</code> <code>{d.code}</code> {d.message}
                </li>
              ))}
            </ul>
          </div>
        )}
        {restore.job && <JobProgress job={restore.job} label="Restore" />}
        <ErrorNote error={restore.error} />
      </section>

      {snapshots.length > 0 && <DiffView snapshots={snapshots} />}

      <section aria-labelledby="verify-title">
        <h2 id="verify-title">Verify</h2>
        <p>Checks the repository's structure and reads back a tenth of its data.</p>
        <button
          type="button"
          disabled={verify.running || snapshots.length === 0}
          onClick={() =>
            void verify.start(() => ok(api.POST('/v1/backups/verify', { body: { readData: 10 } })))
          }
        >
          Verify repository
        </button>
        {verify.job && <JobProgress job={verify.job} label="Verify" />}
        {verify.job?.status === 'succeeded' && <VerifyResult job={verify.job} />}
        <ErrorNote error={verify.error} />
      </section>

      <Confirm
        open={restoring !== undefined}
        title="Restore this snapshot?"
        confirmLabel="Restore"
        danger
        onConfirm={confirmRestore}
        onCancel={() => setRestoring(undefined)}
      >
        <p>
          This tenant's memories, conversations and settings are replaced by those of snapshot{' '}
          <code>{restoring?.id.slice(0, 8)}</code> ({formatDate(restoring?.time)}). What changed
          since is lost unless another snapshot holds it.
        </p>
      </Confirm>
      <Confirm
        open={forgetting !== undefined}
        title="Forget this snapshot?"
        confirmLabel="Forget"
        danger
        onConfirm={() => void confirmForget()}
        onCancel={() => setForgetting(undefined)}
      >
        <p>
          Snapshot <code>{forgetting?.id.slice(0, 8)}</code> is removed; its data is freed by the
          next prune.
        </p>
      </Confirm>
    </>
  );
}
