import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AiosError, fromNodeIoError, invalidInput } from '../errors.js';
import { isProcessAlive } from '../process/alive.js';
import { fsyncDir, fsyncDirSync } from './sync-dir.js';

/** What can be written: text (UTF-8), bytes, or a (sync or async) sequence of them, e.g. a Readable. */
export type FileChunks =
  | string
  | Uint8Array
  | Iterable<string | Uint8Array>
  | AsyncIterable<string | Uint8Array>;

/** What `atomicWriteFileSync` can write: no async sequences. */
export type SyncFileChunks = string | Uint8Array | Iterable<string | Uint8Array>;

export interface AtomicWriteOptions {
  /**
   * Where the temporary file goes (default: beside the target, named
   * `.<name>.<pid>.<random>.tmp`). It must be on the target's filesystem; a directory that
   * a cleanup sweeps (a repository's `tmp/`) keeps strays of killed writers out of sight.
   */
  tempDir?: string;
  /** The exact temporary path, for formats whose leftovers are recognised by name. */
  tempPath?: string;
  /** Create the target's directory (and parents) first. */
  createDirectory?: boolean;
  /** Mode of the new file (before the umask); default 0o644. */
  mode?: number;
}

export interface AtomicWriteSyncOptions extends AtomicWriteOptions {
  /**
   * Runs on the complete, fsynced temporary file before it replaces the target (e.g. parse
   * it as the file it will be); throwing leaves the target unchanged and the error as is.
   */
  check?: (tempPath: string) => void;
}

function checkTarget(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) {
    throw invalidInput('path', path, 'a non-empty file path');
  }
}

/** The temporary file for `path` (see `AtomicWriteOptions`). */
export function tempFileFor(path: string, options: AtomicWriteOptions = {}): string {
  if (options.tempPath !== undefined) return options.tempPath;
  const name = `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  return join(options.tempDir ?? dirname(path), name);
}

/**
 * Removes what writers of `path` that are gone (killed) left beside it: temporary files,
 * or directories, named by `tempFileFor` with the pid of a process no longer running.
 * Those of running processes stay. Returns the paths removed.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  checkTarget(path);
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromNodeIoError(error, dir);
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
    if (!match || isProcessAlive(Number(match[1]))) continue;
    const temp = join(dir, name);
    await rm(temp, { recursive: true, force: true }).catch((error: unknown) => {
      throw fromNodeIoError(error, temp);
    });
    removed.push(temp);
  }
  return removed;
}

function bytesOf(chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

function writeAllSync(fd: number, chunk: string | Uint8Array): void {
  const bytes = bytesOf(chunk);
  let offset = 0;
  while (offset < bytes.byteLength) {
    offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
  }
}

/** Coded errors pass through (a check's verdict); system errors get an `IO_*` code. */
function coded(error: unknown, path: string): AiosError {
  return error instanceof AiosError ? error : fromNodeIoError(error, path);
}

/**
 * Writes a file so that readers, and a crash at any moment, see either the old content or
 * the new one, never a part: a temporary file (see `AtomicWriteOptions`), fsync, rename
 * over the target, fsync of the target's directory. On failure the temporary file is
 * removed and the target is untouched. Errors are `AiosError`s (`IO_NOT_FOUND` for a
 * missing directory, `IO_DISK_FULL` for a full disk, `IO_READ_ONLY`, ...).
 */
export async function atomicWriteFile(
  path: string,
  data: FileChunks,
  options: AtomicWriteOptions = {},
): Promise<void> {
  checkTarget(path);
  const dir = dirname(path);
  const temp = tempFileFor(path, options);
  try {
    if (options.createDirectory) await mkdir(dir, { recursive: true });
    const handle = await open(temp, 'wx', options.mode ?? 0o644);
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) {
        await handle.writeFile(data);
      } else if (Symbol.asyncIterator in data) {
        for await (const chunk of data) await handle.writeFile(bytesOf(chunk));
      } else {
        for (const chunk of data) await handle.writeFile(bytesOf(chunk));
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw coded(error, path);
  }
  try {
    await fsyncDir(dir);
  } catch (error) {
    throw coded(error, dir);
  }
}

/** `atomicWriteFile` for synchronous callers, with an optional check of the new file. */
export function atomicWriteFileSync(
  path: string,
  data: SyncFileChunks,
  options: AtomicWriteSyncOptions = {},
): void {
  checkTarget(path);
  const dir = dirname(path);
  const temp = tempFileFor(path, options);
  let fd: number | undefined;
  try {
    if (options.createDirectory) mkdirSync(dir, { recursive: true });
    fd = openSync(temp, 'wx', options.mode ?? 0o644);
    if (typeof data === 'string' || data instanceof Uint8Array) writeAllSync(fd, data);
    else for (const chunk of data) writeAllSync(fd, chunk);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    options.check?.(temp);
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw coded(error, path);
  }
  try {
    fsyncDirSync(dir);
  } catch (error) {
    throw coded(error, dir);
  }
}
