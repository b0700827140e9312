import { AiosError, fromNodeIoError } from '@aios/utils';

/** Error codes of a storage failure that are not `IO_ERROR` (kept for the package's users). */
export const StorageErrorCode = {
  /** The device is full (ENOSPC) or a quota is exhausted (EDQUOT). */
  IO_DISK_FULL: 'IO_DISK_FULL',
  /** The filesystem is mounted read-only (EROFS). */
  IO_READ_ONLY: 'IO_READ_ONLY',
} as const;

function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * Turns a Node.js system error into an `AiosError` with a stable code, as
 * `fromNodeIoError` names it (a full disk `IO_DISK_FULL`, a read-only filesystem
 * `IO_READ_ONLY`), named after `path`, else its own file, else the repository. An
 * `AiosError` passes through unchanged.
 */
export function storageError(error: unknown, path?: string): AiosError {
  if (error instanceof AiosError) return error;
  const where = path ?? (error as NodeJS.ErrnoException | undefined)?.path ?? 'repository';
  return fromNodeIoError(error, where);
}

/**
 * Runs an operation and reports any system error it throws as an `AiosError` (see
 * `storageError`), named after its file or else `path`. Errors that are neither
 * (programming errors) pass through unchanged.
 */
export async function withStorageErrors<T>(run: () => Promise<T>, path?: string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AiosError || errnoOf(error) !== undefined) {
      // A system error names its file when it has one; else the operation's place.
      const where = (error as NodeJS.ErrnoException).path === undefined ? path : undefined;
      throw storageError(error, where);
    }
    throw error;
  }
}
