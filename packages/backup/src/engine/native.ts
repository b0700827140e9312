import {
  type ContentHasher,
  callNative,
  createHashing,
  type ImplementationReport,
} from '@aios/utils';
import type * as BackupNative from '../../native/index.cjs';
import type { Engine, ItemResult } from './types.js';

export type BackupBinding = typeof BackupNative;

function blobResults(
  blobs: Array<{
    data?: Uint8Array | null;
    errorCode?: string | null;
    errorMessage?: string | null;
  }>,
): ItemResult<Uint8Array>[] {
  return blobs.map((b) =>
    b.data
      ? { ok: true, value: b.data }
      : { ok: false, code: b.errorCode ?? 'NATIVE_FAILURE', message: b.errorMessage ?? '' },
  );
}

/** The pack id hasher of the binding (serial BLAKE3 on the JS thread, see binding.rs). */
function packHasher(binding: BackupBinding): ContentHasher {
  const inner = callNative(() => new binding.PackHasher());
  const hasher: ContentHasher = {
    update(data) {
      callNative(() => inner.update(typeof data === 'string' ? Buffer.from(data) : data));
      return hasher;
    },
    digest: () => callNative(() => inner.digest()),
    reset() {
      callNative(() => inner.reset());
      return hasher;
    },
  };
  return hasher;
}

/** The native implementation: `fastcdc`, `blake3` and `zstd` crates, parallel with rayon. */
export async function createNativeEngine(
  binding: BackupBinding,
  report: ImplementationReport,
): Promise<Engine> {
  const hashing = await createHashing({ native: 'native' });
  return {
    implementation: 'native',
    report,
    hash: (data) => hashing.hashSync(data),
    createPackHasher: () => packHasher(binding),
    chunkBytes(data, p) {
      return callNative(() => binding.chunkBytes(data, p.minSize, p.avgSize, p.maxSize));
    },
    async chunkFiles(paths, p) {
      const out = await callNative(() =>
        binding.chunkFiles(paths, p.minSize, p.avgSize, p.maxSize),
      );
      return out.map((f) =>
        f.errorCode
          ? { ok: false, code: f.errorCode, message: f.errorMessage ?? '' }
          : { ok: true, value: { size: f.size, chunks: f.chunks } },
      );
    },
    async compressRanges(requests, level) {
      return blobResults(await callNative(() => binding.compressRanges(requests, level)));
    },
    async chunkWindows(requests, p, level, arena) {
      const out = await callNative(() =>
        binding.chunkWindows(requests, p.minSize, p.avgSize, p.maxSize, level, arena),
      );
      return out.map((w) =>
        w.errorCode
          ? { ok: false, code: w.errorCode, message: w.errorMessage ?? '' }
          : {
              ok: true,
              value: {
                chunks: w.chunks.map((c) => ({
                  id: c.id,
                  offset: c.offset,
                  length: c.length,
                  data: c.data ?? (arena as Uint8Array).subarray(c.at ?? 0, (c.at ?? 0) + c.size),
                })),
                end: w.end,
                eof: w.eof,
              },
            },
      );
    },
    async restoreFiles(items) {
      const out = await callNative(() => binding.restoreFiles(items));
      return out.map((r) =>
        r.errorCode
          ? { ok: false, code: r.errorCode, message: r.errorMessage ?? '' }
          : { ok: true, value: r.bytes },
      );
    },
    startWriteback(fd, offset, length) {
      callNative(() => binding.startWriteback(fd, offset, length));
    },
    async decodeBlobs(blobs) {
      return blobResults(
        await callNative(() =>
          binding.decodeBlobs(
            blobs.map((b) => b.data),
            blobs.map((b) => b.id),
            blobs.map((b) => b.rawLength),
          ),
        ),
      );
    },
  };
}
