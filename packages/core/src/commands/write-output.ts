import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { storageError, writeStreamToPath } from '@aios/backup';

/** Whether an export names standard output: no file, or `-`. */
export const toStdout = (file: string | undefined): boolean => !file || file === '-';

/**
 * Writes what an export command makes to `file`, or to standard output when `toStdout`:
 * a regular file atomically, a device or FIFO as it is (`writeStreamToPath`). Returns the
 * path written, undefined for standard output.
 */
export async function writeOutput(
  make: () => Promise<NodeJS.ReadableStream> | NodeJS.ReadableStream,
  file: string | undefined,
): Promise<string | undefined> {
  if (toStdout(file)) {
    try {
      await pipeline(await make(), process.stdout, { end: false });
    } catch (error) {
      throw storageError(error, 'stdout');
    }
    return undefined;
  }
  const target = resolve(file as string);
  await writeStreamToPath(await make(), target);
  return target;
}
