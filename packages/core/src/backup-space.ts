import { statfs } from 'node:fs/promises';
import { AiosError, isAiosError } from '@aios/utils';

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/**
 * A restore that ran out of space says how much it needs: it writes every file of the
 * snapshot (`bytes`) beside what it replaces before anything is swapped in, so freeing
 * "some space" is not enough when the home itself takes most of the disk. Any other error
 * is returned as it is.
 */
export async function restoreSpaceError(error: unknown, dir: string, bytes: number) {
  if (!isAiosError(error, 'IO_DISK_FULL')) return error;
  const free = await statfs(dir)
    .then((s) => Number(s.bavail) * Number(s.bsize))
    .catch(() => undefined);
  const now = free === undefined ? '' : ` (${mib(free)} free now)`;
  return new AiosError(
    'IO_DISK_FULL',
    `${error.message}; the restore writes the snapshot's ${mib(bytes)} in ${dir} before it replaces anything, and needs that much free there${now}`,
    {
      cause: error,
      details: { ...error.details, needed: bytes, ...(free === undefined ? {} : { free }) },
    },
  );
}
