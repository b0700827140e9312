import type { JobContext } from './registry.js';

/**
 * `turn` awaited, or over as soon as `signal` fires: a job cancelled while it waits ends
 * then, not when the job before it ends. The jobs after it still wait for that one.
 */
function untilAborted(turn: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const stop = () => resolve();
    signal.addEventListener('abort', stop, { once: true });
    void turn.then(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    });
  });
}

/**
 * Jobs of one kind that must not overlap within a tenant (ingests sharing the uploads'
 * directories, backups sharing a repository) take turns: each waits for the ones started
 * before it, reporting that it waits, and a job cancelled while waiting never starts.
 */
export class Turns {
  private readonly queues = new Map<string, Promise<void>>();

  async run<T>(tenant: string, job: JobContext, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(tenant);
    let done: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const turn = (before ?? Promise.resolve()).then(() => mine);
    this.queues.set(tenant, turn);
    try {
      if (before) {
        job.progress({
          done: 0,
          total: null,
          unit: 'jobs',
          message: 'waiting for the job before it',
        });
        await untilAborted(before, job.signal);
      }
      job.signal.throwIfAborted();
      return await fn();
    } finally {
      done();
      if (this.queues.get(tenant) === turn) this.queues.delete(tenant);
    }
  }
}
