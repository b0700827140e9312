/**
 * The repository's locks, on the lease protocol of @aios/utils: mutating operations hold
 * the exclusive `locks/lock.json`, readers each hold a shared `locks/read-<token>.json`.
 * Holders of dead processes on this host (a crash, SIGKILL) are stale and cleared.
 */
import { join } from 'node:path';
import { AiosError, acquireLease, isAiosError, type LockHolder } from '@aios/utils';

/** Operations that delete pack data: readers must not overlap them. */
const DESTRUCTIVE = new Set(['prune']);

const layout = (repo: string) => ({
  dir: join(repo, 'locks'),
  exclusiveName: 'lock.json',
  sharedPrefix: 'read-',
});

const since = (holder: LockHolder) =>
  `pid ${holder.pid} on ${holder.hostname}, since ${holder.time}`;

/**
 * Takes the repository's exclusive lock for a mutating operation; another writer gives
 * `REPO_LOCKED`. An operation that deletes pack data (prune) also refuses to start while
 * a live reader holds its lock. Returns the release function.
 */
export async function acquireLock(repo: string, operation: string): Promise<() => Promise<void>> {
  const lease = await acquireLease('exclusive', {
    ...layout(repo),
    operation,
    conflicts: () => DESTRUCTIVE.has(operation),
    busy: (holder, holds) =>
      new AiosError(
        'REPO_LOCKED',
        holds === 'exclusive'
          ? `repository ${repo} is locked by ${holder.operation} (${since(holder)})`
          : `repository ${repo} is being read by ${holder.operation} (${since(holder)}); ${operation} must wait for it`,
        { details: { repo, holder } },
      ),
  });
  return () => lease.release();
}

/**
 * Takes a shared lock for an operation that reads pack data (restore, export, verify).
 * Any number of readers and writers that only add data (backup, forget) may overlap; an
 * operation that deletes pack data (prune) may not: a reader finding one running gets
 * `REPO_LOCKED`. Returns the release function.
 */
export async function acquireReadLock(
  repo: string,
  operation: string,
): Promise<() => Promise<void>> {
  let lease: Awaited<ReturnType<typeof acquireLease>>;
  try {
    lease = await acquireLease('shared', {
      ...layout(repo),
      operation,
      conflicts: (holder) => DESTRUCTIVE.has(holder.operation),
      busy: (holder) =>
        new AiosError(
          'REPO_LOCKED',
          `repository ${repo} is locked by ${holder.operation} (${since(holder)}); ${operation} must wait for it`,
          { details: { repo, holder } },
        ),
    });
  } catch (error) {
    // A repository on a read-only filesystem (a write-protected disk, an archived copy) is
    // read without a lock: no prune can delete its packs through this mount, and a chunk
    // that vanished through another one would fail its read, never restore wrong bytes.
    if (isAiosError(error, 'IO_READ_ONLY')) return async () => undefined;
    throw error;
  }
  return () => lease.release();
}
