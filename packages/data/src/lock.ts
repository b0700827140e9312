/**
 * The one lock protocol of a database file, honoured by both implementations and by
 * anything that replaces the file: a lease in `<db>.lease.lock/` (see `acquireLease` in
 * @aios/utils). A native store holds a shared lease (SQLite's own POSIX locks serialise
 * native processes safely); a js store holds an exclusive one (its WebAssembly VFS has no
 * shared-memory WAL index and no POSIX locks, so it must have the file to itself), and so
 * does a restore in place or a repair. A conflicting open is refused at once.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { acquireLease, describeHolder, invalidInput, type LockHolder } from '@aios/utils';
import { DataErrorCode, dataError } from './errors.js';

export interface LockDatabaseOptions {
  /** `shared`: alongside native stores; `exclusive`: no other holder at all. */
  mode: 'exclusive' | 'shared';
  /** What the holder does, shown to whoever it keeps out (e.g. "aios backup restore"). */
  operation: string;
  /** More about the holder (e.g. "js implementation"). */
  detail?: string;
}

export interface DatabaseLock {
  /** Gives the lease up; later calls do nothing. */
  release(): Promise<void>;
}

/** The directory of a database's lease files. */
export function databaseLockDir(path: string): string {
  return `${path}.lease.lock`;
}

/**
 * The command a script is run as: the `bin` name its package gives it (`aios` for
 * @aios/core's dist/cli.js), else the script's file name.
 */
function programName(script: string): string {
  let file = script;
  try {
    file = realpathSync(script);
  } catch {
    // not a file: named as given
  }
  for (let dir = dirname(file), up = 0; up < 3; dir = dirname(dir), up++) {
    let pkg: { name?: unknown; bin?: unknown };
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const bins: Record<string, unknown> =
      typeof pkg.bin === 'string' && typeof pkg.name === 'string'
        ? { [pkg.name.replace(/^@[^/]+\//, '')]: pkg.bin }
        : typeof pkg.bin === 'object' && pkg.bin !== null
          ? (pkg.bin as Record<string, unknown>)
          : {};
    for (const [name, target] of Object.entries(bins)) {
      if (typeof target === 'string' && resolve(dir, target) === file) return name;
    }
    break;
  }
  return basename(script).replace(/\.[cm]?[jt]s$/, '');
}

/** What holds a database by default: the command and its arguments (e.g. "aios ingest notes"). */
export function defaultOperation(): string {
  const [script, ...args] = process.argv.slice(1);
  const words = [script ? programName(script) : process.title, ...args].join(' ');
  return words.length > 100 ? `${words.slice(0, 97)}...` : words;
}

function busy(path: string) {
  return (holder: LockHolder) =>
    dataError(DataErrorCode.DATA_BUSY, `${basename(path)} is in use by ${describeHolder(holder)}`, {
      details: {
        path,
        pid: holder.pid,
        operation: holder.operation,
        ...(holder.detail ? { detail: holder.detail } : {}),
        hostname: holder.hostname,
        since: holder.time,
      },
    });
}

/**
 * Takes a lease on the database at `path` (which need not exist yet). A holder in the way
 * (an exclusive one, or any for `exclusive`) gives `DATA_BUSY` naming its pid and
 * operation; leases of dead processes are cleared. An exclusive lease conflicts with
 * every other, this process's own stores included: close them first.
 */
export async function lockDatabase(
  path: string,
  options: LockDatabaseOptions,
): Promise<DatabaseLock> {
  if (typeof path !== 'string' || path === '' || path === ':memory:') {
    throw invalidInput('path', path, 'the path of a database file');
  }
  if (typeof options !== 'object' || options === null) {
    throw invalidInput('options', options, 'an object { mode, operation }');
  }
  if (options.mode !== 'exclusive' && options.mode !== 'shared') {
    throw invalidInput('options.mode', options.mode, '"exclusive" or "shared"');
  }
  if (typeof options.operation !== 'string' || options.operation === '') {
    throw invalidInput('options.operation', options.operation, 'a non-empty string');
  }
  const file = resolve(path);
  const lease = await acquireLease(options.mode, {
    dir: databaseLockDir(file),
    operation: options.operation,
    ...(options.detail ? { detail: options.detail } : {}),
    busy: busy(file),
  });
  return { release: () => lease.release() };
}
