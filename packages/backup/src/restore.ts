import {
  chmod,
  lstat,
  lutimes,
  mkdir,
  open,
  realpath,
  rename,
  rm,
  symlink,
  unlink,
  utimes,
} from 'node:fs/promises';
import { join } from 'node:path';
import { AiosError, invalidInput } from '@aios/utils';
import { assertSafeTree, type BackupWarning, type Entry, type SnapshotFile } from './format.js';
import type { ChunkSource } from './repo/chunk-reader.js';
import { storageError } from './repo/errors.js';
import { randomHex } from './repo/fsutil.js';
import { snapshotPath } from './repo/walk.js';
import { type Decoded, fileChunks, mtimeOf, READ_BATCH_BYTES, select } from './snapshot-read.js';

export interface RestoreOptions {
  /** gitignore-style patterns of snapshot paths to restore (a directory brings its contents). */
  include?: string[];
  /**
   * An absolute source path of a directory in the snapshot (one of its `paths`, or below
   * one): its contents are restored straight under the target, without the path above
   * them (`/home/me` restored to `/tmp/t` gives `/tmp/t/notes`, not `/tmp/t/home/me/notes`).
   */
  root?: string;
  signal?: AbortSignal;
  onProgress?: (progress: {
    filesDone: number;
    filesTotal: number;
    bytesDone: number;
    bytesTotal: number;
  }) => void;
}

export interface RestoreResult {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  /** Files that could not be restored (a damaged or missing chunk...); the rest were. */
  errors: BackupWarning[];
}

/** Small files are read and decoded many at a time (one engine call per batch). */
const SMALL_FILE = 4 * 1024 * 1024;
const SMALL_BATCH_FILES = 512;
/** Small files written concurrently (the libuv pool does the syscalls). */
const WRITERS = 8;

/**
 * The entries below the directory `root` (an absolute source path), with paths relative to
 * it. `INVALID_INPUT` when the snapshot has no directory there.
 */
function below(entries: Entry[], root: string | undefined, snapshotId: string): Entry[] {
  if (root === undefined) return entries;
  if (typeof root !== 'string' || root === '') {
    throw invalidInput('options.root', root, 'an absolute path of a directory in the snapshot');
  }
  const prefix = snapshotPath(root).replace(/\/+$/, '');
  if (prefix === '') return entries;
  const self = entries.find((e) => e.path === prefix);
  if (self?.type !== 'dir') {
    throw new AiosError(
      'INVALID_INPUT',
      `snapshot ${snapshotId.slice(0, 12)} has no directory ${root}${self ? ` (it is a ${self.type})` : ''}`,
      { details: { snapshot: snapshotId, root } },
    );
  }
  return entries
    .filter((e) => e.path.startsWith(`${prefix}/`))
    .map((e) => ({ ...e, path: e.path.slice(prefix.length + 1) }));
}

/**
 * Restores entries under `target`. Nothing is written outside it: entry paths are checked
 * before anything is written (no `..`, no absolute path, nothing below a symlink entry), every
 * existing path component under the target is checked not to be a symlink, files are written
 * to a temp name beside their final one and renamed, and symlinks are created last.
 * `source` is closed when the restore ends.
 */
export async function restoreSnapshot(
  source: ChunkSource,
  snap: SnapshotFile & { id: string },
  target: string,
  options: RestoreOptions,
): Promise<RestoreResult> {
  assertSafeTree(snap.entries, snap.id);
  const entries = below(select(snap.entries, options.include), options.root, snap.id);
  await mkdir(target, { recursive: true });
  const root = await realpath(target);
  const safeDirs = new Set<string>([root]);
  const result: RestoreResult = { files: 0, dirs: 0, symlinks: 0, bytes: 0, errors: [] };

  /** Ensures every directory from the target down to `rel`'s parent is a real directory. */
  const parentDir = async (rel: string): Promise<string> => {
    const parts = rel.split('/');
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      const next = join(dir, part);
      if (!safeDirs.has(next)) {
        try {
          const s = await lstat(next);
          if (!s.isDirectory()) {
            throw new AiosError(
              'UNSAFE_PATH',
              `${next} exists and is not a directory (a symlink is never followed)`,
              {
                details: { path: next },
              },
            );
          }
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          try {
            await mkdir(next);
          } catch (mkdirError) {
            // Another writer of this restore may have created it meanwhile.
            if ((mkdirError as NodeJS.ErrnoException).code !== 'EEXIST') throw mkdirError;
            if (!(await lstat(next)).isDirectory()) {
              throw new AiosError('UNSAFE_PATH', `${next} is not a directory`, {
                details: { path: next },
              });
            }
          }
        }
        safeDirs.add(next);
      }
      dir = next;
    }
    return dir;
  };
  const final = (rel: string, dir: string) => join(dir, rel.split('/').at(-1) as string);

  const filesTotal = entries.filter((e) => e.type === 'file').length;
  const bytesTotal = entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0);
  try {
    for (const e of entries) {
      if (e.type !== 'dir') continue;
      const path = final(e.path, await parentDir(e.path));
      try {
        const s = await lstat(path);
        if (!s.isDirectory())
          throw new AiosError('UNSAFE_PATH', `${path} exists and is not a directory`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        await mkdir(path);
      }
      safeDirs.add(path);
      result.dirs++;
    }
    const files = entries.filter((e) => e.type === 'file');
    const restoreFile = async (e: Entry, prefetched?: Map<string, Decoded>) => {
      const dir = await parentDir(e.path);
      const path = final(e.path, dir);
      const tmp = join(dir, `.aios-restore-${randomHex(8)}`);
      const handle = await open(tmp, 'wx', 0o600);
      let written = 0;
      try {
        for await (const data of fileChunks(source, e, prefetched)) {
          await handle.write(data);
          written += data.length;
        }
        await handle.chmod(e.mode);
        await handle.utimes(mtimeOf(e), mtimeOf(e));
        await handle.close();
        await rename(tmp, path);
        result.files++;
        result.bytes += written;
      } catch (error) {
        await handle.close().catch(() => undefined);
        await rm(tmp, { force: true });
        if (error instanceof AiosError && error.code !== 'UNSAFE_PATH') {
          // The error names the file (it is thrown by readers of one file); `path` says it.
          const named = `${e.path}: `;
          const message = error.message.startsWith(named)
            ? error.message.slice(named.length)
            : error.message;
          result.errors.push({ path: e.path, code: error.code, message });
        } else throw error;
      }
      report();
    };
    const report = () =>
      options.onProgress?.({
        filesDone: result.files,
        filesTotal,
        bytesDone: result.bytes,
        bytesTotal,
      });
    const restoreWhole = source.restoreFiles?.bind(source);
    let k = 0;
    while (restoreWhole && k < files.length) {
      // Files restored whole by the engine, many per call (a large one alone); one that
      // fails is restored again below, chunk by chunk, which tries other copies of a
      // damaged chunk and reports what cannot be restored.
      if (options.signal?.aborted) throw new AiosError('ABORTED', 'restore cancelled');
      const run: Array<{ e: Entry; tmp: string; target: string }> = [];
      let bytes = 0;
      while (k < files.length && run.length < SMALL_BATCH_FILES && bytes < READ_BATCH_BYTES) {
        const e = files[k++] as Entry;
        const dir = await parentDir(e.path);
        run.push({
          e,
          tmp: join(dir, `.aios-restore-${randomHex(8)}`),
          target: final(e.path, dir),
        });
        bytes += e.size;
      }
      const done = await restoreWhole(
        run.map(({ e, tmp, target }) => ({
          tmp,
          target,
          mode: e.mode,
          mtimeMs: mtimeOf(e).getTime(),
          chunks: e.chunks ?? [],
        })),
      );
      for (const [i, r] of done.entries()) {
        const { e } = run[i] as (typeof run)[number];
        if (!r.ok) await restoreFile(e);
        else {
          result.files++;
          result.bytes += r.value;
        }
      }
      report();
    }
    while (k < files.length) {
      if (options.signal?.aborted) throw new AiosError('ABORTED', 'restore cancelled');
      const e = files[k] as Entry;
      if (e.size > SMALL_FILE) {
        await restoreFile(e);
        k++;
        continue;
      }
      // A run of small files: their chunks are read and decoded in one batch, then the
      // files are written a few at a time (each file is a handful of syscalls).
      const ids: string[] = [];
      let bytes = 0;
      let j = k;
      while (j < files.length && j - k < SMALL_BATCH_FILES && bytes < READ_BATCH_BYTES) {
        const f = files[j] as Entry;
        if (f.size > SMALL_FILE) break;
        ids.push(...(f.chunks ?? []));
        bytes += f.size;
        j++;
      }
      const unique = [...new Set(ids)];
      const decoded = await source.readChunks(unique);
      const prefetched = new Map(unique.map((id, i) => [id, decoded[i] as Decoded]));
      const run = files.slice(k, j);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(WRITERS, run.length) }, async () => {
          while (next < run.length) await restoreFile(run[next++] as Entry, prefetched);
        }),
      );
      k = j;
    }
    for (const e of entries) {
      if (e.type !== 'symlink') continue;
      const path = final(e.path, await parentDir(e.path));
      try {
        const s = await lstat(path);
        if (s.isDirectory())
          throw new AiosError('UNSAFE_PATH', `${path} exists and is a directory`);
        await unlink(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      await symlink(e.target ?? '', path);
      await lutimes(path, mtimeOf(e), mtimeOf(e)).catch(() => undefined);
      result.symlinks++;
    }
    // Directory metadata last (deepest first), once nothing more is written inside.
    for (const e of entries.filter((x) => x.type === 'dir').reverse()) {
      const path = join(root, ...e.path.split('/'));
      await chmod(path, e.mode);
      await utimes(path, mtimeOf(e), mtimeOf(e));
    }
  } catch (error) {
    throw storageError(error, target);
  } finally {
    await source.close();
  }
  return result;
}
