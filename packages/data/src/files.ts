import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { AiosError, fromNodeIoError, fsyncDirSync, invalidInput, tempFileFor } from '@aios/utils';

/**
 * Writes a consistent copy of the open database to `path` with `VACUUM INTO` (one read
 * transaction, so concurrent writers neither block it nor tear it; the copy is compacted
 * and has no WAL), then moves it into place atomically like `atomicWriteFile` (@aios/utils).
 */
export async function snapshotDatabase(
  exec: (sql: string) => unknown,
  path: string,
): Promise<{ path: string; bytes: number }> {
  if (typeof path !== 'string' || path === '' || path === ':memory:' || path.includes('\0')) {
    throw invalidInput('path', path, 'a file path for the copy');
  }
  const dir = dirname(path);
  const temp = tempFileFor(path);
  try {
    // A literal, not a bound parameter: a failed VACUUM must not leave a cached statement.
    await exec(`VACUUM INTO '${temp.replaceAll("'", "''")}'`);
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
  try {
    fsyncDirSync(dir);
  } catch (error) {
    throw fromNodeIoError(error, dir);
  }
  return { path, bytes: statSync(path).size };
}
