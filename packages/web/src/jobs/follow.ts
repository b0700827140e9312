import { authorizedFetch } from '../api/client';
import type { paths } from '../api/schema.gen';
import { formatBytes, formatNumber } from '../components/format';
import { readEvents } from './sse';

/** A job as the API shows it (202 answers, GET /v1/jobs/{id}, its events). */
export type Job = paths['/v1/jobs/{id}']['get']['responses'][200]['content']['application/json'];

/**
 * Follows a job through its server-sent events (`job` on each change, then `end`) and
 * resolves with its final state. A job that already ended resolves at once.
 */
export async function followJob(job: Job, onChange: (job: Job) => void): Promise<Job> {
  onChange(job);
  if (job.status !== 'running') return job;
  const response = await authorizedFetch(`/v1/jobs/${encodeURIComponent(job.id)}/events`, {
    headers: { accept: 'text/event-stream' },
  });
  let last = job;
  await readEvents(response, (event) => {
    if (event.event !== 'job' && event.event !== 'end') return;
    last = JSON.parse(event.data) as Job;
    onChange(last);
  });
  return last;
}

/** "3 of 10 files", "1.2 MB of 8.6 MB": a job's progress in words. */
export function progressText(job: Job): string {
  const p = job.progress;
  if (!p) return job.status === 'running' ? 'starting…' : job.status;
  let amount: string;
  if (p.unit === 'bytes') {
    amount =
      p.total === null ? formatBytes(p.done) : `${formatBytes(p.done)} of ${formatBytes(p.total)}`;
  } else {
    const done = formatNumber(p.done);
    amount =
      p.total === null ? `${done} ${p.unit}` : `${done} of ${formatNumber(p.total)} ${p.unit}`;
  }
  return p.message ? `${amount}: ${p.message}` : amount;
}
