import { open, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createHashing, fromNodeIoError, type ImplementationReport } from '@aios/utils';
import { type ChunkerParams, cut, masksFor, validateChunkerParams } from '../fastcdc.js';
import type { ChunkInfo, Engine, FileChunks, ItemResult } from './types.js';
import { zstdContentSize } from './zstd-frame.js';

interface ZstdWasm {
  init(): Promise<void>;
  compress(data: Uint8Array, level?: number): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
}

const require = createRequire(import.meta.url);
let zstdReady: Promise<ZstdWasm> | undefined;

/** zstd compiled to WebAssembly (`@bokuweb/zstd-wasm`), initialised once per process. */
export function loadZstd(): Promise<ZstdWasm> {
  zstdReady ??= (async () => {
    const zstd = require('@bokuweb/zstd-wasm') as ZstdWasm;
    await zstd.init();
    return zstd;
  })();
  return zstdReady;
}

function failure(error: unknown, path: string): { ok: false; code: string; message: string } {
  const e = fromNodeIoError(error, path);
  return { ok: false, code: e.code, message: e.message };
}

/** The js implementation: TypeScript FastCDC, BLAKE3 via hash-wasm, zstd via wasm. */
export async function createJsEngine(report: ImplementationReport): Promise<Engine> {
  const hashing = await createHashing({ native: 'js' });
  const zstd = await loadZstd();
  const hash = (data: Uint8Array) => hashing.hashSync(data);

  const chunkBuffer = (data: Uint8Array, params: ChunkerParams): ChunkInfo[] => {
    validateChunkerParams(params);
    const m = masksFor(params);
    const out: ChunkInfo[] = [];
    let start = 0;
    while (start < data.length) {
      const count = cut(data, start, data.length, params, m);
      out.push({ id: hash(data.subarray(start, start + count)), offset: start, length: count });
      start += count;
    }
    return out;
  };

  async function chunkFile(path: string, params: ChunkerParams): Promise<FileChunks> {
    const info = await stat(path);
    if (!info.isFile()) {
      throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EISDIR' });
    }
    const handle = await open(path, 'r');
    try {
      const m = masksFor(params);
      // Same buffering as the Rust side: always max_size bytes ahead, or the end of file.
      // A small file gets a buffer of its own size plus one byte: one read sees its end.
      const capacity = Math.min(Math.max(params.maxSize * 4, 8 * 1024 * 1024), info.size + 1);
      const buf = Buffer.allocUnsafe(capacity);
      let len = 0;
      let start = 0;
      let offset = 0;
      let eof = false;
      const chunks: ChunkInfo[] = [];
      for (;;) {
        if (!eof && len - start < params.maxSize) {
          buf.copyWithin(0, start, len);
          len -= start;
          start = 0;
          while (len < capacity) {
            const { bytesRead } = await handle.read(buf, len, capacity - len, null);
            if (bytesRead === 0) break;
            len += bytesRead;
          }
          if (len < capacity) eof = true;
        }
        if (start >= len) break;
        const count = cut(buf, start, len, params, m);
        chunks.push({ id: hash(buf.subarray(start, start + count)), offset, length: count });
        start += count;
        offset += count;
      }
      return { size: offset, chunks };
    } finally {
      await handle.close();
    }
  }

  return {
    implementation: 'js',
    report,
    hash,
    chunkBytes: chunkBuffer,
    async chunkFiles(paths, params) {
      validateChunkerParams(params);
      const results: ItemResult<FileChunks>[] = [];
      for (const path of paths) {
        try {
          results.push({ ok: true, value: await chunkFile(path, params) });
        } catch (error) {
          results.push(failure(error, path));
        }
      }
      return results;
    },
    async compressRanges(requests, level) {
      const results: ItemResult<Uint8Array>[] = [];
      for (const req of requests) {
        let handle: Awaited<ReturnType<typeof open>> | undefined;
        try {
          handle = await open(req.path, 'r');
          const buf = Buffer.allocUnsafe(req.length);
          let filled = 0;
          while (filled < req.length) {
            const { bytesRead } = await handle.read(
              buf,
              filled,
              req.length - filled,
              req.offset + filled,
            );
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          if (filled < req.length || hash(buf) !== req.id) {
            results.push({
              ok: false,
              code: 'FILE_CHANGED',
              message: `${req.path}: bytes ${req.offset}..${req.offset + req.length} changed while being backed up`,
            });
          } else {
            results.push({ ok: true, value: zstd.compress(buf, level) });
          }
        } catch (error) {
          results.push(failure(error, req.path));
        } finally {
          await handle?.close();
        }
      }
      return results;
    },
    async decodeBlobs(blobs) {
      return blobs.map((blob): ItemResult<Uint8Array> => {
        const damaged = (why: string) => ({
          ok: false as const,
          code: 'CHUNK_DAMAGED',
          message: `chunk ${blob.id}: ${why}`,
        });
        const declared = zstdContentSize(blob.data);
        if (declared !== blob.rawLength) return damaged('zstd frame header is damaged');
        let data: Uint8Array;
        try {
          data = zstd.decompress(blob.data);
        } catch (error) {
          return damaged(`zstd: ${(error as Error).message}`);
        }
        if (data.length !== blob.rawLength) {
          return damaged(`${data.length} bytes, expected ${blob.rawLength}`);
        }
        const actual = hash(data);
        if (actual !== blob.id) return damaged(`content hashes to ${actual}`);
        return { ok: true, value: data };
      });
    },
  };
}
