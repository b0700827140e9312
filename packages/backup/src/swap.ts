import { lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { invalidInput } from '@aios/utils';
import { withStorageErrors } from './repo/errors.js';
import { atomicWrite, fsyncDir, randomHex } from './repo/fsutil.js';

/**
 * Replacing entries of a live directory (a restore in place) so that a crash at any point
 * leaves either the old entries or the new ones, never neither:
 *
 * 1. `InPlaceSwap.begin(parent)` makes `<parent>/.restore-<pid>-<random>/` with `owner.json`
 *    (who runs it) and `new/`, where the caller builds and checks the replacement. Until the
 *    commit nothing outside this directory has been touched (except files `track`ed).
 * 2. `commit(moves)` writes `journal.json` atomically (the commit point), then for each move
 *    renames the current `to` aside (`<parent of to>/.restore-<id>.<n>.old`) and renames
 *    `from` to `to`; then removes the set-aside entries and the swap directory.
 *
 * `recoverSwaps(parent)` finishes what a killed process left: a swap with a journal is
 * rolled forward (every move is idempotent), one without is removed; swaps of live
 * processes are left alone.
 */

export const SWAP_PREFIX = '.restore-';

/** One replacement: `from` becomes `to`; without `from`, `to` is only removed. */
export interface SwapMove {
  from?: string;
  to: string;
}

interface JournalMove extends SwapMove {
  aside: string;
}

interface Journal {
  version: 1;
  moves: JournalMove[];
}

interface Owner {
  version: 1;
  pid: number;
  hostname: string;
  time: string;
  /** Files outside the swap directory that belong to it until the commit. */
  extra: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function writeJson(dir: string, name: string, value: unknown): Promise<void> {
  await atomicWrite(dir, join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
}

/** Applies one journal move; safe to repeat after a crash at any point of it. */
async function rollForward(move: JournalMove): Promise<void> {
  if (move.from !== undefined && !(await exists(move.from))) return; // done already
  if (await exists(move.to)) {
    if (await exists(move.aside)) await rm(move.to, { recursive: true, force: true });
    else await rename(move.to, move.aside);
  }
  if (move.from !== undefined) await rename(move.from, move.to);
  await fsyncDir(dirname(move.to));
}

async function finish(dir: string, journal: Journal, owner: Owner | undefined): Promise<void> {
  for (const move of journal.moves) await rollForward(move);
  for (const move of journal.moves) await rm(move.aside, { recursive: true, force: true });
  for (const path of owner?.extra ?? []) await rm(path, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  await fsyncDir(dirname(dir));
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
      const owner: Owner = {
        version: 1,
        pid: process.pid,
        hostname: hostname(),
        time: new Date().toISOString(),
        extra: [],
      };
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
    if (!Array.isArray(moves) || !moves.every((m) => typeof m?.to === 'string')) {
      throw invalidInput('moves', moves, 'an array of { from?, to }');
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
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
      const pid = owner?.pid ?? Number(match[1]);
      const here = (owner?.hostname ?? hostname()) === hostname();
      if (!options.force && (!here || pid === process.pid || alive(pid))) {
        out.busy.push(dir);
        continue;
      }
      const journal = await readJsonFile<Journal>(join(dir, 'journal.json'));
      if (journal?.version === 1 && Array.isArray(journal.moves)) {
        await finish(dir, journal, owner);
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
