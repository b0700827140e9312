import { AiosError, fromNodeIoError } from '@aios/utils';

/** Error codes for storage failures that `fromNodeIoError` would call `IO_ERROR`. */
export const StorageErrorCode = {
  /** The device is full (ENOSPC) or a quota is exhausted (EDQUOT). */
  IO_DISK_FULL: 'IO_DISK_FULL',
  /** The filesystem is mounted read-only (EROFS). */
  IO_READ_ONLY: 'IO_READ_ONLY',
} as const;

/** The errnos that have a code of their own here. */
const SPECIFIC = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

function pathOf(error: AiosError): string | undefined {
  const path = error.details?.path;
  return typeof path === 'string' ? path : undefined;
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * Turns a Node.js system error into an `AiosError` with a stable code: a full disk
 * (`IO_DISK_FULL`) and a read-only filesystem (`IO_READ_ONLY`) are named as such, the rest
 * as `fromNodeIoError` names them. An `AiosError` passes through unchanged.
 */
export function storageError(error: unknown, path?: string): AiosError {
  if (error instanceof AiosError) {
    // `fromNodeIoError` (used by shared helpers) calls a full or read-only disk IO_ERROR.
    const refined = error.code === 'IO_ERROR' && SPECIFIC.has(errnoOf(error.cause) ?? '');
    return refined ? storageError(error.cause, pathOf(error) ?? path) : error;
  }
  const errno = errnoOf(error);
  const where = path ?? (error as NodeJS.ErrnoException | undefined)?.path ?? 'repository';
  const reason = error instanceof Error ? error.message : String(error);
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    return new AiosError(
      StorageErrorCode.IO_DISK_FULL,
      `${where}: no space left on the device (${reason}); free some space and try again`,
      { cause: error, details: { path: where } },
    );
  }
  if (errno === 'EROFS') {
    return new AiosError(
      StorageErrorCode.IO_READ_ONLY,
      `${where}: the filesystem is read-only (${reason})`,
      { cause: error, details: { path: where } },
    );
  }
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
