import type { BigIntStats } from 'node:fs';
import { lstat, opendir, readlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { AiosError, fromNodeIoError } from '@aios/utils';
import ignore from 'ignore';
import type { BackupWarning, EntryType } from '../format.js';

export interface WalkItem {
  abs: string;
  /** Snapshot path: the absolute path, `/`-separated, without its leading `/`. */
  path: string;
  type: EntryType;
  stats: BigIntStats;
  target?: string;
}

export function snapshotPath(abs: string): string {
  const posix = sep === '/' ? abs : abs.split(sep).join('/');
  return posix.replace(/^[a-zA-Z]:/, '').replace(/^\/+/, '');
}

function warn(warnings: BackupWarning[], path: string, error: unknown): void {
  const e = fromNodeIoError(error, path);
  warnings.push({ path, code: e.code, message: e.message });
}

/**
 * Lists every directory, regular file and symlink under the roots, skipping what the
 * gitignore-style `excludes` match (relative to each root). Special files (fifos, sockets,
 * devices) and unreadable directories are reported in `warnings`, never fatal.
 */
export async function walk(
  roots: string[],
  excludes: string[],
  warnings: BackupWarning[],
  signal?: AbortSignal,
): Promise<WalkItem[]> {
  const items = new Map<string, WalkItem>();
  for (const root of roots.map((r) => resolve(r))) {
    const matcher = ignore().add(excludes);
    const visit = async (abs: string, rel: string): Promise<void> => {
      if (signal?.aborted) throw new AiosError('ABORTED', 'backup cancelled');
      let stats: BigIntStats;
      try {
        stats = await lstat(abs, { bigint: true });
      } catch (error) {
        warn(warnings, abs, error);
        return;
      }
      const isDir = stats.isDirectory();
      if (rel !== '' && matcher.ignores(isDir ? `${rel}/` : rel)) return;
      const path = snapshotPath(abs);
      if (isDir) {
        items.set(path, { abs, path, type: 'dir', stats });
        let names: string[];
        try {
          const dir = await opendir(abs);
          names = [];
          for await (const d of dir) names.push(d.name);
        } catch (error) {
          warn(warnings, abs, error);
          return;
        }
        names.sort();
        for (const name of names)
          await visit(join(abs, name), rel === '' ? name : `${rel}/${name}`);
      } else if (stats.isFile()) {
        items.set(path, { abs, path, type: 'file', stats });
      } else if (stats.isSymbolicLink()) {
        try {
          items.set(path, { abs, path, type: 'symlink', stats, target: await readlink(abs) });
        } catch (error) {
          warn(warnings, abs, error);
        }
      } else {
        const kind = stats.isFIFO()
          ? 'a fifo'
          : stats.isSocket()
            ? 'a socket'
            : stats.isBlockDevice() || stats.isCharacterDevice()
              ? 'a device'
              : 'not a regular file';
        warnings.push({
          path: abs,
          code: 'SPECIAL_FILE',
          message: `${abs}: ${kind}, not backed up`,
        });
      }
    };
    await visit(root, '');
  }
  return [...items.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
