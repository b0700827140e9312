/**
 * Index files checked before. A checkpoint's files (vectors, lexical index, label map) are
 * checked in full when read: checksum, values and structure, which at 100k fragments
 * means hashing and reading 200 MB. A full check that passes is recorded beside the file,
 * in `<file>.checked`, with what identifies the file's contents on disk: device, inode,
 * size, and modification and change times in nanoseconds. A later open that finds the
 * file as recorded checks only its structure (nothing is read out of bounds whatever the
 * bytes; the label map, read by JavaScript alone, is taken as it is), so opening a memory
 * reads no row it does not search and hashes nothing.
 *
 * Any write to a file sets its change time, which no program can set back, and a file
 * replaced by a rename has another inode. Only a write within the same tick of the file
 * system's clock as the file's previous change could leave both as they were: so a check
 * is only recorded for a file last changed well before that check began (`SETTLED_MS`),
 * and until then every open checks it in full. Damage that bypasses the file system (a
 * failing disk) is not seen through this record; `aios doctor` checks every file in full.
 *
 * The record is a cache: written atomically by whichever process checked the file (a
 * reader too), ignored when unreadable, removed with its file, and never needed.
 */
import { type BigIntStats, readFileSync, statSync } from 'node:fs';
import { atomicWriteFile } from '@aios/utils';

/** How long before a full check began the file must have last changed for it to be recorded. */
export const SETTLED_MS = 2_000;

/** What identifies a file's contents on disk (decimal strings of the nanosecond stat). */
interface FileStamp {
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

/** The record of a check is kept beside its file, under the file's name and this suffix. */
export const CHECKED_SUFFIX = '.checked';

const recordPath = (path: string) => `${path}${CHECKED_SUFFIX}`;

function stampOf(path: string): FileStamp | undefined {
  let st: BigIntStats | undefined;
  try {
    st = statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  if (!st) return undefined;
  return {
    dev: String(st.dev),
    ino: String(st.ino),
    size: String(st.size),
    mtimeNs: String(st.mtimeNs),
    ctimeNs: String(st.ctimeNs),
  };
}

function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}

/** Whether `path`, now as `stamp`, was checked in full before and is unchanged since. */
function checkedBefore(path: string, stamp: FileStamp): boolean {
  let recorded: FileStamp;
  try {
    recorded = JSON.parse(readFileSync(recordPath(path), 'utf8'));
  } catch {
    return false;
  }
  return sameStamp(recorded, stamp);
}

/**
 * Records a full check of `path` that began at `startedAt` (ms since the epoch) on the file
 * as `stamp` found it: only when the file had settled by then and has not changed since.
 * Failing to write the record (a read-only home) is no failure.
 */
async function recordCheck(path: string, stamp: FileStamp, startedAt: number): Promise<void> {
  const changed = BigInt(stamp.ctimeNs) > BigInt(stamp.mtimeNs) ? stamp.ctimeNs : stamp.mtimeNs;
  const settled = BigInt(startedAt - SETTLED_MS) * 1_000_000n;
  if (BigInt(changed) > settled || !sameStamp(stampOf(path), stamp)) return;
  await atomicWriteFile(recordPath(path), `${JSON.stringify(stamp)}\n`).catch(() => undefined);
}

/**
 * Loads `path` with `load`: told `verified` when a record says the file was checked in
 * full before and is unchanged, then checking only its structure; else checking it in
 * full, and recording that check (unless `record` is false: a memory open to read only
 * writes nothing, not even this cache). `load` is called before this function first
 * awaits, so that a load started here overlaps what its caller does next.
 */
export async function loadChecked<T>(
  path: string,
  load: (verified: boolean) => Promise<T>,
  record = true,
): Promise<T> {
  const startedAt = Date.now();
  const stamp = stampOf(path);
  const verified = stamp !== undefined && checkedBefore(path, stamp);
  const loaded = await load(verified);
  if (!verified) {
    if (stamp && record) await recordCheck(path, stamp, startedAt);
    return loaded;
  }
  // Changed while it was read: read again, in full.
  return sameStamp(stampOf(path), stamp) ? loaded : load(false);
}
