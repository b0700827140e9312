import { type Job, progressText } from './follow';

/** A job's live progress: a progress bar (indeterminate while the total is unknown) and its state. */
export function JobProgress({ job, label }: { job: Job; label: string }) {
  const p = job.progress;
  const finished = job.status !== 'running';
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
    </div>
  );
}
