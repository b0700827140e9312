import type { FileChunks } from '../engine/types.js';
import type { BackupRun, FileWork } from './state.js';

/** A file chunked in full; `changed` when its size or mtime moved while it was read. */
export interface ChunkedFile {
  w: FileWork;
  file: FileChunks;
  changed: boolean;
}

/** New chunks are compressed this many bytes at a time, bounding memory. */
const COMPRESS_BYTES = 32 * 1024 * 1024;

interface Request {
  w: FileWork;
  id: string;
  offset: number;
  length: number;
}

/**
 * Stores the chunks of `ready` files that the repository does not have: each is read again
 * from its file, checked to still hash to its id, compressed and appended to the pack being
 * written (finished whenever it reaches the pack size). Chunks the repository has are
 * reused once their packs are proven intact. Returns the files that could not be stored: a
 * file that changed under a first read goes to `retry`, any other is dropped with a warning.
 */
export async function storeNewChunks(
  run: BackupRun,
  ready: ChunkedFile[],
  retry: FileWork[],
): Promise<Set<FileWork>> {
  await run.guard.ensure(
    ready.flatMap(({ file }) => file.chunks.map((c) => c.id)),
    run.signal,
  );
  const failed = new Set<FileWork>();
  let requests: Request[] = [];
  let requestBytes = 0;
  const flush = async () => {
    const batch = requests;
    requests = [];
    requestBytes = 0;
    await compressAndWrite(run, batch, failed, retry);
  };
  const queued = new Set<string>();
  for (const { w, file } of ready) {
    for (const c of file.chunks) {
      if (run.has(c.id) || queued.has(c.id)) continue;
      queued.add(c.id);
      requests.push({ w, id: c.id, offset: c.offset, length: c.length });
      requestBytes += c.length;
      if (requestBytes >= COMPRESS_BYTES) await flush();
    }
  }
  await flush();
  return failed;
}

async function compressAndWrite(
  run: BackupRun,
  requests: Request[],
  failed: Set<FileWork>,
  retry: FileWork[],
): Promise<void> {
  if (requests.length === 0) return;
  const { engine, config } = run.repo;
  const blobs = await engine.compressRanges(
    requests.map((r) => ({ path: r.w.item.abs, offset: r.offset, length: r.length, id: r.id })),
    config.compression.level,
  );
  for (const [i, blob] of blobs.entries()) {
    const r = requests[i] as Request;
    if (!blob.ok) {
      if (!failed.has(r.w)) {
        failed.add(r.w);
        if (blob.code === 'FILE_CHANGED' && r.w.attempt === 0) {
          retry.push({ ...r.w, attempt: 1 });
        } else {
          run.drop(r.w.entry, { path: r.w.item.abs, code: blob.code, message: blob.message });
        }
      }
      continue;
    }
    if (run.has(r.id)) continue;
    await run.writer.add(r.id, blob.value, r.length);
    run.summary.chunksNew++;
    run.summary.bytesNew += r.length;
    run.summary.bytesStored += blob.value.length;
    if (run.writer.size >= config.packSize) await run.finishPack();
  }
}
