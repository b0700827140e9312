import { lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { currentHolder, fsyncDir, invalidInput, isStale, type LockHolder } from '@aios/utils';
import { withStorageErrors } from './repo/errors.js';
import { atomicWrite, randomHex } from './repo/fsutil.js';

/**
 * Replacing entries of a live directory (a restore in place) so that a crash at any point
 * leaves either the old entries or the new ones, never neither:
 *
 * 1. `InPlaceSwap.begin(parent)` makes `<parent>/.restore-<pid>-<random>/` with `owner.json`
 *    (who runs it) and `new/`, where the caller builds and checks the replacement. Until the
 *    commit nothing outside this directory has been touched (except files `track`ed).
 * 2. `commit(moves)` writes `journal.json` atomically (the commit point), then for each move
 *    renames the current `to` aside (`<parent of to>/.restore-<id>.<n>.old`) and renames
 *    `from` to `to`; then renames the journal to `done.json` (from then on nothing is
 *    moved again) and removes the set-aside entries and the swap directory.
 *
 * `recoverSwaps(parent)` finishes what a killed process left: a swap with a journal is
 * rolled forward (every move is idempotent), one marked done is cleaned up, one without
 * either is removed; swaps of live processes are left alone.
 */

export const SWAP_PREFIX = '.restore-';

/** One replacement: `from` becomes `to`; without `from`, `to` is only removed. */
export interface SwapMove {
  from?: string;
  to: string;
  /**
   * Suffixes of files that belong to `to` (a database's `-wal`, `-shm`): each `to + suffix`
   * is removed together with `to`, right before `from` takes its place, however often the
   * move is repeated until then (a process may have recreated one meanwhile).
   */
  companions?: string[];
}

interface JournalMove extends SwapMove {
  aside: string;
}

interface Journal {
  version: 1;
  moves: JournalMove[];
}

/** Who runs the swap (a lock holder record: pid, host, process start time). */
interface Owner extends LockHolder {
  version: 1;
  /** Files outside the swap directory that belong to it until the commit. */
  extra: string[];
}

async function writeJson(dir: string, name: string, value: unknown): Promise<void> {
  await atomicWrite(dir, join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
}

async function isDir(path: string): Promise<boolean | undefined> {
  try {
    return (await lstat(path)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Applies one journal move; safe to repeat after a crash at any point of it, and after it
 * completed (a later process may have written a new `to` by then: it is left alone).
 *
 * - With `from` gone, the move is done.
 * - A file replacing a file is one atomic rename: there is no moment without one.
 * - Otherwise the current `to` is set aside first (rename cannot replace a non-empty
 *   directory), then `from` takes its place.
 * - Without `from`, `to` is only set aside; an empty folder at `aside` records that this
 *   was done when there was nothing to set aside.
 */
async function rollForward(move: JournalMove): Promise<void> {
  if (move.from === undefined) {
    if ((await isDir(move.aside)) !== undefined) return; // done
    if ((await isDir(move.to)) !== undefined) await rename(move.to, move.aside);
    else await mkdir(move.aside);
    await fsyncDir(dirname(move.to));
    return;
  }
  const from = await isDir(move.from);
  if (from === undefined) return; // done
  for (const suffix of move.companions ?? []) {
    const companion = `${move.to}${suffix}`;
    if ((await isDir(companion)) === undefined) continue;
    if ((await isDir(`${move.aside}${suffix}`)) !== undefined) await rm(companion, { force: true });
    else await rename(companion, `${move.aside}${suffix}`);
  }
  const to = await isDir(move.to);
  if (to !== undefined && (from || to)) {
    // A directory on either side: set the current one aside (or drop what appeared since).
    if ((await isDir(move.aside)) !== undefined)
      await rm(move.to, { recursive: true, force: true });
    else await rename(move.to, move.aside);
  }
  await rename(move.from, move.to);
  await fsyncDir(dirname(move.to));
}

/** Rolls the journal's moves forward, marks the swap done, then cleans up. */
async function finish(dir: string, journal: Journal, owner: Owner | undefined): Promise<void> {
  for (const move of journal.moves) await rollForward(move);
  // Done: from here on a crash leads to cleaning up only. A move repeated after its
  // set-aside entry was removed would take away what was written since (a new WAL).
  await rename(join(dir, 'journal.json'), join(dir, 'done.json'));
  await fsyncDir(dir);
  await cleanUp(dir, journal, owner);
}

async function cleanUp(dir: string, journal: Journal, owner: Owner | undefined): Promise<void> {
  for (const move of journal.moves) {
    await rm(move.aside, { recursive: true, force: true });
    for (const suffix of move.companions ?? []) await rm(`${move.aside}${suffix}`, { force: true });
  }
  for (const path of owner?.extra ?? []) await rm(path, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  await fsyncDir(dirname(dir));
}

function isJournal(value: Journal | undefined): value is Journal {
  return value?.version === 1 && Array.isArray(value.moves);
}

export class InPlaceSwap {
  private committed = false;

  private constructor(
    /** `<parent>/.restore-<pid>-<random>`. */
    readonly dir: string,
    private readonly owner: Owner,
  ) {}

  /** Where the caller builds the replacement. */
  get staging(): string {
    return join(this.dir, 'new');
  }

  /** Starts a swap of entries of `parent` (which must exist). */
  static begin(parent: string): Promise<InPlaceSwap> {
    return withStorageErrors(async () => {
      const dir = join(parent, `${SWAP_PREFIX}${process.pid}-${randomHex(6)}`);
      await mkdir(dir);
      const owner: Owner = { version: 1, ...currentHolder('restore in place'), extra: [] };
      const swap = new InPlaceSwap(dir, owner);
      try {
        await writeJson(dir, 'owner.json', owner);
        await mkdir(swap.staging);
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
      return swap;
    });
  }

  /** Declares a file outside the swap directory (about to be created) as part of it. */
  track(path: string): Promise<void> {
    return withStorageErrors(async () => {
      this.owner.extra.push(path);
      await writeJson(this.dir, 'owner.json', this.owner);
    });
  }

  /** Makes the moves, crash-safely (see above), then removes what they replaced. */
  async commit(moves: SwapMove[]): Promise<void> {
    const valid = (m: SwapMove) =>
      typeof m?.to === 'string' &&
      (m.from === undefined || typeof m.from === 'string') &&
      (m.companions === undefined ||
        (Array.isArray(m.companions) && m.companions.every((c) => typeof c === 'string')));
    if (!Array.isArray(moves) || !moves.every(valid)) {
      throw invalidInput('moves', moves, 'an array of { from?, to, companions? }');
    }
    return withStorageErrors(async () => {
      const journal: Journal = {
        version: 1,
        moves: moves.map((m, i) => ({
          ...m,
          aside: join(dirname(m.to), `${basename(this.dir)}.${i}.old`),
        })),
      };
      await writeJson(this.dir, 'journal.json', journal);
      this.committed = true;
      await finish(this.dir, journal, this.owner);
    });
  }

  /** Drops an uncommitted swap: nothing outside it was touched. */
  async discard(): Promise<void> {
    if (this.committed) return; // a committed swap is finished by recoverSwaps, never undone
    await withStorageErrors(async () => {
      for (const path of this.owner.extra) await rm(path, { recursive: true, force: true });
      await rm(this.dir, { recursive: true, force: true });
    });
  }
}

async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export interface SwapRecovery {
  /** Swaps that had committed and were rolled forward. */
  completed: string[];
  /** Swaps that had not committed and were removed. */
  discarded: string[];
  /** Swaps of processes still running (or of another host), left alone. */
  busy: string[];
}

const SWAP_DIR = /^\.restore-(\d+)-[0-9a-z]+$/;

/**
 * Finishes the swaps under `parent` that their process left behind: rolled forward when
 * committed, removed otherwise. With `force` (the caller holds a lock that no swapping
 * process can hold at the same time) every swap is treated as left behind.
 */
export function recoverSwaps(
  parent: string,
  options: { force?: boolean } = {},
): Promise<SwapRecovery> {
  return withStorageErrors(async () => {
    const out: SwapRecovery = { completed: [], discarded: [], busy: [] };
    let names: string[];
    try {
      names = (await readdir(parent)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw error;
    }
    for (const name of names) {
      const match = SWAP_DIR.exec(name);
      if (!match) continue;
      const dir = join(parent, name);
      if (!(await lstat(dir)).isDirectory()) continue;
      const owner = await readJsonFile<Owner>(join(dir, 'owner.json'));
      // Without an owner file (killed before writing it, or an older version's staging
      // folder), the pid in the name tells who made it.
      const holder: LockHolder =
        typeof owner?.pid === 'number' && typeof owner.hostname === 'string'
          ? owner
          : { ...currentHolder(''), pid: Number(match[1]), started: undefined };
      if (!options.force && (holder.pid === process.pid || !isStale(holder))) {
        out.busy.push(dir);
        continue;
      }
      const journal = await readJsonFile<Journal>(join(dir, 'journal.json'));
      const done = await readJsonFile<Journal>(join(dir, 'done.json'));
      if (isJournal(journal)) {
        await finish(dir, journal, owner);
        out.completed.push(dir);
      } else if (isJournal(done)) {
        await cleanUp(dir, done, owner);
        out.completed.push(dir);
      } else {
        for (const path of owner?.extra ?? []) await rm(path, { recursive: true, force: true });
        await rm(dir, { recursive: true, force: true });
        out.discarded.push(dir);
      }
    }
    return out;
  });
}
