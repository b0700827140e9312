import { join } from 'node:path';
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
}

/**
 * Reads every index. A chunk stored more than once (a chunk written again after its first
 * copy was found damaged; two backups racing on the same data) gets all its copies, linked
 * through `next`, intact ones first; readers fall back along the list.
 */
export async function loadChunkIndex(repo: string): Promise<ChunkIndex> {
  const checks = await readPackChecks(repo);
  const copies = new Map<string, ChunkLocation[]>();
  const files: IndexFile[] = [];
  for (const name of await listDir(join(repo, 'index'))) {
    if (!name.endsWith('.json')) continue;
    const index = parseIndex(name, await readJson(join(repo, 'index', name)));
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
  return { chunks, files, checks };
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
