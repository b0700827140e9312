import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type AiosError, fromNodeIoError } from '@aios/utils';
import {
  FORMAT_VERSION,
  type IndexFile,
  PACK_MAGIC,
  parseIndex,
  type SnapshotFile,
} from '../format.js';
import type { ChunkLocation, Repository } from '../repository.js';
import { aborted } from './cancel.js';
import { listDir, readJson } from './fsutil.js';
import { packPath } from './pack.js';

/**
 * Repository verification: the structure (config, indexes, snapshots, which chunks each
 * file needs) always, and for a chosen share of packs every chunk decoded and hashed.
 */
export interface VerifyOptions {
  /** Percentage (0-100) of pack files whose every chunk is decompressed and hashed. */
  readData?: number;
  signal?: AbortSignal;
}

export interface VerifyResult {
  ok: boolean;
  /** Structural problems, each with a code. */
  errors: Array<{ code: string; message: string }>;
  snapshots: number;
  packs: number;
  chunks: number;
  checkedPacks: number;
  checkedChunks: number;
  /** Chunks whose bytes are damaged or missing. */
  damagedChunks: string[];
  /** Packs with damage outside any chunk (header) or damaged chunks. */
  damagedPacks: string[];
  /** Snapshots holding files that use a damaged or missing chunk. */
  affectedSnapshots: Array<{ id: string; paths: string[] }>;
}

export async function verifyRepository(
  repo: Repository,
  readData: number,
  signal?: AbortSignal,
): Promise<VerifyResult> {
  const errors: VerifyResult['errors'] = [];
  const damaged = new Set<string>();
  const damagedPacks = new Set<string>();
  const chunks = new Map<string, ChunkLocation>();
  const packs: IndexFile[] = [];
  for (const name of await listDir(join(repo.path, 'index'))) {
    if (!name.endsWith('.json')) continue;
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
      errors.push({
        code: 'REPO_CORRUPT',
        message: `index ${name} describes pack ${index.pack}`,
      });
    }
    try {
      const s = await stat(packPath(repo.path, index.pack));
      if (s.size !== index.size) {
        errors.push({
          code: 'PACK_DAMAGED',
          message: `pack ${index.pack}: ${s.size} bytes, index says ${index.size}`,
        });
        damagedPacks.add(index.pack);
      }
    } catch {
      errors.push({ code: 'PACK_MISSING', message: `pack ${index.pack} is indexed but missing` });
      for (const b of index.blobs) damaged.add(b.id);
      continue;
    }
    packs.push(index);
    for (const b of index.blobs)
      if (!chunks.has(b.id)) chunks.set(b.id, { ...b, pack: index.pack });
  }

  // Snapshots: ids, shapes, chunk references.
  const snapshots: Array<SnapshotFile & { id: string }> = [];
  for (const id of await repo.snapshotIds()) {
    try {
      snapshots.push(await repo.loadSnapshot(id));
    } catch (error) {
      errors.push({
        code: (error as AiosError).code ?? 'REPO_CORRUPT',
        message: (error as Error).message,
      });
    }
  }
  for (const s of snapshots) {
    for (const e of s.entries) {
      if (e.type !== 'file') continue;
      let total = 0;
      for (const c of e.chunks ?? []) {
        const loc = chunks.get(c);
        if (!loc) {
          if (!damaged.has(c)) {
            errors.push({
              code: 'CHUNK_MISSING',
              message: `snapshot ${s.id}: ${e.path} uses chunk ${c}, which no index has`,
            });
          }
          damaged.add(c);
        } else total += loc.rawLength;
      }
      if ([...(e.chunks ?? [])].every((c) => chunks.has(c)) && total !== e.size) {
        errors.push({
          code: 'REPO_CORRUPT',
          message: `snapshot ${s.id}: ${e.path} is ${e.size} bytes but its chunks add up to ${total}`,
        });
      }
    }
  }

  // Data: decode every blob of the chosen packs.
  let checkedPacks = 0;
  let checkedChunks = 0;
  if (readData > 0 && packs.length > 0) {
    const count = Math.min(packs.length, Math.ceil((packs.length * readData) / 100));
    const chosen = [...packs].sort(() => Math.random() - 0.5).slice(0, count);
    for (const index of chosen) {
      aborted(signal, 'verify');
      let bytes: Buffer;
      try {
        bytes = await readFile(packPath(repo.path, index.pack));
      } catch (error) {
        errors.push({
          code: 'PACK_MISSING',
          message: fromNodeIoError(error, index.pack).message,
        });
        continue;
      }
      checkedPacks++;
      if (
        bytes.subarray(0, 8).toString('latin1') !== PACK_MAGIC ||
        bytes.readUInt32LE(8) !== FORMAT_VERSION
      ) {
        damagedPacks.add(index.pack);
        errors.push({ code: 'PACK_DAMAGED', message: `pack ${index.pack}: bad header` });
      }
      const requests = index.blobs.map((b) => ({
        data: bytes.subarray(b.offset, b.offset + b.length),
        id: b.id,
        rawLength: b.rawLength,
      }));
      for (let i = 0; i < requests.length; i += 64) {
        const part = requests.slice(i, i + 64);
        const decoded = await repo.engine.decodeBlobs(part);
        for (const [k, r] of decoded.entries()) {
          checkedChunks++;
          if (!r.ok) {
            const id = (part[k] as (typeof part)[number]).id;
            damaged.add(id);
            damagedPacks.add(index.pack);
            errors.push({ code: 'CHUNK_DAMAGED', message: `pack ${index.pack}: ${r.message}` });
          }
        }
      }
      if (repo.engine.hash(bytes) !== index.pack && !damagedPacks.has(index.pack)) {
        damagedPacks.add(index.pack);
        errors.push({
          code: 'PACK_DAMAGED',
          message: `pack ${index.pack}: bytes outside any chunk are damaged`,
        });
      }
    }
  }
  // A chunk stored intact in another pack is not lost.
  const lost = new Set(
    [...damaged].filter((c) => {
      const loc = chunks.get(c);
      return !loc || damagedPacks.has(loc.pack);
    }),
  );
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
    chunks: chunks.size,
    checkedPacks,
    checkedChunks,
    damagedChunks: [...lost].sort(),
    damagedPacks: [...damagedPacks].sort(),
    affectedSnapshots,
  };
}
