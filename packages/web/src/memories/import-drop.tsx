import { useState } from 'preact/hooks';
import { authorizedFetch } from '../api/client';
import { type ApiError, asApiError } from '../api/errors';
import { MAX_LENGTH } from '../api/max-length.gen';
import { ErrorNote } from '../components/error-note';
import { followJob, type Job } from '../jobs/follow';
import { JobProgress } from '../jobs/job-progress';
import { IMPORT_ACCEPT, importKindsText } from './import-kinds';

/**
 * Import by drag and drop (or the file picker, for the keyboard): the files are uploaded
 * to POST /v1/ingest, which ingests them as a job; its progress is followed live.
 */
export function ImportDrop({ onImported }: { onImported: () => void }) {
  const [namespace, setNamespace] = useState('');
  const [over, setOver] = useState(false);
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<ApiError>();
  const upload = async (files: File[]) => {
    if (files.length === 0) return;
    setError(undefined);
    setJob(undefined);
    const form = new FormData();
    // Fields before files: the server reads the parts in order.
    if (namespace.trim()) form.append('namespace', namespace.trim());
    for (const file of files) form.append('file', file, file.name);
    try {
      const response = await authorizedFetch('/v1/ingest', { method: 'POST', body: form });
      const started = (await response.json()) as Job;
      const final = await followJob(started, setJob);
      // A cancelled import keeps what it stored before it stopped.
      if (final.status === 'succeeded' || final.status === 'cancelled') onImported();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <section aria-labelledby="import-title" class="panel">
      <h2 id="import-title">Import</h2>
      <section
        class={`dropzone${over ? ' over' : ''}`}
        aria-label="Drop files here to import them"
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void upload([...(e.dataTransfer?.files ?? [])]);
        }}
      >
        <p>Drop files here: {importKindsText()}.</p>
        <label for="import-files">Or choose files</label>
        <input
          id="import-files"
          type="file"
          multiple
          accept={IMPORT_ACCEPT}
          onChange={(e) => {
            const input = e.target as HTMLInputElement;
            void upload([...(input.files ?? [])]).finally(() => {
              input.value = '';
            });
          }}
        />
        <label for="import-namespace">Into namespace (default: documents)</label>
        <input
          id="import-namespace"
          value={namespace}
          maxLength={MAX_LENGTH['POST /v1/ingest'].namespace}
          onInput={(e) => setNamespace((e.target as HTMLInputElement).value)}
        />
      </section>
      {job && <JobProgress job={job} label="Import" />}
      {(job?.status === 'succeeded' || job?.status === 'cancelled') && <ImportSummary job={job} />}
      <ErrorNote error={error} />
    </section>
  );
}

function ImportSummary({ job }: { job: Job }) {
  const result = (job.result ?? {}) as Record<string, unknown>;
  const parts = Object.entries(result)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? <p class="muted">{parts.join(' · ')}</p> : null;
}
