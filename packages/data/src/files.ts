import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AiosError, fromNodeIoError, invalidInput } from '@aios/utils';

export type FileChunks =
  | string
  | Uint8Array
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>;

function writeAll(fd: number, chunk: string | Uint8Array): void {
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  let offset = 0;
  while (offset < bytes.byteLength) {
    offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
  }
}

function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on a directory; the rename itself is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes a file so that readers (and a crash at any moment) see either the old content
 * or the new one, never a part: a temporary file in the same directory, fsync, rename
 * over the target, fsync of the directory.
 */
export async function atomicWriteFile(path: string, data: FileChunks): Promise<void> {
  if (typeof path !== 'string' || path === '') {
    throw invalidInput('path', path, 'a non-empty file path');
  }
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o644);
    if (typeof data === 'string' || data instanceof Uint8Array) {
      writeAll(fd, data);
    } else if (Symbol.asyncIterator in data) {
      for await (const chunk of data) writeAll(fd, chunk);
    } else {
      for (const chunk of data) writeAll(fd, chunk);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw fromNodeIoError(error, path);
  }
  syncDirectory(dir);
}

/**
 * Writes a consistent copy of the open database to `path` with `VACUUM INTO` (one read
 * transaction, so concurrent writers neither block it nor tear it; the copy is compacted
 * and has no WAL), then moves it into place atomically like `atomicWriteFile`.
 */
export function snapshotDatabase(
  exec: (sql: string) => void,
  path: string,
): { path: string; bytes: number } {
  if (typeof path !== 'string' || path === '' || path === ':memory:' || path.includes('\0')) {
    throw invalidInput('path', path, 'a file path for the copy');
  }
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // A literal, not a bound parameter: a failed VACUUM must not leave a cached statement.
    exec(`VACUUM INTO '${temp.replaceAll("'", "''")}'`);
    const fd = openSync(temp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    if (error instanceof AiosError) throw error; // from SQLite, already coded
    throw fromNodeIoError(error, path);
  }
  syncDirectory(dir);
  return { path, bytes: statSync(path).size };
}
