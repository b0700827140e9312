/**
 * Shared and exclusive leases on a resource, kept as files in one directory, that any
 * number of processes (of any implementation) honour:
 *
 * - the exclusive holder is the one file `<exclusiveName>`, created complete and
 *   atomically (written aside, then hard-linked into place, which fails if it exists);
 * - each shared holder is its own file `<sharedPrefix><token>.json` (written aside, then
 *   renamed into place).
 *
 * Each side announces itself before it looks at the other (an exclusive taker takes the
 * slot, then reads the shared files; a shared taker writes its file, then reads the
 * slot), so of two conflicting takers at least one sees the other and gives up: they
 * never both proceed. Two that start together may each see the other, so a taker kept
 * out by a holder that took its lease moments ago withdraws, waits a few random
 * milliseconds and tries again, a few times: one of them gets in. A holder older than
 * that refuses a taker at once. A file of a dead process (crash, SIGKILL) is stale: the
 * next taker clears it. Leases still held when the process exits normally are removed by
 * an exit hook.
 *
 * Every file is written aside first, as `.<token>.<kind>.tmp` (`writeAside`), and removed
 * once linked or renamed into place. A writer killed in between, or one whose removal
 * failed (a disk that filled up), leaves its temporary file behind: the next taker removes
 * those of dead holders, and empty ones (whose holder cannot be read) once they are old
 * enough that no live writer can still be about to fill them (`removeStaleTemps`).
 *
 * A process that cannot write the directory (a read-only home) can still look at who
 * holds the lease (`leaseHolders`), without taking it or clearing anything.
 */
import { link, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AiosError, fromNodeIoError } from '../errors.js';
import { makeDir } from '../fs/make-dir.js';
import {
  currentHolder,
  describeHolder,
  type HolderFile,
  isStale,
  type LockHolder,
  readHolderFile,
  readHolderFileSync,
} from './holder.js';
import { forgetHeld, rememberHeld } from './registry.js';

export type LeaseMode = 'exclusive' | 'shared';

export interface LeaseOptions {
  /** The directory of the lock's files; created when missing. */
  dir: string;
  /** What the holder does (shown to whoever it keeps out). */
  operation: string;
  /** More about the holder (e.g. "js implementation"). */
  detail?: string;
  /** File name of the exclusive holder. Default `exclusive.json`. */
  exclusiveName?: string;
  /** Prefix of the shared holders' files (`<prefix><token>.json`). Default `shared-`. */
  sharedPrefix?: string;
  /**
   * Whether a live holder of the other mode keeps this taker out (`holds` is the mode of
   * that holder). Default: always. Two exclusive takers always exclude each other.
   */
  conflicts?: (holder: LockHolder, holds: LeaseMode) => boolean;
  /** The error for a live holder in the way. Default: `LOCK_BUSY` naming the holder. */
  busy?: (holder: LockHolder, holds: LeaseMode) => Error;
}

export interface Lease {
  readonly mode: LeaseMode;
  /** The file that records this lease. */
  readonly path: string;
  readonly holder: LockHolder;
  /** Gives the lease up; later calls do nothing. */
  release(): Promise<void>;
}

/** Attempts at the exclusive slot while its holder vanishes or a stale one is cleared. */
const MAX_ATTEMPTS = 20;

/**
 * A holder that took its lease less than this long ago may be a taker racing this one,
 * about to withdraw in turn; one held longer is not, and keeps a taker out at once.
 */
const RACING_MS = 1000;
/** Attempts after withdrawing from a race, each after a longer random pause. */
const RACE_RETRIES = 4;

/** A live holder in the way, turned into the caller's `busy` error unless it was a race. */
class Conflict {
  constructor(
    readonly holder: LockHolder,
    readonly holds: LeaseMode,
  ) {}
}

const racing = (holder: LockHolder): boolean => Date.now() - Date.parse(holder.time) < RACING_MS;

const defaultBusy = (dir: string) => (holder: LockHolder) =>
  new AiosError('LOCK_BUSY', `${dir} is held by ${describeHolder(holder)} since ${holder.time}`, {
    details: { dir, holder },
  });

interface Layout {
  dir: string;
  slot: string;
  sharedPrefix: string;
}

function layoutOf(options: Pick<LeaseOptions, 'dir' | 'exclusiveName' | 'sharedPrefix'>): Layout {
  return {
    dir: options.dir,
    slot: join(options.dir, options.exclusiveName ?? 'exclusive.json'),
    sharedPrefix: options.sharedPrefix ?? 'shared-',
  };
}

/**
 * Takes a lease, or fails with the `busy` error of a live holder in the way. It waits only
 * out a race with a taker that started with it (see the module comment), never for a
 * holder to finish.
 */
export async function acquireLease(mode: LeaseMode, options: LeaseOptions): Promise<Lease> {
  if (mode !== 'exclusive' && mode !== 'shared') {
    throw new AiosError('INVALID_INPUT', `unknown lease mode ${String(mode)}`);
  }
  const layout = layoutOf(options);
  const holder = currentHolder(options.operation, options.detail);
  const conflicts = options.conflicts ?? (() => true);
  const busy = options.busy ?? defaultBusy(options.dir);
  try {
    await makeDir(layout.dir);
  } catch (error) {
    throw fromNodeIoError(error, layout.dir, 'creating the directory of leases');
  }
  await removeStaleTemps(layout);
  for (let attempt = 0; ; attempt++) {
    try {
      return await takeOnce(mode, layout, holder, conflicts);
    } catch (error) {
      if (!(error instanceof Conflict)) throw error;
      if (attempt >= RACE_RETRIES || !racing(error.holder)) throw busy(error.holder, error.holds);
      await pause(5 + Math.random() * 20 * (attempt + 1));
    }
  }
}

/**
 * The live exclusive holder of the lease described by `options`, without taking it:
 * undefined when there is none (a stale or unreadable holder file counts as none).
 */
export async function exclusiveHolder(
  options: Pick<LeaseOptions, 'dir' | 'exclusiveName'>,
): Promise<LockHolder | undefined> {
  const found = await readHolderFile(layoutOf(options).slot);
  return found?.holder && !isStale(found.holder) ? found.holder : undefined;
}

/** The live holders of a lease, as `leaseHolders` finds them. */
export interface LeaseHolders {
  exclusive: LockHolder | undefined;
  shared: LockHolder[];
}

/**
 * The live holders of the lease described by `options`, without taking it and without
 * clearing anything (stale and unreadable files count as no holder): what a process that
 * cannot write the lease's directory, such as one reading a read-only home, can still
 * learn. A directory that cannot be read (or does not exist) has no holders.
 */
export async function leaseHolders(
  options: Pick<LeaseOptions, 'dir' | 'exclusiveName' | 'sharedPrefix'>,
): Promise<LeaseHolders> {
  const layout = layoutOf(options);
  const live = (found: HolderFile | undefined) =>
    found?.holder && !isStale(found.holder) ? found.holder : undefined;
  let names: string[];
  try {
    names = await readdir(layout.dir);
  } catch {
    return { exclusive: undefined, shared: [] };
  }
  const shared: LockHolder[] = [];
  for (const name of names) {
    if (!name.startsWith(layout.sharedPrefix) || !name.endsWith('.json')) continue;
    const holder = live(await readHolderFile(join(layout.dir, name)));
    if (holder) shared.push(holder);
  }
  return { exclusive: live(await readHolderFile(layout.slot)), shared };
}

/** The temporary files `writeAside` writes: `.<token>.<kind>.tmp`. */
const TEMP_FILE = /^\.[0-9a-f]{32}\.(?:lock|shared|clearing)\.tmp$/;

/**
 * An empty (or partly written) temporary file older than this is a leftover. A writer fills
 * its file with one small write right after creating it, and removes it moments later; a
 * file still empty a minute on belongs to a writer that failed to fill it (a full disk),
 * or died in between, and could not remove it.
 */
export const TEMP_ABANDONED_MS = 60_000;

/**
 * Removes the temporary files left in the lease's directory by earlier takers that did not
 * finish: those whose holder is dead, and empty or unreadable ones older than
 * `TEMP_ABANDONED_MS`. A file of a live holder is never touched: it may be about to be
 * linked or renamed into place. Nothing here fails a taker: a file that cannot be looked
 * at or removed stays for the next one.
 *
 * Even a writer that was stopped (SIGSTOP) longer than that between creating and filling
 * its file stays safe: its link or rename of the removed file then fails, and it takes no
 * lease.
 */
async function removeStaleTemps(layout: Layout): Promise<void> {
  let names: string[];
  try {
    names = await readdir(layout.dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!TEMP_FILE.test(name)) continue;
    const path = join(layout.dir, name);
    const found = await readHolderFile(path);
    if (!found) continue; // gone already (linked and removed by its writer)
    if (found.holder !== undefined) {
      if (!isStale(found.holder)) continue;
    } else {
      const info = await stat(path).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < TEMP_ABANDONED_MS) continue;
    }
    await removeQuietly(path);
  }
}

/** One attempt: announces this holder, then looks for the other side (a `Conflict`). */
async function takeOnce(
  mode: LeaseMode,
  layout: Layout,
  holder: LockHolder,
  conflicts: (holder: LockHolder, holds: LeaseMode) => boolean,
): Promise<Lease> {
  if (mode === 'exclusive') {
    const lease = await takeSlot(layout, holder);
    try {
      await refuseShared(layout, holder, conflicts);
    } catch (error) {
      await lease.release();
      throw error;
    }
    return lease;
  }
  const lease = await announceShared(layout, holder);
  try {
    const found = await readHolderFile(layout.slot);
    if (found) {
      if (found.holder === undefined || isStale(found.holder)) {
        // A stale exclusive holder keeps nobody out; it is cleared on the way.
        await clearStale(layout, found, holder);
      } else if (conflicts(found.holder, 'exclusive')) {
        throw new Conflict(found.holder, 'exclusive');
      }
    }
  } catch (error) {
    await lease.release();
    throw error;
  }
  return lease;
}

/** What each file written aside is, for the error when it cannot be written. */
const WRITING = {
  lock: 'the exclusive lease of this process',
  shared: 'the shared lease of this process',
  clearing: 'the guard that clears a stale lease',
} as const;

async function writeAside(
  layout: Layout,
  holder: LockHolder,
  kind: keyof typeof WRITING,
): Promise<string> {
  const tmp = join(layout.dir, `.${holder.token}.${kind}.tmp`);
  try {
    await writeFile(tmp, JSON.stringify(holder));
  } catch (error) {
    // A full disk creates the file, then fails to fill it: no empty file is left behind.
    await removeQuietly(tmp);
    throw fromNodeIoError(error, layout.dir, `writing ${WRITING[kind]}`);
  }
  return tmp;
}

const removeQuietly = (path: string) => unlink(path).catch(() => undefined);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function takeSlot(layout: Layout, holder: LockHolder): Promise<Lease> {
  const tmp = await writeAside(layout, holder, 'lock');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, layout.slot);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw fromNodeIoError(error, layout.slot);
        }
      }
      const found = await readHolderFile(layout.slot);
      if (found?.holder && !isStale(found.holder)) throw new Conflict(found.holder, 'exclusive');
      if (attempt >= MAX_ATTEMPTS) {
        throw new AiosError('LOCK_BUSY', `${layout.dir}: could not take the lock`, {
          details: { dir: layout.dir },
        });
      }
      // Gone since (retry at once), or stale or unreadable (cleared, then retried).
      if (found && !(await clearStale(layout, found, holder))) await pause(2 + attempt * 2);
    }
  } finally {
    await removeQuietly(tmp);
  }
  return leaseOf('exclusive', layout.slot, holder);
}

/**
 * Removes a stale exclusive holder, under a guard file so that two takers clearing the
 * same stale holder cannot remove the fresh lock one of them took meanwhile: the slot is
 * removed only if it still holds exactly what was judged stale. False when another
 * taker holds the guard (then retry).
 */
async function clearStale(layout: Layout, seen: HolderFile, holder: LockHolder): Promise<boolean> {
  const guard = `${layout.slot}.clearing`;
  const tmp = await writeAside(layout, holder, 'clearing');
  try {
    try {
      await link(tmp, guard);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fromNodeIoError(error, guard);
      // A guard is held for a moment only: one of a dead process is cleared.
      const other = await readHolderFile(guard);
      if (other && (other.holder === undefined || isStale(other.holder))) {
        await removeQuietly(guard);
      }
      return false;
    }
    try {
      const now = await readHolderFile(layout.slot);
      if (now && now.text === seen.text) await removeQuietly(layout.slot);
    } finally {
      await removeQuietly(guard);
    }
    return true;
  } finally {
    await removeQuietly(tmp);
  }
}

async function announceShared(layout: Layout, holder: LockHolder): Promise<Lease> {
  const path = join(layout.dir, `${layout.sharedPrefix}${holder.token}.json`);
  const tmp = await writeAside(layout, holder, 'shared');
  try {
    await rename(tmp, path);
  } catch (error) {
    await removeQuietly(tmp);
    throw fromNodeIoError(error, path);
  }
  return leaseOf('shared', path, holder);
}

/** Fails with the first live conflicting shared holder; clears stale ones. */
async function refuseShared(
  layout: Layout,
  holder: LockHolder,
  conflicts: (holder: LockHolder, holds: LeaseMode) => boolean,
): Promise<void> {
  let names: string[];
  try {
    names = await readdir(layout.dir);
  } catch (error) {
    throw fromNodeIoError(error, layout.dir);
  }
  for (const name of names) {
    if (!name.startsWith(layout.sharedPrefix) || !name.endsWith('.json')) continue;
    const path = join(layout.dir, name);
    const found = await readHolderFile(path);
    if (!found) continue;
    // Shared files are renamed into place complete: an unreadable one is no holder's.
    if (found.holder === undefined || isStale(found.holder)) {
      await removeQuietly(path);
      continue;
    }
    if (found.holder.token === holder.token) continue;
    if (conflicts(found.holder, 'shared')) throw new Conflict(found.holder, 'shared');
  }
}

function leaseOf(mode: LeaseMode, path: string, holder: LockHolder): Lease {
  let released = false;
  const owned = () => {
    // The slot is removed only while it is this lease's (never another taker's).
    if (mode === 'shared') return true;
    return readHolderFileSync(path)?.holder?.token === holder.token;
  };
  rememberHeld(path, owned);
  return {
    mode,
    path,
    holder,
    async release() {
      if (released) return;
      released = true;
      forgetHeld(path);
      if (owned()) await removeQuietly(path);
    },
  };
}
