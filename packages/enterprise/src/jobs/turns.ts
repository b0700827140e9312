import type { JobContext } from './registry.js';

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
        await before;
      }
      job.signal.throwIfAborted();
      return await fn();
    } finally {
      done();
      if (this.queues.get(tenant) === turn) this.queues.delete(tenant);
    }
  }
}
