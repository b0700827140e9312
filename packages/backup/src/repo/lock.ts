import { link, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AiosError, fromNodeIoError } from '@aios/utils';
import { fsyncDir, randomHex } from './fsutil.js';

interface LockInfo {
  pid: number;
  hostname: string;
  operation: string;
  time: string;
}

/** Operations that delete pack data: readers must not overlap them. */
const DESTRUCTIVE = new Set(['prune']);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the repository's exclusive lock (`locks/lock.json`) for a mutating operation.
 * The lock file is created complete and atomically (written aside, then hard-linked into
 * place, which fails if it exists). A lock left by a dead process on this host (a crash,
 * SIGKILL) is stale and is taken over; any other holder gives `REPO_LOCKED`.
 * Returns the release function.
 */
export async function acquireLock(repo: string, operation: string): Promise<() => Promise<void>> {
  const lockPath = join(repo, 'locks', 'lock.json');
  const release = await takeExclusive(repo, lockPath, operation);
  if (DESTRUCTIVE.has(operation)) {
    // Readers announce themselves before they look at lock.json, and this looks at them
    // after taking it: one of the two always sees the other.
    try {
      await refuseLiveReaders(repo, operation);
    } catch (error) {
      await release();
      throw error;
    }
  }
  return release;
}

async function takeExclusive(
  repo: string,
  lockPath: string,
  operation: string,
): Promise<() => Promise<void>> {
  const info: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    operation,
    time: new Date().toISOString(),
  };
  const tmp = join(repo, 'locks', `${randomHex()}.tmp`);
  await writeFile(tmp, JSON.stringify(info));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, lockPath);
        await fsyncDir(join(repo, 'locks'));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
          throw fromNodeIoError(error, lockPath);
      }
      let holder: LockInfo | undefined;
      try {
        holder = JSON.parse(await readFile(lockPath, 'utf8')) as LockInfo;
      } catch {
        holder = undefined; // vanished or unreadable: retry
      }
      const stale = holder && holder.hostname === info.hostname && !alive(holder.pid);
      if (stale) {
        await unlink(lockPath).catch(() => undefined);
      } else if (holder && attempt >= 1) {
        throw new AiosError(
          'REPO_LOCKED',
          `repository ${repo} is locked by ${holder.operation} (pid ${holder.pid} on ${holder.hostname}, since ${holder.time})`,
          { details: { repo, holder } },
        );
      }
      if (attempt > 5) {
        throw new AiosError('REPO_LOCKED', `repository ${repo}: could not take the lock`, {
          details: { repo },
        });
      }
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await unlink(lockPath).catch(() => undefined);
  };
}

function isStale(holder: LockInfo): boolean {
  return holder.hostname === hostname() && !alive(holder.pid);
}

async function readHolder(path: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockInfo;
  } catch {
    return undefined; // vanished, or being written
  }
}

async function refuseLiveReaders(repo: string, operation: string): Promise<void> {
  const dir = join(repo, 'locks');
  for (const name of await readdir(dir)) {
    if (!name.startsWith('read-') || !name.endsWith('.json')) continue;
    const holder = await readHolder(join(dir, name));
    if (!holder) continue;
    if (isStale(holder)) {
      await unlink(join(dir, name)).catch(() => undefined);
      continue;
    }
    throw new AiosError(
      'REPO_LOCKED',
      `repository ${repo} is being read by ${holder.operation} (pid ${holder.pid} on ${holder.hostname}, since ${holder.time}); ${operation} must wait for it`,
      { details: { repo, holder } },
    );
  }
}

/**
 * Takes a shared lock (`locks/read-<random>.json`) for an operation that reads pack data
 * (restore, export, verify). Any number of readers and writers that only add data
 * (backup, forget) may overlap; an operation that deletes pack data (prune) may not:
 * a reader finding one running gets `REPO_LOCKED`, and prune refuses to start while a
 * live reader holds its lock. Returns the release function.
 */
export async function acquireReadLock(
  repo: string,
  operation: string,
): Promise<() => Promise<void>> {
  const dir = join(repo, 'locks');
  const info: LockInfo = {
    pid: process.pid,
    hostname: hostname(),
    operation,
    time: new Date().toISOString(),
  };
  const path = join(dir, `read-${randomHex()}.json`);
  const tmp = `${path}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(info));
    await rename(tmp, path);
    await fsyncDir(dir);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw fromNodeIoError(error, path);
  }
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await unlink(path).catch(() => undefined);
  };
  const holder = await readHolder(join(dir, 'lock.json'));
  if (holder && DESTRUCTIVE.has(holder.operation) && !isStale(holder)) {
    await release();
    throw new AiosError(
      'REPO_LOCKED',
      `repository ${repo} is locked by ${holder.operation} (pid ${holder.pid} on ${holder.hostname}, since ${holder.time}); ${operation} must wait for it`,
      { details: { repo, holder } },
    );
  }
  return release;
}
