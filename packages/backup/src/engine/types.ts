import type { ImplementationReport } from '@aios/utils';
import type { ChunkerParams } from '../fastcdc.js';

/** One chunk of a file: its BLAKE3 id and where it lies. */
export interface ChunkInfo {
  id: string;
  offset: number;
  length: number;
}

/** A per-item outcome of a batch: one unreadable file never fails the batch. */
export type ItemResult<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

export interface FileChunks {
  size: number;
  chunks: ChunkInfo[];
}

/** A byte range of a file that should still hold the chunk `id`. */
export interface RangeRequest {
  path: string;
  offset: number;
  length: number;
  id: string;
}

/** A stored blob (zstd frame) and the chunk it must decode to. */
export interface BlobRequest {
  data: Uint8Array;
  id: string;
  rawLength: number;
}

/**
 * The data path of a repository, implemented twice (native: Rust via napi, rayon-parallel;
 * js: TypeScript FastCDC, BLAKE3 from `@aios/utils`, zstd from `@bokuweb/zstd-wasm`).
 * Everything else (format, snapshots, locking, restore, retention) is shared TypeScript
 * on top of it, so both implementations write byte-compatible repositories.
 */
export interface Engine {
  readonly implementation: ImplementationReport['implementation'];
  readonly report: ImplementationReport;
  /** FastCDC boundaries and ids of an in-memory buffer. */
  chunkBytes(data: Uint8Array, params: ChunkerParams): ChunkInfo[];
  /** Reads, chunks and hashes each file. */
  chunkFiles(paths: string[], params: ChunkerParams): Promise<ItemResult<FileChunks>[]>;
  /** Re-reads each range, checks it still hashes to its id (`FILE_CHANGED`), compresses it. */
  compressRanges(requests: RangeRequest[], level: number): Promise<ItemResult<Uint8Array>[]>;
  /** Decompresses each blob and checks it against its id and length (`CHUNK_DAMAGED`). */
  decodeBlobs(blobs: BlobRequest[]): Promise<ItemResult<Uint8Array>[]>;
  /** BLAKE3 hex of bytes. */
  hash(data: Uint8Array): string;
}
