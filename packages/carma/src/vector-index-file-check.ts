/**
 * Checks of a memory's index files from the outside, without opening the memory (for
 * `aios doctor`): the checksum of each `index-<generation>.bin` and
 * `lexical-<generation>.bin`, and the removal of temporary files
 * (`index-<generation>.bin.tmp-<pid>`, the same for lexical files) left by processes that
 * died while writing one.
 */
import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultHashing, fromNodeIoError, invalidInput, isProcessAlive } from '@aios/utils';
import {
  CHECKSUM_BYTES,
  END,
  FORMAT_VERSION,
  HEADER_PREFIX_BYTES,
  MAGIC,
} from './engine/file-format.js';
import { LEXICAL_FORMAT_VERSION } from './engine/js/lexical-file.js';

/** The verdict on one index file. */
export interface IndexFileCheck {
  /** Its path. */
  file: string;
  /** Its checksum matches its contents (or, format version 1, it has none to check). */
  ok: boolean;
  /** Why it is not ok, or what is worth knowing about it. */
  reason?: string;
}

const INDEX_FILE = /^(?:index|lexical)-(\d+)\.bin$/;
/**
 * Temporary files of both implementations' writers, past and present (and of label maps and
 * the records of checks, see checked-files.ts).
 */
const TEMP_FILE =
  /^(?:(?:index|lexical)-\d+(?:\.bin)?\.tmp-(\d+)|\.(?:labels-\d+\.bin|(?:index|lexical|labels)-\d+\.bin\.checked)\.(\d+)\.[0-9a-f]+\.tmp)$/;
/** The lexical index file's magic (crates/carma/src/bm25/file.rs): every version has a checksum. */
const LEXICAL_MAGIC = 'CARMALX1';

function checkDir(dir: unknown): string {
  if (typeof dir !== 'string' || dir === '') {
    throw invalidInput('dir', dir, "a memory's directory");
  }
  return dir;
}

/** The names in `dir`; none when it does not exist (a memory that never wrote a file). */
async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromNodeIoError(error, dir);
  }
}

/**
 * Removes the temporary index files in `dir` whose writer is no longer running, and
 * returns their paths. Files of running processes (this one included) are left alone:
 * they may be writing them right now. One that cannot be removed (permissions) is left
 * too, and not listed: it is garbage, never read, so it is not worth failing an open for.
 */
export async function removeStaleIndexTempFiles(dir: string): Promise<string[]> {
  checkDir(dir);
  const removed: string[] = [];
  for (const name of (await names(dir)).sort()) {
    const found = TEMP_FILE.exec(name);
    const pid = Number(found?.[1] ?? found?.[2] ?? 0);
    if (pid <= 0 || isProcessAlive(pid)) continue;
    const path = join(dir, name);
    try {
      await rm(path);
      removed.push(path);
    } catch {
      // Gone already (another process cleaned it) or not ours to remove.
    }
  }
  return removed;
}

/** Reads the file once: the header, and the checksum against everything before it. */
async function checkFile(file: string): Promise<IndexFileCheck> {
  const hasher = await (await defaultHashing()).createHasher();
  let head = Buffer.alloc(0);
  // The last CHECKSUM_BYTES + END.length bytes seen, not hashed yet.
  let tail = Buffer.alloc(0);
  let size = 0;
  const keep = CHECKSUM_BYTES + END.length;
  try {
    for await (const chunk of createReadStream(file)) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (head.length < HEADER_PREFIX_BYTES) {
        head = Buffer.concat([head, bytes.subarray(0, HEADER_PREFIX_BYTES - head.length)]);
      }
      const pending = Buffer.concat([tail, bytes]);
      const cut = Math.max(0, pending.length - keep);
      hasher.update(pending.subarray(0, cut));
      tail = pending.subarray(cut);
    }
  } catch (error) {
    return { file, ok: false, reason: fromNodeIoError(error, file).message };
  }
  if (size < HEADER_PREFIX_BYTES) return { file, ok: false, reason: 'truncated' };
  const magic = head.subarray(0, 8).toString('latin1');
  if (magic !== MAGIC && magic !== LEXICAL_MAGIC) {
    return { file, ok: false, reason: 'not a CARMA index file (bad magic)' };
  }
  const version = head.readUInt32LE(8);
  if (version === 1 && magic === MAGIC) {
    return {
      file,
      ok: true,
      reason: `format version 1 has no checksum: it is read with structural checks, and rewritten in version ${FORMAT_VERSION} by the next change`,
    };
  }
  // Vector index files of version 2 differ from 3 only in having no row codes.
  const known =
    magic === MAGIC
      ? version >= 2 && version <= FORMAT_VERSION
      : version >= 1 && version <= LEXICAL_FORMAT_VERSION;
  if (!known) {
    return { file, ok: false, reason: `unsupported version ${version}` };
  }
  if (size < HEADER_PREFIX_BYTES + keep) return { file, ok: false, reason: 'truncated' };
  hasher.update(tail.subarray(0, END.length));
  if (hasher.digest() !== tail.subarray(END.length).toString('hex')) {
    return {
      file,
      ok: false,
      reason: 'checksum mismatch (damaged or incomplete since it was written)',
    };
  }
  if (tail.subarray(0, END.length).toString('latin1') !== END) {
    return { file, ok: false, reason: 'missing end marker (truncated write?)' };
  }
  return { file, ok: true };
}

/**
 * Verifies the checksum of every index file in a memory's directory (oldest generation
 * first, its vector file before its lexical one) without loading them. A file that is not ok is harmless to the memory, which
 * rebuilds its index from the database instead of trusting it. A directory that does
 * not exist has no files to check.
 */
export async function verifyIndexFiles(dir: string): Promise<IndexFileCheck[]> {
  checkDir(dir);
  const files = (await names(dir))
    .map((name) => ({ name, generation: Number(INDEX_FILE.exec(name)?.[1] ?? -1) }))
    .filter((f) => f.generation >= 0)
    .sort((a, b) => a.generation - b.generation || (a.name < b.name ? -1 : 1));
  const checks: IndexFileCheck[] = [];
  for (const { name } of files) checks.push(await checkFile(join(dir, name)));
  return checks;
}
