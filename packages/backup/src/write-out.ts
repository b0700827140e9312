import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AiosError, atomicWriteFile } from '@aios/utils';
import { storageError } from './repo/errors.js';

/** How `writeStreamToPath` wrote: `atomic` (a regular file) or `streamed` (a device, a FIFO). */
export type WriteMode = 'atomic' | 'streamed';

/**
 * Writes a stream (a tar export) to `path`. A regular file (or a new one) is written
 * atomically: a temp file beside it, fsynced, renamed over it, so a failure leaves the old
 * file or none. A character device or FIFO is written to as it is (a temp file renamed over
 * it would replace the device node). A directory, a socket or a missing parent directory
 * is refused with a coded error; a full disk is `IO_DISK_FULL`.
 */
export async function writeStreamToPath(
  stream: NodeJS.ReadableStream,
  path: string,
): Promise<WriteMode> {
  let existing: Awaited<ReturnType<typeof stat>> | undefined;
  try {
    existing = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(error, path);
  }
  const refuse = (code: string, why: string) => {
    (stream as Readable).destroy?.();
    return new AiosError(code, `${path}: ${why}`, { details: { path } });
  };
  if (existing?.isDirectory()) throw refuse('IO_NOT_A_FILE', 'is a directory');
  if (existing && (existing.isCharacterDevice() || existing.isFIFO())) {
    try {
      await pipeline(stream, createWriteStream(path, { flags: 'w' }));
    } catch (error) {
      throw storageError(error, path);
    }
    return 'streamed';
  }
  if (existing && !existing.isFile()) {
    throw refuse('IO_NOT_A_FILE', 'is neither a regular file, a character device nor a FIFO');
  }
  const dir = dirname(path);
  try {
    if (!(await stat(dir)).isDirectory()) throw refuse('IO_NOT_FOUND', `${dir} is not a directory`);
  } catch (error) {
    if (error instanceof AiosError) throw error;
    (stream as Readable).destroy?.();
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AiosError('IO_NOT_FOUND', `${path}: the directory ${dir} does not exist`, {
        details: { path },
      });
    }
    throw storageError(error, dir);
  }
  try {
    await atomicWriteFile(path, stream as AsyncIterable<string | Uint8Array>);
  } catch (error) {
    throw storageError(error, path);
  }
  return 'atomic';
}
