import type { ContentHasher, ImplementationReport } from '@aios/utils';
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

/** Where a window of a file starts (a chunk boundary) and about how many bytes it spans. */
export interface WindowRequest {
  path: string;
  offset: number;
  /** The window ends at the first chunk boundary at or past `offset + budget`. */
  budget: number;
}

/** A chunk read in one pass with its blob (zstd frame). */
export interface BlobChunk extends ChunkInfo {
  data: Uint8Array;
}

/** The chunks of a window; `eof` when it reached the end of the file, at `end`. */
export interface FileWindow {
  chunks: BlobChunk[];
  end: number;
  eof: boolean;
}

/** Where a stored chunk lies: the pack file's path and the blob's place in it. */
export interface BlobLocation {
  pack: string;
  offset: number;
  length: number;
  rawLength: number;
  id: string;
}

/** A file to restore whole: written at `tmp` (new), then given its mode and mtime, renamed to `target`. */
export interface RestoreFileRequest {
  tmp: string;
  target: string;
  mode: number;
  mtimeMs: number;
  chunks: BlobLocation[];
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
  /**
   * Reads, chunks, hashes and compresses a window of each file in one pass (every chunk is
   * compressed: meant for files the repository is unlikely to hold). Blobs may be views of
   * `arena` (the caller's buffer, reused): they are valid until the arena is passed again,
   * and the caller does not touch it until the promise settles. Optional: engines
   * without it chunk with `chunkFiles` and compress with `compressRanges`.
   */
  chunkWindows?(
    requests: WindowRequest[],
    params: ChunkerParams,
    level: number,
    arena?: Uint8Array,
  ): Promise<ItemResult<FileWindow>[]>;
  /**
   * Restores whole files from their blobs (decoded and checked, each file's temp file removed
   * on failure); the value is the bytes written. Optional: engines without it restore
   * through `decodeBlobs`.
   */
  restoreFiles?(items: RestoreFileRequest[]): Promise<ItemResult<number>[]>;
  /**
   * Starts writing a range of an open file to the disk without waiting (Linux
   * `sync_file_range`), so that its fsync has little left to do. Optional.
   */
  startWriteback?(fd: number, offset: number, length: number): void;
  /** BLAKE3 hex of bytes. */
  hash(data: Uint8Array): string;
  /**
   * An incremental BLAKE3 for pack ids that hashes on the calling thread. Optional:
   * without it packs are hashed with `@aios/utils`' hasher.
   */
  createPackHasher?(): ContentHasher;
}
