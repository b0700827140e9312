/**
 * One process at a time writes a memory's index files. Processes sharing a home (native
 * ones share its SQLite database) each write the files at their checkpoints; two at once
 * would both take the next generation, and could leave one's vector index beside the
 * other's lexical index and label map, or name files of a state from before an erase. The
 * writer holds an exclusive lease in `<dir>/checkpoint.lock/` (see `acquireLease` in
 * @aios/utils: a killed holder's lease is cleared by the next taker) while it brings its
 * indexes up to date with the store and writes the files.
 */
import { join } from 'node:path';
import { AiosError, acquireLease, exclusiveHolder, type Lease } from '@aios/utils';

export const CHECKPOINT_LOCK_DIR = 'checkpoint.lock';

/** How long a checkpoint that must be written waits for another process's, at most. */
const WAIT_MS = 10 * 60_000;
const POLL_MS = 100;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The lease on writing the index files in `dir`. Another process writing them: undefined
 * at once (`wait` false), or when it is done (`wait` true; `LOCK_BUSY` after `WAIT_MS`).
 */
export async function takeCheckpointLock(dir: string, wait: boolean): Promise<Lease | undefined> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      return await acquireLease('exclusive', {
        dir: join(dir, CHECKPOINT_LOCK_DIR),
        operation: 'writing the index files',
      });
    } catch (error) {
      if (!(error instanceof AiosError) || error.code !== 'LOCK_BUSY') throw error;
      if (!wait) return undefined;
      if (Date.now() >= deadline) throw error;
      await pause(POLL_MS);
    }
  }
}

/** Whether another process is writing the index files in `dir` now (the lease is not taken). */
export async function checkpointBeingWritten(dir: string): Promise<boolean> {
  return (await exclusiveHolder({ dir: join(dir, CHECKPOINT_LOCK_DIR) })) !== undefined;
}
