import { api, isApiError, ok } from '../api/client';
import { ErrorNote } from '../components/error-note';
import { useAction } from '../hooks';
import { type Job, progressText } from './follow';

/** Asks the server to stop the job; one that ended meanwhile is no failure. */
async function cancelJob(id: string): Promise<void> {
  try {
    await ok(api.DELETE('/v1/jobs/{id}', { params: { path: { id } } }));
  } catch (failure) {
    if (!isApiError(failure, 'JOB_FINISHED')) throw failure;
  }
}

/**
 * A job's live progress: a progress bar (indeterminate while the total is unknown), its
 * state, and a way to stop it while it runs (what it stored so far stays).
 */
export function JobProgress({ job, label }: { job: Job; label: string }) {
  const p = job.progress;
  const finished = job.status !== 'running';
  const cancel = useAction();
  return (
    <div class="job" data-job-status={job.status}>
      <progress
        aria-label={label}
        {...(p && p.total !== null ? { max: p.total, value: p.done } : {})}
        {...(finished && job.status === 'succeeded' ? { max: 1, value: 1 } : {})}
      />
      <span role="status">
        {label}: {job.status === 'running' ? progressText(job) : job.status}
        {job.status === 'failed' && job.error && (
          <>
            {' '}
            — <code>{job.error.code}</code> {job.error.message}
          </>
        )}
      </span>
      {!finished && (
        <button
          type="button"
          disabled={cancel.busy}
          onClick={() => void cancel.run(() => cancelJob(job.id))}
        >
          {cancel.busy ? 'Cancelling…' : `Cancel ${label.toLowerCase()}`}
        </button>
      )}
      <ErrorNote error={cancel.error} />
    </div>
  );
}
