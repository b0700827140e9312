/**
 * A database write that fails for want of space, or on a read-only filesystem, is reported
 * as `IO_DISK_FULL` or `IO_READ_ONLY` naming the database, whichever implementation ran
 * it. SQLite often cannot tell: a write that fails while the WAL grows is `disk I/O
 * error`, and the WebAssembly build's VFS drops the errno altogether. So an I/O failure is
 * judged by the filesystem that holds the database, looked at when it happens.
 */
import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { AiosError, diskFull, readOnly } from '@aios/utils';
import type { SqlDriver } from './driver.js';

/**
 * Below this many free bytes, a failed write is put down to the full disk: SQLite's next
 * write (a WAL frame, a page of the shared-memory index) may need as much.
 */
const NEARLY_FULL_BYTES = 1024 * 1024;

/** An SQLite failure that may be the filesystem's: a failed read or write, a refused open. */
function mayBeTheDisk(error: AiosError): boolean {
  switch (error.code) {
    case 'IO_ERROR':
    case 'IO_DISK_FULL':
    case 'DATA_READ_ONLY':
    case 'DATA_CANNOT_OPEN':
      return true;
    case 'DATA_SQLITE':
      return /disk I\/O error|database or disk is full|unable to open/i.test(error.message);
    default:
      return false;
  }
}

function freeBytes(dir: string): number | undefined {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

function onReadOnlyFilesystem(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/**
 * `error` as `IO_DISK_FULL` or `IO_READ_ONLY` naming the database at `path` when the
 * filesystem holding it is full or read-only; otherwise as it is.
 */
export function diskErrorOf(error: unknown, path: string): unknown {
  if (!(error instanceof AiosError) || !mayBeTheDisk(error)) return error;
  const dir = dirname(path);
  const reason = `writing the database: ${error.message}`;
  const free = freeBytes(dir);
  if (error.code === 'IO_DISK_FULL' || (free !== undefined && free < NEARLY_FULL_BYTES)) {
    return diskFull(path, reason, error);
  }
  if (onReadOnlyFilesystem(dir)) return readOnly(path, reason, error);
  return error;
}

/** Runs `run`, its failure (thrown, or of the promise it returns) passed through `map`. */
function guarded<T>(run: () => T, map: (error: unknown) => unknown): T {
  let result: T;
  try {
    result = run();
  } catch (error) {
    throw map(error);
  }
  if (result instanceof Promise) {
    return result.catch((error: unknown) => {
      throw map(error);
    }) as T;
  }
  return result;
}

/** `driver` with the failure of each call passed through `map`. */
export function mapDriverErrors(driver: SqlDriver, map: (error: unknown) => unknown): SqlDriver {
  const wrapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(driver)) {
    wrapped[key] =
      typeof value === 'function'
        ? (...args: unknown[]) => guarded(() => value.apply(driver, args), map)
        : value;
  }
  return wrapped as unknown as SqlDriver;
}

/** `driver` with the failures of each call judged by `diskErrorOf`. */
export function withDiskErrors(driver: SqlDriver, path: string): SqlDriver {
  return mapDriverErrors(driver, (error) => diskErrorOf(error, path));
}

/** Runs `open` (a driver's opening), its failure judged by `diskErrorOf`. */
export function openWithDiskErrors(open: () => SqlDriver, path: string): SqlDriver {
  return withDiskErrors(
    guarded(
      () => open(),
      (error) => diskErrorOf(error, path),
    ),
    path,
  );
}
