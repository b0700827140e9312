import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AiosError } from '@aios/utils';
import { storageError } from './errors.js';

export function randomHex(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

/** fsync a directory so that a rename or unlink in it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to `target` atomically: a temp file in `tmpDir`, fsync, rename over the
 * target, fsync of the target's directory. A crash leaves the old file or the new one,
 * never a torn one (a stray temp file at worst, which the next locked operation removes).
 */
export async function atomicWrite(tmpDir: string, target: string, data: Uint8Array | string) {
  const tmp = join(tmpDir, `${randomHex()}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await mkdir(dirname(target), { recursive: true });
  await rename(tmp, target);
  await fsyncDir(dirname(target));
}

/** Removes a file and makes the removal durable; a missing file is fine. */
export async function removeDurably(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw storageError(error, path);
  }
  await fsyncDir(dirname(path));
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw storageError(error, dir);
  }
}

export async function clearDir(dir: string): Promise<void> {
  for (const name of await listDir(dir))
    await rm(join(dir, name), { force: true, recursive: true });
}

/** Reads a repository JSON file; unparseable content is `REPO_CORRUPT`. */
export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw storageError(error, path);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AiosError('REPO_CORRUPT', `${path}: not valid JSON`, {
      cause: error,
      details: { path },
    });
  }
}
