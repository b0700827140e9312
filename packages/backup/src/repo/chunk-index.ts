import { join } from 'node:path';
import { isAiosError } from '@aios/utils';
import { type IndexBlob, type IndexFile, parseIndex } from '../format.js';
import { listDir, readJson } from './fsutil.js';
import { type PackCheck, readPackChecks } from './pack-checks.js';

/** Where a chunk is stored. */
export interface ChunkLocation extends IndexBlob {
  pack: string;
  /** This copy is known to be damaged (a check of its pack found it so). */
  damaged?: boolean;
  /** Another copy of the same chunk, tried when this one cannot be read or decoded. */
  next?: ChunkLocation;
}

export interface ChunkIndex {
  /** Every indexed chunk at its preferred copy (copies not known to be damaged first). */
  chunks: Map<string, ChunkLocation>;
  /** The index files, in name order. */
  files: IndexFile[];
  /** What is known about each pack's bytes (see pack-checks.ts). */
  checks: Map<string, PackCheck>;
  /** Index files that could not be parsed, skipped: their packs count as unindexed. */
  damaged: DamagedIndex[];
}

/** An index file whose content is damaged (not JSON, not an index). */
export interface DamagedIndex {
  /** The file's name in `index/`. */
  name: string;
  /** The pack the file is named after. */
  pack: string;
  message: string;
}

/**
 * The name of an index file, `<packId>.json`; other files in `index/` (an editor's backup, a
 * note) are none of the repository's and are left alone.
 */
export const INDEX_NAME = /^([0-9a-f]{64})\.json$/;

/**
 * Reads every index. A damaged index file is skipped and listed in `damaged`, so that it
 * costs the chunks of its one pack (as a lost index does: a backup stores them again, a
 * restore names the files that need them) instead of stopping every operation.
 * A chunk stored more than once (a chunk written again after its first
 * copy was found damaged; two backups racing on the same data) gets all its copies, linked
 * through `next`, intact ones first; readers fall back along the list.
 */
export async function loadChunkIndex(repo: string): Promise<ChunkIndex> {
  const checks = await readPackChecks(repo);
  const copies = new Map<string, ChunkLocation[]>();
  const files: IndexFile[] = [];
  const damagedIndexes: DamagedIndex[] = [];
  for (const name of await listDir(join(repo, 'index'))) {
    const pack = INDEX_NAME.exec(name)?.[1];
    if (!pack) continue;
    let index: IndexFile;
    try {
      index = parseIndex(name, await readJson(join(repo, 'index', name)));
    } catch (error) {
      // Only damaged content is skipped; a file that cannot be read at all (permissions,
      // I/O) still stops the operation, as the rest of the repository may be as unreadable.
      if (!isAiosError(error, 'REPO_CORRUPT')) throw error;
      damagedIndexes.push({ name, pack, message: error.message });
      continue;
    }
    files.push(index);
    const damaged = new Set(checks.get(index.pack)?.damaged ?? []);
    for (const b of index.blobs) {
      const loc: ChunkLocation = { ...b, pack: index.pack };
      if (damaged.has(b.id)) loc.damaged = true;
      const list = copies.get(b.id);
      if (list) list.push(loc);
      else copies.set(b.id, [loc]);
    }
  }
  const chunks = new Map<string, ChunkLocation>();
  for (const [id, list] of copies) chunks.set(id, linkCopies(list));
  return { chunks, files, checks, damaged: damagedIndexes };
}

/** Links copies into a fallback list, those not known to be damaged first (stable). */
export function linkCopies(list: ChunkLocation[]): ChunkLocation {
  const ordered = [...list.filter((l) => !l.damaged), ...list.filter((l) => l.damaged)];
  for (let i = 0; i < ordered.length; i++) {
    const loc = ordered[i] as ChunkLocation;
    loc.next = ordered[i + 1];
  }
  return ordered[0] as ChunkLocation;
}
