import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** Errnos of filesystems that refuse fsync on a directory; a rename there is still atomic. */
const REFUSED = new Set(['EINVAL', 'ENOTSUP', 'EISDIR', 'EPERM', 'EBADF']);

function refused(error: unknown): boolean {
  return REFUSED.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * fsyncs a directory so that a rename, a creation or an unlink in it survives a power
 * loss. A directory that cannot be opened is an error (it should exist: something was
 * just renamed into it); a filesystem that refuses the fsync itself is not. Windows cannot
 * open directories for fsync: there it does nothing.
 */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (!refused(error)) throw error;
  } finally {
    await handle.close();
  }
}

/** `fsyncDir` for synchronous callers. */
export function fsyncDirSync(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!refused(error)) throw error;
  } finally {
    closeSync(fd);
  }
}
