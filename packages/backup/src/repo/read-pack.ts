import { readFile } from 'node:fs/promises';
import { FORMAT_VERSION, type IndexFile, PACK_MAGIC } from '../format.js';
import { packPath } from './pack.js';
import type { PackStore } from './stores.js';

export interface PackDataCheck {
  /** Chunks whose stored copy does not decode to its id and length. */
  damaged: string[];
  /** The pack's header is not the format's. */
  badHeader: boolean;
  /** The file no longer hashes to its id (damage inside a chunk, or between chunks). */
  hashMismatch: boolean;
  chunks: number;
}

const DECODE_BATCH = 64;

/** Reads a whole pack: header, every blob decoded and hashed, and the pack's own BLAKE3. */
export async function checkPackData(repo: PackStore, index: IndexFile): Promise<PackDataCheck> {
  const bytes = await readFile(packPath(repo.path, index.pack));
  const badHeader =
    bytes.length < 12 ||
    bytes.subarray(0, 8).toString('latin1') !== PACK_MAGIC ||
    bytes.readUInt32LE(8) !== FORMAT_VERSION;
  const damaged: string[] = [];
  const requests = index.blobs.map((b) => ({
    data: bytes.subarray(b.offset, b.offset + b.length),
    id: b.id,
    rawLength: b.rawLength,
  }));
  for (let i = 0; i < requests.length; i += DECODE_BATCH) {
    const part = requests.slice(i, i + DECODE_BATCH);
    const decoded = await repo.engine.decodeBlobs(part);
    for (const [k, r] of decoded.entries()) {
      if (!r.ok) damaged.push((part[k] as (typeof part)[number]).id);
    }
  }
  return {
    damaged,
    badHeader,
    hashMismatch: repo.engine.hash(bytes) !== index.pack,
    chunks: requests.length,
  };
}
