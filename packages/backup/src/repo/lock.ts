import { link, readFile, unlink, writeFile } from 'node:fs/promises';
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
