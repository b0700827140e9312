import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isAiosError } from '@aios/utils';
import { apiError, errorResponse } from '../http/errors.js';
import type { JobJournal } from './journal.js';

export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** How a job that is over ended, in words. */
const ENDED: Record<JobStatus, string> = {
  running: 'it is still running',
  succeeded: 'it succeeded',
  failed: 'it failed',
  cancelled: 'it was cancelled',
};

export interface JobProgress {
  done: number;
  total: number | null;
  unit: string;
  message?: string;
}

export interface JobView {
  id: string;
  kind: string;
  status: JobStatus;
  progress: JobProgress | null;
  result: unknown;
  error: { code: string; message: string; details: Record<string, unknown> } | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface JobContext {
  signal: AbortSignal;
  progress(progress: JobProgress): void;
}

export interface JobOptions {
  /**
   * The run throws when the signal stops it, so a result means its work was done, however
   * late a cancel came (a restore applied, a snapshot written): the job then succeeded.
   * Without it, a run may return what it did before it stopped (an ingest, a
   * consolidation), and a cancelled job that returns is `cancelled` with that result.
   */
  throwsWhenStopped?: boolean;
}

interface Job {
  view: JobView;
  tenantId: string;
  controller: AbortController;
  done: Promise<void>;
}

/** Finished jobs kept per tenant for their callers to read. */
const KEEP_FINISHED = 200;

/**
 * Long operations (ingest, consolidate, backup, restore, verify) run as jobs: the request
 * answers 202 with the job at once; the job reports progress (read, or followed as SSE)
 * and can be cancelled. Jobs belong to a tenant: another tenant's job ids are not found.
 * On shutdown, running jobs get a bounded time to finish, then are cancelled. With a
 * journal, the jobs are kept across restarts (see `JobJournal`).
 */
export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  private readonly events = new EventEmitter();
  private accepting = true;

  constructor(private readonly journal?: JobJournal) {
    this.events.setMaxListeners(0);
    for (const { tenantId, view } of journal?.load() ?? []) {
      this.jobs.set(view.id, {
        view,
        tenantId,
        controller: new AbortController(),
        done: Promise.resolve(),
      });
    }
    for (const tenantId of new Set([...this.jobs.values()].map((job) => job.tenantId))) {
      this.forgetOldJobs(tenantId);
    }
  }

  /** Keeps the jobs as they are now in the journal, if there is one. */
  private keep(): void {
    void this.journal?.save(() =>
      [...this.jobs.values()].map((job) => ({ tenantId: job.tenantId, view: { ...job.view } })),
    );
  }

  start(
    tenantId: string,
    kind: string,
    run: (ctx: JobContext) => Promise<unknown>,
    options: JobOptions = {},
  ): JobView {
    if (!this.accepting) throw apiError('SHUTTING_DOWN', 'the server is shutting down');
    const controller = new AbortController();
    const view: JobView = {
      id: `job_${randomUUID().replaceAll('-', '')}`,
      kind,
      status: 'running',
      progress: null,
      result: null,
      error: null,
      createdAt: new Date().toISOString(),
      finishedAt: null,
    };
    const job: Job = { view, tenantId, controller, done: Promise.resolve() };
    const emit = () => this.events.emit(view.id, { ...view });
    job.done = (async () => {
      // Let the 202 go out before the work starts.
      await nextTurn();
      try {
        const result = await run({
          signal: controller.signal,
          progress: (progress) => {
            view.progress = progress;
            emit();
          },
        });
        view.result = result ?? null;
        view.status =
          controller.signal.aborted && !options.throwsWhenStopped ? 'cancelled' : 'succeeded';
      } catch (error) {
        const aborted =
          controller.signal.aborted || (isAiosError(error) && error.code.endsWith('_ABORTED'));
        view.status = aborted ? 'cancelled' : 'failed';
        const { body } = errorResponse(error, view.id);
        view.error = {
          code: body.error.code,
          message: body.error.message,
          details: body.error.details,
        };
      } finally {
        view.finishedAt = new Date().toISOString();
        emit();
        this.forgetOldJobs(tenantId);
        this.keep();
      }
    })();
    this.jobs.set(view.id, job);
    this.keep();
    return { ...view };
  }

  private find(tenantId: string, id: string): Job {
    const job = this.jobs.get(id);
    if (!job || job.tenantId !== tenantId)
      throw apiError('JOB_NOT_FOUND', `no job ${JSON.stringify(id)}`, { id });
    return job;
  }

  get(tenantId: string, id: string): JobView {
    return { ...this.find(tenantId, id).view };
  }

  /** Newest first. */
  list(tenantId: string): JobView[] {
    return [...this.jobs.values()]
      .filter((job) => job.tenantId === tenantId)
      .map((job) => ({ ...job.view }))
      .reverse();
  }

  /** Asks a running job to stop; a finished one is `JOB_FINISHED`. */
  cancel(tenantId: string, id: string): JobView {
    const job = this.find(tenantId, id);
    if (job.view.status !== 'running') {
      throw apiError('JOB_FINISHED', `job ${id} is over: ${ENDED[job.view.status]}`, {
        id,
        status: job.view.status,
      });
    }
    job.controller.abort(apiError('JOB_CANCELLED', 'cancelled by request'));
    return { ...job.view };
  }

  /** Calls `listener` on every change of the job until it ends; returns the unsubscribe. */
  follow(tenantId: string, id: string, listener: (view: JobView) => void): () => void {
    const job = this.find(tenantId, id);
    listener({ ...job.view });
    if (job.view.status !== 'running') return () => undefined;
    this.events.on(id, listener);
    return () => this.events.off(id, listener);
  }

  /** Tenant `tenantId`'s jobs are cancelled and forgotten (its data is being erased). */
  async cancelTenant(tenantId: string): Promise<void> {
    const jobs = [...this.jobs.values()].filter((job) => job.tenantId === tenantId);
    for (const job of jobs)
      job.controller.abort(apiError('JOB_CANCELLED', 'the tenant is being erased'));
    await Promise.allSettled(jobs.map((job) => job.done));
    for (const job of jobs) this.jobs.delete(job.view.id);
    // The journal keeps nothing of an erased tenant.
    this.keep();
    await this.journal?.flushed();
  }

  running(): number {
    return [...this.jobs.values()].filter((job) => job.view.status === 'running').length;
  }

  /**
   * Stops taking jobs, waits up to `timeoutMs` for the running ones, then cancels what is
   * left and waits for it to stop (what a job stored before it stopped stays stored).
   */
  async drain(timeoutMs: number): Promise<void> {
    this.accepting = false;
    const all = () => Promise.allSettled([...this.jobs.values()].map((job) => job.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      for (const job of this.jobs.values()) {
        if (job.view.status === 'running')
          job.controller.abort(apiError('SHUTTING_DOWN', 'the server is shutting down'));
      }
      await all();
    }
    await this.journal?.flushed();
  }

  private forgetOldJobs(tenantId: string): void {
    const finished = [...this.jobs.values()].filter(
      (job) => job.tenantId === tenantId && job.view.status !== 'running',
    );
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      this.jobs.delete(job.view.id);
    }
  }
}
