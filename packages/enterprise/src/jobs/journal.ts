import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile, isAiosError } from '@aios/utils';
import type { FastifyBaseLogger } from 'fastify';
import type { JobView } from './registry.js';

/** A job as the journal keeps it: its view and whose it is. */
export interface JournalEntry {
  tenantId: string;
  view: JobView;
}

/** A result bigger than this (an ingest of thousands of files) is not kept across restarts. */
const MAX_KEPT_RESULT_CHARS = 64 * 1024;

/** The file, in the server's home, that the jobs are kept in. */
export const JOURNAL_FILE = 'jobs.json';

/**
 * The jobs of a server, kept in a file of its home, so that a client asking about its job
 * after the server restarted still learns how it ended. It is written when a job starts
 * and when it ends (not on each step of progress), the whole file at once (atomically),
 * one write at a time. A job that was running when the server stopped without finishing
 * it (a crash, a kill) is read back as failed with `JOB_INTERRUPTED`. A home that cannot
 * be written (full, read-only) costs only this memory of jobs: the jobs themselves run.
 */
export class JobJournal {
  private readonly path: string;
  private writing: Promise<void> = Promise.resolve();
  private pending: (() => JournalEntry[]) | undefined;
  private warned = false;

  constructor(
    home: string,
    private readonly log: FastifyBaseLogger,
  ) {
    this.path = join(home, JOURNAL_FILE);
  }

  /** The jobs the file holds; those it left running ended with the process before this one. */
  load(): JournalEntry[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.warn(error);
      return [];
    }
    let entries: unknown;
    try {
      entries = JSON.parse(text);
    } catch (error) {
      this.warn(error);
      return [];
    }
    if (!Array.isArray(entries)) return [];
    return entries.filter(isEntry).map(({ tenantId, view }) =>
      view.status === 'running'
        ? {
            tenantId,
            view: {
              ...view,
              status: 'failed' as const,
              error: {
                code: 'JOB_INTERRUPTED',
                message:
                  'the server stopped while the job ran; what it had done before stays done (run it again to finish it)',
                details: {},
              },
              finishedAt: view.finishedAt ?? new Date().toISOString(),
            },
          }
        : { tenantId, view },
    );
  }

  /** Writes the jobs `entries` gives, after the write under way (only the latest waits). */
  save(entries: () => JournalEntry[]): Promise<void> {
    const first = this.pending === undefined;
    this.pending = entries;
    if (first) {
      this.writing = this.writing.then(async () => {
        const take = this.pending;
        this.pending = undefined;
        if (take) await this.write(take());
      });
    }
    return this.writing;
  }

  /** Resolves once what was saved so far is on disk. */
  flushed(): Promise<void> {
    return this.writing;
  }

  private async write(entries: JournalEntry[]): Promise<void> {
    const kept = entries.map(({ tenantId, view }) => ({
      tenantId,
      view: { ...view, result: small(view.result) },
    }));
    try {
      await atomicWriteFile(this.path, JSON.stringify(kept));
      this.warned = false;
    } catch (error) {
      this.warn(error);
    }
  }

  private warn(error: unknown): void {
    if (this.warned) return;
    this.warned = true;
    const reason = isAiosError(error) ? error.message : String(error);
    this.log.warn({ path: this.path, reason }, 'the jobs could not be kept across restarts');
  }
}

function small(result: unknown): unknown {
  const text = JSON.stringify(result ?? null);
  return text.length <= MAX_KEPT_RESULT_CHARS ? result : null;
}

function isEntry(value: unknown): value is JournalEntry {
  if (typeof value !== 'object' || value === null) return false;
  const { tenantId, view } = value as Partial<JournalEntry>;
  return (
    typeof tenantId === 'string' &&
    typeof view === 'object' &&
    view !== null &&
    typeof view.id === 'string' &&
    typeof view.kind === 'string' &&
    ['running', 'succeeded', 'failed', 'cancelled'].includes(view.status) &&
    typeof view.createdAt === 'string'
  );
}
