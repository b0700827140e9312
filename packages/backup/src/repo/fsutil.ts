import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AiosError, atomicWriteFile, fsyncDir } from '@aios/utils';
import { storageError } from './errors.js';

export function randomHex(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * Writes `data` to `target` atomically with `atomicWriteFile` from @aios/utils, the
 * temporary file in `tmpDir` (the repository's `tmp/`, which the next locked operation
 * clears, so a writer killed mid-way leaves nothing elsewhere). The target's directory is
 * created when missing.
 */
export function atomicWrite(tmpDir: string, target: string, data: Uint8Array | string) {
  return atomicWriteFile(target, data, { tempDir: tmpDir, createDirectory: true });
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
