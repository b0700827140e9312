/**
 * Opening a store to read only: the database of a folder this process cannot write (a
 * home on a filesystem mounted read-only, a restored copy on read-only media, another
 * user's home it may read). Nothing is written to the folder, not even a lease: the
 * database is opened read-only by SQLite's rules for a WAL database it cannot write
 * (`ReadOnlyAccess`), nothing is migrated (a database that needs it is refused), and every
 * write fails with `IO_READ_ONLY`, saying that nothing was changed.
 *
 * How a store finds it cannot write (`readOnly: 'auto'`, the default): by trying. Its first
 * write is its lease (lock.ts), and one that fails with EROFS, EACCES or EPERM means the
 * folder cannot be written; the database file is looked at first (`access(2)`), so that a
 * file this user may not write in a folder it may is opened read-only without a lease
 * written first. Trying is the one test that cannot disagree with the writes to come.
 * Asking up front can: `access(2)` on the folder answers for the real user rather than the
 * effective one, and on NFS the client answers, not the server (root squashing refuses
 * root what the client allows); `statvfs`'s read-only flag knows nothing of permissions,
 * ACLs or an immutable attribute; and either answers for a moment that may have passed by
 * the time the lease is written. The lease write fails before anything exists, and leaves
 * nothing behind (acquireLease removes what it wrote).
 *
 * What taking no lease leaves guaranteed:
 * - on a read-only filesystem no writer works through this mount; one working through
 *   another, writable mount of the same files (a read-only bind mount of a home in use) is
 *   like the next case;
 * - in a folder this user may not write, its owner may write the database meanwhile. Its
 *   lease can still be read: a live exclusive holder (a js store, a restore, a repair)
 *   makes the open `DATA_BUSY`, and for a js store, which reads without any lock, so does
 *   any live holder. A native store beside live native writers reads
 *   through their `-shm` with SQLite's shared locks (`shared-index`), which keeps every
 *   read consistent. One opened `immutable` (no WAL with frames when it opened) takes no
 *   lock: a writer that starts afterwards writes to a new WAL, which the store does not
 *   see, and only a checkpoint of that writer (16 MiB of WAL, or its close) rewrites pages
 *   under it. A read-only store is for reading a home nobody writes; one whose owner
 *   writes it may show a read an older state, or, in that rare window, fail with
 *   `DATA_CORRUPT` (run again).
 */
import { accessSync, constants } from 'node:fs';
import { basename, dirname } from 'node:path';
import {
  AiosError,
  describeHolder,
  describeReadOnlyCause,
  ErrorCode,
  leaseHolders,
  type ReadOnlyCause,
  readOnlyCauseOf,
  readOnlyRefusal,
} from '@aios/utils';
import { mapDriverErrors } from './disk-errors.js';
import type { SqlDriver } from './driver.js';
import { DataErrorCode, dataError } from './errors.js';
import { databaseLockDir } from './lock.js';

/**
 * Why the database file at `path` cannot be written by this process, when it exists and
 * cannot; undefined otherwise (no file, or one it may write).
 */
export function unwritableDatabase(path: string): 'filesystem' | 'permissions' | undefined {
  try {
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (error) {
    return readOnlyCauseOf(error);
  }
}

/**
 * Fails with `DATA_BUSY` when a live process holds the database at `path` in a way that a
 * store reading it without a lock cannot follow: an exclusive holder (a js store, a
 * restore, a repair), or, for the js implementation (which reads without any lock), any
 * holder. Reads the lease only: stale files are not cleared.
 */
export async function refuseWriters(path: string, js: boolean): Promise<void> {
  const holders = await leaseHolders({ dir: databaseLockDir(path) });
  const writer = holders.exclusive ?? (js ? holders.shared[0] : undefined);
  if (!writer) return;
  throw dataError(
    DataErrorCode.DATA_BUSY,
    `${basename(path)} is in use by ${describeHolder(writer)}, and cannot be read without a lock of its own, which the read-only ${dirname(path)} cannot take`,
    {
      details: {
        path,
        pid: writer.pid,
        operation: writer.operation,
        hostname: writer.hostname,
        since: writer.time,
      },
    },
  );
}

/** The error of a read-only folder with no database in it to read (`error`: the open's). */
export function noDatabase(path: string, cause: ReadOnlyCause, error: unknown): unknown {
  if (cause === 'asked') return error;
  return readOnlyRefusal(
    dirname(path),
    'the folder of the database',
    cause,
    `there is no database in it to read (${path}), and making one`,
    error,
  );
}

/**
 * `driver` (open to read only) with SQLite's refusal of a write, `DATA_READ_ONLY`, as
 * `IO_READ_ONLY` naming the database, why it is read-only and that nothing was changed.
 */
export function refusingWrites(driver: SqlDriver, path: string, cause: ReadOnlyCause): SqlDriver {
  return mapDriverErrors(driver, (error) => readOnlyError(error, path, cause));
}

/**
 * `error` as a read-only store reports it: SQLite's refusal of a write (`DATA_READ_ONLY`)
 * as `IO_READ_ONLY` (see `refusingWrites`), and an `IO_READ_ONLY` of the open (a migration
 * or a rollback that would write) with why the database is read-only.
 */
export function readOnlyError(error: unknown, path: string, cause: ReadOnlyCause): unknown {
  if (!(error instanceof AiosError)) return error;
  if (error.code === 'DATA_READ_ONLY') {
    return readOnlyRefusal(path, 'the database', cause, 'writing it', error);
  }
  if (error.code === ErrorCode.IO_READ_ONLY && error.details?.readOnly === undefined) {
    return new AiosError(
      ErrorCode.IO_READ_ONLY,
      `${error.message} (the database is read-only: ${describeReadOnlyCause(cause)}); nothing was changed`,
      { cause: error, details: { ...error.details, path, readOnly: cause } },
    );
  }
  return error;
}
