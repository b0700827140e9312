/**
 * The js implementation reading a database it may not write (a read-only home).
 *
 * node-sqlite3-wasm's VFS (src/vfs.c and src/vfs.js of that package) was made for
 * databases it can write, and cannot read one it cannot:
 * - it locks with a `<db>.lock` directory (mkdir), to read as well: in a folder it cannot
 *   write, every read fails ("disk I/O error");
 * - it opens the WAL read-write and creating, and tries nothing read-only: a WAL it cannot
 *   write, or one that is not there, fails the read ("unable to open database file");
 * - it has no URI filenames (SQLite is built without SQLITE_USE_URI and the open passes no
 *   SQLITE_OPEN_URI), so neither `immutable=1` nor another VFS can be asked for.
 *
 * The VFS makes those calls on Node's `fs` module (`require('node:fs')`), looking each
 * function up when it calls it. So while a database is open here to read only, this module
 * answers the calls made for that database's own files, and only those (every other path
 * goes to `fs` as before):
 * - its lock directory is taken and given back in this process's memory: none is made;
 * - the database, its WAL and its journal are opened read-only, whatever was asked for, so
 *   that nothing can be written through them; a WAL that is not there is `os.devNull`, an
 *   empty one (the database file then holds every commit, as SQLite finds when it reads an
 *   empty WAL);
 * - removing one of them does nothing (SQLite removes the WAL when its last connection
 *   closes, after folding it into the database, which its read-only descriptors refuse).
 *
 * The js implementation opens every database in exclusive locking mode (its VFS has no
 * shared memory), in which SQLite builds the index of a WAL in its own memory: the commits
 * still in a WAL are read with the database. No lock is taken, so no other process may
 * write the database meanwhile: the caller makes sure that none holds it (a writer holds
 * its lease).
 */
import { createRequire } from 'node:module';
import { devNull } from 'node:os';

/** The `fs` module object the VFS calls (the CommonJS one, whose functions can be replaced). */
const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

/** Databases open to read only in this process: path -> how many stores have it open. */
const open = new Map<string, number>();
/** The files of those databases the VFS opens (the database, its WAL, its journal). */
const files = new Map<string, 'database' | 'wal' | 'journal'>();
/** Their lock directories. */
const locks = new Set<string>();

const WRITE_FLAGS =
  fs.constants.O_WRONLY |
  fs.constants.O_RDWR |
  fs.constants.O_CREAT |
  fs.constants.O_EXCL |
  fs.constants.O_TRUNC |
  fs.constants.O_APPEND;

let installed = false;

/** Puts this module's answers in front of the `fs` functions the VFS calls (once). */
function install(): void {
  if (installed) return;
  installed = true;
  const { openSync, mkdirSync, rmdirSync, unlinkSync } = fs;
  fs.openSync = function readOnlyOpen(this: unknown, ...args: unknown[]) {
    const [path, flags, mode] = args as [unknown, unknown, number | undefined];
    const kind =
      typeof path === 'string' && typeof flags === 'number' ? files.get(path) : undefined;
    if (kind === undefined) return (openSync as (...a: unknown[]) => number).apply(fs, args);
    const readOnly = ((flags as number) & ~WRITE_FLAGS) | fs.constants.O_RDONLY;
    try {
      return openSync(path as string, readOnly, mode);
    } catch (error) {
      if (kind === 'wal' && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        return openSync(devNull, fs.constants.O_RDONLY);
      }
      throw error;
    }
  } as typeof fs.openSync;
  fs.mkdirSync = function readOnlyMkdir(this: unknown, ...args: unknown[]) {
    if (typeof args[0] === 'string' && locks.has(args[0])) return undefined;
    return (mkdirSync as (...a: unknown[]) => string | undefined).apply(fs, args);
  } as typeof fs.mkdirSync;
  fs.rmdirSync = function readOnlyRmdir(this: unknown, ...args: unknown[]) {
    if (typeof args[0] === 'string' && locks.has(args[0])) return;
    (rmdirSync as (...a: unknown[]) => void).apply(fs, args);
  } as typeof fs.rmdirSync;
  fs.unlinkSync = function readOnlyUnlink(this: unknown, ...args: unknown[]) {
    if (typeof args[0] === 'string' && files.has(args[0])) {
      // What the VFS takes for a file already gone.
      throw Object.assign(new Error(`ENOENT: kept, the database is open to read only`), {
        code: 'ENOENT',
      });
    }
    (unlinkSync as (...a: unknown[]) => void).apply(fs, args);
  } as typeof fs.unlinkSync;
}

/**
 * Answers the VFS's calls for the database at `path` (absolute, as the VFS names it) as
 * read-only ones, until the returned function is called (once its connection is closed).
 */
export function readOnlyFiles(path: string): () => void {
  install();
  const count = open.get(path) ?? 0;
  open.set(path, count + 1);
  if (count === 0) {
    files.set(path, 'database');
    files.set(`${path}-wal`, 'wal');
    files.set(`${path}-journal`, 'journal');
    locks.add(`${path}.lock`);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (open.get(path) ?? 1) - 1;
    if (left > 0) {
      open.set(path, left);
      return;
    }
    open.delete(path);
    files.delete(path);
    files.delete(`${path}-wal`);
    files.delete(`${path}-journal`);
    locks.delete(`${path}.lock`);
  };
}
