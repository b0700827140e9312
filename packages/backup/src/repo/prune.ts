import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IndexBlob, IndexFile, RepoConfig } from '../format.js';
import { aborted } from './cancel.js';
import { loadChunkIndex } from './chunk-index.js';
import { listDir, removeDurably } from './fsutil.js';
import { indexPath, type PackWriter, packPath } from './pack.js';
import { checkPath, removeStaleChecks } from './pack-checks.js';
import { PackHandles } from './pack-handles.js';
import type { SnapshotStore } from './stores.js';

/** What prune needs of its repository. */
export interface PruneTarget extends SnapshotStore {
  readonly config: RepoConfig;
}

export interface PruneWarning {
  code: string;
  message: string;
}

export interface PruneResult {
  packsDeleted: number;
  packsRewritten: number;
  packsWritten: number;
  /** Packs left as they are although they hold data no snapshot uses (see `warnings`). */
  packsKept: number;
  chunksRemoved: number;
  bytesFreed: number;
  /** Why data was kept, and damaged snapshots whose chunks were kept. */
  warnings: PruneWarning[];
}

const HEX64_ANYWHERE = /[0-9a-f]{64}/g;

/**
 * The chunks the snapshots use. A damaged snapshot file (edited, truncated) cannot be
 * parsed into a tree, but every chunk id still written in it is counted as used: prune
 * never frees what a snapshot may still name.
 */
async function usedChunks(repo: SnapshotStore, warnings: PruneWarning[]): Promise<Set<string>> {
  const used = new Set<string>();
  for (const id of await repo.snapshotIds()) {
    try {
      for (const e of (await repo.loadSnapshot(id)).entries)
        for (const c of e.chunks ?? []) used.add(c);
    } catch (error) {
      const path = join(repo.path, 'snapshots', `${id}.json`);
      const text = await readFile(path, 'latin1'); // unreadable: prune stops here
      const named = text.match(HEX64_ANYWHERE) ?? [];
      for (const c of named) used.add(c);
      warnings.push({
        code: 'SNAPSHOT_DAMAGED',
        message: `${(error as Error).message}; the ${named.length} chunk ids the damaged snapshot still names are kept (forgetting it by id removes it)`,
      });
    }
  }
  return used;
}

/** Identity of one stored copy of a chunk. */
const copyKey = (pack: string, b: IndexBlob) => `${pack}@${b.offset}`;

/**
 * Deletes data no snapshot uses, and only data it can prove unused: each used chunk keeps
 * one copy (an intact one when there is one); packs with no kept copy are deleted, packs
 * with some are rewritten with only those (new pack and index durable before the old index,
 * then the old pack, are removed). A pack is kept whole when a copy it must keep is damaged
 * (copying would lose the readable part), and a pack without an index is kept while some
 * chunk a snapshot uses is in no index (it may be there). Each such decision is a warning.
 *
 * `signal` stops it (`ABORTED`) before it reads the next pack to rewrite: packs written so
 * far are durable copies beside the old ones, which nothing was removed from, as when a
 * prune is killed there; the next prune frees them. Once every new pack is durable, the
 * removals run to the end, quickly and whatever the signal.
 */
export async function pruneRepository(
  repo: PruneTarget,
  writer: PackWriter,
  /** Makes the writer's pack durable; returns its id. */
  finishPack: () => Promise<string | undefined>,
  signal?: AbortSignal,
): Promise<PruneResult> {
  const result: PruneResult = {
    packsDeleted: 0,
    packsRewritten: 0,
    packsWritten: 0,
    packsKept: 0,
    chunksRemoved: 0,
    bytesFreed: 0,
    warnings: [],
  };
  const used = await usedChunks(repo, result.warnings);
  aborted(signal, 'prune');
  const { files, checks, damaged: damagedIndexes } = await loadChunkIndex(repo.path);
  /** The damaged index file of each pack that has one (removed with its pack). */
  const damagedIndexOf = new Map(damagedIndexes.map((d) => [d.pack, d]));
  const present = new Set<string>();
  for (const f of files) {
    try {
      await stat(packPath(repo.path, f.pack));
      present.add(f.pack);
    } catch {
      // indexed but missing: verify reports it; its index is left for that
    }
  }
  // The copy each used chunk keeps: the first intact one, else the first at all.
  const keeper = new Map<string, { key: string; damaged: boolean }>();
  for (const f of files) {
    if (!present.has(f.pack)) continue;
    const damaged = new Set(checks.get(f.pack)?.damaged ?? []);
    for (const b of f.blobs) {
      if (!used.has(b.id)) continue;
      const current = keeper.get(b.id);
      const bad = damaged.has(b.id);
      if (!current || (current.damaged && !bad)) {
        keeper.set(b.id, { key: copyKey(f.pack, b), damaged: bad });
      }
    }
  }
  const unstored = [...used].filter((c) => !keeper.has(c)).length;

  const toDelete: IndexFile[] = [];
  const rewritten = new Set<string>();
  const written = new Set<string>();
  const finish = async () => {
    const pack = await finishPack();
    if (pack) {
      written.add(pack);
      result.packsWritten++;
    }
  };
  const handles = new PackHandles(repo.path);
  try {
    for (const f of files) {
      if (!present.has(f.pack)) continue;
      aborted(signal, 'prune');
      const needed = f.blobs.filter((b) => keeper.get(b.id)?.key === copyKey(f.pack, b));
      if (needed.length === f.blobs.length) continue;
      if (needed.length === 0) {
        toDelete.push(f);
        continue;
      }
      const keepWhole = (why: string) => {
        result.packsKept++;
        result.warnings.push({
          code: 'PACK_KEPT',
          message: `pack ${f.pack} is kept whole: ${why}`,
        });
      };
      if (needed.some((b) => keeper.get(b.id)?.damaged)) {
        keepWhole(
          'a chunk that snapshots use has no intact copy and this damaged one is all there is',
        );
        continue;
      }
      const requests: Array<{ data: Uint8Array; id: string; rawLength: number }> = [];
      let unreadable: string | undefined;
      for (const b of needed) {
        try {
          requests.push({
            data: await handles.read(f.pack, b.offset, b.length),
            id: b.id,
            rawLength: b.rawLength,
          });
        } catch (error) {
          // Truncated or unreadable here: what the pack still holds is kept as it is.
          unreadable = `chunk ${b.id} that snapshots use cannot be read: ${(error as Error).message} (run verify)`;
          break;
        }
      }
      if (unreadable) {
        keepWhole(unreadable);
        continue;
      }
      const decoded = await repo.engine.decodeBlobs(requests);
      const bad = decoded.flatMap((r, i) =>
        r.ok ? [] : [(requests[i] as (typeof requests)[number]).id],
      );
      if (bad.length > 0) {
        keepWhole(`chunk ${bad[0]} that snapshots use is damaged here (run verify)`);
        continue;
      }
      for (const req of requests) {
        await writer.add(req.id, req.data, req.rawLength);
        if (writer.size >= repo.config.packSize) await finish();
      }
      toDelete.push(f);
      rewritten.add(f.pack);
      result.packsRewritten++;
    }
  } finally {
    await handles.close();
  }
  if (writer.count > 0) await finish();
  for (const f of toDelete) {
    // Written again by this prune: a pack is named by its bytes, so the pack a prune killed
    // after writing it left beside the old one comes back with the same id when the old
    // one is rewritten. It is that new pack now, not a copy to delete.
    if (written.has(f.pack)) continue;
    await removeDurably(indexPath(repo.path, f.pack));
    await removeDurably(packPath(repo.path, f.pack));
    await removeDurably(checkPath(repo.path, f.pack));
    if (!rewritten.has(f.pack)) result.packsDeleted++;
    result.bytesFreed += f.size;
    result.chunksRemoved += f.blobs.filter(
      (b) => keeper.get(b.id)?.key !== copyKey(f.pack, b),
    ).length;
  }
  // Packs no index describes (left by a crash before their index was written, or whose
  // index was lost): unused for certain only when every used chunk is stored elsewhere.
  const indexed = new Set([
    ...files.filter((f) => !toDelete.includes(f)).map((f) => f.pack),
    ...written,
  ]);
  const remaining = new Set<string>();
  for (const dir of await listDir(join(repo.path, 'data'))) {
    for (const name of await listDir(join(repo.path, 'data', dir))) {
      if (indexed.has(name)) {
        remaining.add(name);
        continue;
      }
      const path = join(repo.path, 'data', dir, name);
      const damagedIndex = damagedIndexOf.get(name);
      if (unstored > 0) {
        remaining.add(name);
        result.packsKept++;
        result.warnings.push({
          code: 'PACK_KEPT',
          message: `pack ${name} ${damagedIndex ? `has a damaged index (${damagedIndex.message})` : 'has no index'} and is kept: ${unstored} chunks that snapshots use are in no index and may be in it`,
        });
        continue;
      }
      result.bytesFreed += (await stat(path)).size;
      await removeDurably(path);
      // Its damaged index goes with it: verify would report it for ever otherwise.
      if (damagedIndex) await removeDurably(join(repo.path, 'index', damagedIndex.name));
      result.packsDeleted++;
    }
  }
  for (const pack of indexed) remaining.add(pack);
  await removeStaleChecks(repo.path, remaining);
  return result;
}
