import type { BigIntStats } from 'node:fs';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { atomicWriteFile, tempFileFor } from '@aios/utils';
import { HEX64 } from '../format.js';
import { listDir } from './fsutil.js';

/**
 * What the repository knows about a pack's bytes: `verified/<packId>.json` records when the
 * whole pack was last read and checked (or written), the file's identity at that time, and
 * the chunks found damaged. While the file's size, mtime, ctime and inode are unchanged,
 * nothing has written to it since, so its intact chunks may be reused without reading them
 * again; any write (a flipped byte, a copy over it) changes its ctime and the pack is read
 * again before one of its chunks is reused. Damage a filesystem does without a write (bit
 * rot) is what `verify`'s sampling is for. A cache: missing or unreadable records only cost
 * a re-read.
 */
export interface PackCheck {
  version: 1;
  pack: string;
  /** When the pack was checked (ISO 8601). */
  time: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  /** Chunks of this pack whose stored copy failed to decode to its id. */
  damaged: string[];
}

export const CHECKS_DIR = 'verified';

export function checkPath(repo: string, pack: string): string {
  return join(repo, CHECKS_DIR, `${pack}.json`);
}

function isCheck(value: unknown, pack: string): value is PackCheck {
  const v = value as Partial<PackCheck> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.version === 1 &&
    v.pack === pack &&
    typeof v.time === 'string' &&
    typeof v.size === 'number' &&
    typeof v.mtimeNs === 'string' &&
    typeof v.ctimeNs === 'string' &&
    typeof v.ino === 'string' &&
    Array.isArray(v.damaged) &&
    v.damaged.every((id) => typeof id === 'string' && HEX64.test(id))
  );
}

/** Every readable check record, by pack id (unreadable ones are ignored: a cache). */
export async function readPackChecks(repo: string): Promise<Map<string, PackCheck>> {
  const out = new Map<string, PackCheck>();
  const dir = join(repo, CHECKS_DIR);
  for (const name of await listDir(dir)) {
    const pack = name.slice(0, -5);
    if (!name.endsWith('.json') || !HEX64.test(pack)) continue;
    try {
      const value: unknown = JSON.parse(await readFile(join(dir, name), 'utf8'));
      if (isCheck(value, pack)) out.set(pack, value);
    } catch {
      // unreadable: the pack counts as unchecked
    }
  }
  return out;
}

/** The pack file's identity now, or undefined when it is missing. */
export async function packStats(repo: string, pack: string): Promise<BigIntStats | undefined> {
  try {
    return await stat(join(repo, 'data', pack.slice(0, 2), pack), { bigint: true });
  } catch {
    return undefined;
  }
}

/** True when nothing has written to the pack since the check recorded it. */
export function isCurrent(check: PackCheck | undefined, s: BigIntStats | undefined): boolean {
  return (
    check !== undefined &&
    s !== undefined &&
    BigInt(check.size) === s.size &&
    check.mtimeNs === s.mtimeNs.toString() &&
    check.ctimeNs === s.ctimeNs.toString() &&
    check.ino === s.ino.toString()
  );
}

/**
 * Records a check of `pack` whose bytes were read (or written) while the file had the
 * stats `s` (taken before reading, so a write during the read makes the record stale).
 * Best effort: a repository that cannot be written (read-only) still verifies.
 */
export async function recordPackCheck(
  repo: string,
  pack: string,
  s: BigIntStats,
  damaged: string[],
  options: { durable?: boolean } = {},
): Promise<PackCheck | undefined> {
  const check: PackCheck = {
    version: 1,
    pack,
    time: new Date().toISOString(),
    size: Number(s.size),
    mtimeNs: s.mtimeNs.toString(),
    ctimeNs: s.ctimeNs.toString(),
    ino: s.ino.toString(),
    damaged: [...new Set(damaged)].sort(),
  };
  // The temp file lives beside the record (atomicWriteFile's default; not in tmp/, which a
  // locked operation clears while verify, holding only a read lock, may be writing here).
  try {
    if (options.durable === false) {
      // Renamed whole into place, unsynced: after a crash it is there, absent or unreadable.
      const target = checkPath(repo, pack);
      const temp = tempFileFor(target);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(temp, JSON.stringify(check), { flag: 'wx' });
      await rename(temp, target).catch(async (error) => {
        await unlink(temp).catch(() => undefined);
        throw error;
      });
    } else {
      await atomicWriteFile(checkPath(repo, pack), JSON.stringify(check), {
        createDirectory: true,
      });
    }
    return check;
  } catch {
    return undefined;
  }
}

/** Removes check records of packs that no longer exist, and stray temp files. */
export async function removeStaleChecks(repo: string, packs: Set<string>): Promise<void> {
  const dir = join(repo, CHECKS_DIR);
  for (const name of await listDir(dir)) {
    const pack = name.endsWith('.json') ? name.slice(0, -5) : '';
    if (packs.has(pack)) continue;
    await unlink(join(dir, name)).catch(() => undefined);
  }
}
