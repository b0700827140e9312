import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AiosError } from '@aios/utils';
import { type IndexFile, parseIndex, type SnapshotFile } from '../format.js';
import { aborted } from './cancel.js';
import { INDEX_NAME } from './chunk-index.js';
import { listDir, readJson } from './fsutil.js';
import { isCurrent, type PackCheck, readPackChecks, recordPackCheck } from './pack-checks.js';
import { checkPackData } from './read-pack.js';
import type { SnapshotStore } from './stores.js';

/**
 * Repository verification: the structure (config, indexes, snapshots, which chunks each
 * file needs) always, and for a share of the packs every chunk decoded and hashed.
 */
export interface VerifyOptions {
  /**
   * Percentage (0-100) of pack files whose every chunk is decompressed and hashed; default
   * `DEFAULT_READ_DATA`. Packs written to since their last check are read first, then those
   * checked longest ago; 0 checks the structure only.
   */
  readData?: number;
  signal?: AbortSignal;
}

/** The share of packs a plain `verify()` reads whole (at least one when there are packs). */
export const DEFAULT_READ_DATA = 10;

export interface VerifyResult {
  ok: boolean;
  /** Structural problems and damage, each with a code. */
  errors: Array<{ code: string; message: string }>;
  snapshots: number;
  packs: number;
  chunks: number;
  /** The share of packs that was to be read (the `readData` used). */
  readData: number;
  checkedPacks: number;
  checkedChunks: number;
  /** Chunks whose every stored copy is damaged or missing. */
  damagedChunks: string[];
  /** Packs with damage outside any chunk (header) or damaged chunks. */
  damagedPacks: string[];
  /** Snapshots holding files that use a damaged or missing chunk. */
  affectedSnapshots: Array<{ id: string; paths: string[] }>;
  /** Snapshot files that cannot be read or do not match their id. */
  damagedSnapshots: string[];
}

interface PackInfo {
  index: IndexFile;
  stats: BigIntStats;
  check: PackCheck | undefined;
}

/** The packs to read: changed since their last check first, then the longest unchecked. */
function choosePacks(packs: PackInfo[], readData: number): PackInfo[] {
  if (readData <= 0 || packs.length === 0) return [];
  const count = Math.min(packs.length, Math.ceil((packs.length * readData) / 100));
  const keyed = packs.map((p) => ({
    p,
    current: isCurrent(p.check, p.stats) ? 1 : 0,
    time: p.check?.time ?? '',
    tie: Math.random(),
  }));
  keyed.sort(
    (a, b) =>
      a.current - b.current || (a.time < b.time ? -1 : a.time > b.time ? 1 : 0) || a.tie - b.tie,
  );
  return keyed.slice(0, count).map((k) => k.p);
}

export async function verifyRepository(
  repo: SnapshotStore,
  readData: number,
  signal?: AbortSignal,
): Promise<VerifyResult> {
  const errors: VerifyResult['errors'] = [];
  /** Damaged copies, as `<pack>:<chunk>`. */
  const damagedCopies = new Set<string>();
  const damagedPacks = new Set<string>();
  const missingPacks = new Set<string>();
  /** Every pack that holds each chunk. */
  const copies = new Map<string, string[]>();
  const rawLength = new Map<string, number>();
  const packs: PackInfo[] = [];
  const checks = await readPackChecks(repo.path);
  for (const name of await listDir(join(repo.path, 'index'))) {
    if (!INDEX_NAME.test(name)) continue;
    let index: IndexFile;
    try {
      index = parseIndex(name, await readJson(join(repo.path, 'index', name)));
    } catch (error) {
      errors.push({
        code: (error as AiosError).code ?? 'REPO_CORRUPT',
        message: (error as Error).message,
      });
      continue;
    }
    if (name !== `${index.pack}.json`) {
      errors.push({ code: 'REPO_CORRUPT', message: `index ${name} describes pack ${index.pack}` });
    }
    for (const b of index.blobs) {
      copies.set(b.id, [...(copies.get(b.id) ?? []), index.pack]);
      if (!rawLength.has(b.id)) rawLength.set(b.id, b.rawLength);
    }
    let stats: BigIntStats;
    try {
      stats = await stat(join(repo.path, 'data', index.pack.slice(0, 2), index.pack), {
        bigint: true,
      });
    } catch {
      errors.push({ code: 'PACK_MISSING', message: `pack ${index.pack} is indexed but missing` });
      missingPacks.add(index.pack);
      continue;
    }
    if (stats.size !== BigInt(index.size)) {
      errors.push({
        code: 'PACK_DAMAGED',
        message: `pack ${index.pack}: ${stats.size} bytes, index says ${index.size}`,
      });
      damagedPacks.add(index.pack);
    }
    packs.push({ index, stats, check: checks.get(index.pack) });
  }

  // Snapshots: ids, shapes, chunk references.
  const snapshots: Array<SnapshotFile & { id: string }> = [];
  const damagedSnapshots: string[] = [];
  for (const id of await repo.snapshotIds()) {
    try {
      snapshots.push(await repo.loadSnapshot(id));
    } catch (error) {
      damagedSnapshots.push(id);
      errors.push({
        code: (error as AiosError).code ?? 'REPO_CORRUPT',
        message: (error as Error).message,
      });
    }
  }
  const reported = new Set<string>();
  for (const s of snapshots) {
    for (const e of s.entries) {
      if (e.type !== 'file') continue;
      let total = 0;
      let complete = true;
      for (const c of e.chunks ?? []) {
        const length = rawLength.get(c);
        if (length === undefined) {
          complete = false;
          if (!reported.has(c)) {
            reported.add(c);
            errors.push({
              code: 'CHUNK_MISSING',
              message: `snapshot ${s.id}: ${e.path} uses chunk ${c}, which no index has`,
            });
          }
        } else total += length;
      }
      if (complete && total !== e.size) {
        errors.push({
          code: 'REPO_CORRUPT',
          message: `snapshot ${s.id}: ${e.path} is ${e.size} bytes but its chunks add up to ${total}`,
        });
      }
    }
  }

  // Data: every blob of the chosen packs; what earlier checks found in the others.
  let checkedPacks = 0;
  let checkedChunks = 0;
  const chosen = choosePacks(packs, readData);
  const read = new Set<string>();
  for (const p of chosen) {
    aborted(signal, 'verify');
    const pack = p.index.pack;
    let result: Awaited<ReturnType<typeof checkPackData>>;
    try {
      result = await checkPackData(repo, p.index);
    } catch (error) {
      errors.push({ code: 'PACK_MISSING', message: `pack ${pack}: ${(error as Error).message}` });
      continue;
    }
    read.add(pack);
    checkedPacks++;
    checkedChunks += result.chunks;
    if (result.badHeader) {
      damagedPacks.add(pack);
      errors.push({ code: 'PACK_DAMAGED', message: `pack ${pack}: bad header` });
    }
    for (const id of result.damaged) {
      damagedCopies.add(`${pack}:${id}`);
      damagedPacks.add(pack);
      errors.push({ code: 'CHUNK_DAMAGED', message: `pack ${pack}: chunk ${id} is damaged` });
    }
    if (result.hashMismatch && !damagedPacks.has(pack)) {
      damagedPacks.add(pack);
      errors.push({
        code: 'PACK_DAMAGED',
        message: `pack ${pack}: bytes outside any chunk are damaged`,
      });
    }
    await recordPackCheck(repo.path, pack, p.stats, result.damaged);
  }
  for (const p of packs) {
    if (read.has(p.index.pack)) continue;
    for (const id of p.check?.damaged ?? []) {
      damagedCopies.add(`${p.index.pack}:${id}`);
      damagedPacks.add(p.index.pack);
      errors.push({
        code: 'CHUNK_DAMAGED',
        message: `pack ${p.index.pack}: chunk ${id} was found damaged on ${p.check?.time}`,
      });
    }
  }
  // A chunk is lost when no copy of it is intact (one stored again elsewhere is not).
  const intact = (id: string, pack: string) =>
    !missingPacks.has(pack) && !damagedCopies.has(`${pack}:${id}`);
  const lost = new Set<string>();
  for (const id of reported) lost.add(id);
  for (const key of damagedCopies) {
    const id = key.slice(key.indexOf(':') + 1);
    if (!(copies.get(id) ?? []).some((pack) => intact(id, pack))) lost.add(id);
  }
  if (missingPacks.size > 0) {
    for (const [id, where] of copies) {
      if (where.some((p) => missingPacks.has(p)) && !where.some((p) => intact(id, p))) lost.add(id);
    }
  }
  const affectedSnapshots: VerifyResult['affectedSnapshots'] = [];
  for (const s of snapshots) {
    const paths = s.entries
      .filter((e) => e.type === 'file' && e.chunks?.some((c) => lost.has(c)))
      .map((e) => e.path);
    if (paths.length > 0) affectedSnapshots.push({ id: s.id, paths });
  }
  return {
    ok: errors.length === 0,
    errors,
    snapshots: snapshots.length,
    packs: packs.length,
    chunks: copies.size,
    readData,
    checkedPacks,
    checkedChunks,
    damagedChunks: [...lost].sort(),
    damagedPacks: [...damagedPacks].sort(),
    affectedSnapshots,
    damagedSnapshots,
  };
}
