import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AuditEntryInput, DataStore } from '@aios/data';
import type { FastifyBaseLogger } from 'fastify';

const MAX_ATTEMPTS = 5;

/**
 * Audit entries of requests are appended in batches, off the request's path: everything
 * recorded in one turn of the event loop, or while an append runs, goes into the next one,
 * a single transaction. `flush()` waits until all that was recorded is stored (reads of the
 * log, and shutdown, call it first).
 */
export class AuditWriter {
  private pending: AuditEntryInput[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: DataStore,
    private readonly log: FastifyBaseLogger,
  ) {}

  record(entry: AuditEntryInput): void {
    this.pending.push({ ...entry, at: entry.at ?? Date.now() });
    this.running ??= this.drain();
  }

  private async drain(): Promise<void> {
    // After the current turn of the event loop: the request that recorded the entry is
    // answered first, and what the requests of the same turn record goes in one transaction.
    await nextTurn();
    let failures = 0;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.store.audit.append(batch);
          failures = 0;
        } catch (error) {
          // The request already got its answer; the failure is logged loudly, and the
          // entries are kept for a few more attempts (a busy or full disk may recover).
          this.log.error({ err: error, entries: batch.length }, 'audit append failed');
          if (++failures >= MAX_ATTEMPTS) continue;
          this.pending = [...batch, ...this.pending];
          await new Promise((resolve) => setTimeout(resolve, 100 * failures));
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  async flush(): Promise<void> {
    while (this.running) await this.running;
  }
}
