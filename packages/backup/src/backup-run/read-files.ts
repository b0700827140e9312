import type { BigIntStats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import type { FileChunks, ItemResult } from '../engine/types.js';
import { aborted } from '../repo/cancel.js';
import { itemStats } from '../repo/walk.js';
import type { BackupRun, FileWork } from './state.js';
import { type ChunkedFile, storeNewChunks } from './store-chunks.js';
import { storeInWindows } from './store-windows.js';

/** Files are chunked this many (or this many bytes) at a time. */
const BATCH_FILES = 64;
const BATCH_BYTES = 32 * 1024 * 1024;

type Chunking = Promise<Array<ItemResult<FileChunks>>>;

/**
 * Reads, chunks and stores the files. Files new since the parent snapshot are read once
 * each when the engine can (`chunkWindows`: chunked, hashed and compressed in one pass);
 * the others in batches: the engine chunks a batch (in parallel, natively) while the
 * previous one is compressed and packed, so only their new chunks are compressed.
 */
export async function storeFiles(run: BackupRun, toRead: FileWork[]): Promise<void> {
  const windows = run.repo.engine.chunkWindows !== undefined;
  const fresh = windows ? toRead.filter((w) => w.fresh) : [];
  const retry: FileWork[] = [];
  if (fresh.length > 0) {
    await storeInWindows(run, fresh, async (read) => {
      const results = read.map(({ chunks, size }) => ({
        ok: true as const,
        value: { size, chunks },
      }));
      const works = read.map((r) => r.w);
      recordFiles(run, await checkUnchanged(run, works, results, retry));
      run.progress.report(works.at(-1)?.item.abs);
    });
  }
  // Files that changed while read in one pass are read again the two-pass way.
  const rest = [...(windows ? toRead.filter((w) => !w.fresh) : toRead), ...retry];
  const batches = intoBatches(rest);
  let next = batches.length > 0 ? chunk(run, batches[0] as FileWork[]) : undefined;
  for (let b = 0; b < batches.length; b++) {
    const current = next as Chunking;
    next = b + 1 < batches.length ? chunk(run, batches[b + 1] as FileWork[]) : undefined;
    await storeBatch(run, batches[b] as FileWork[], current);
  }
}

function intoBatches(files: FileWork[]): FileWork[][] {
  const batches: FileWork[][] = [];
  let batch: FileWork[] = [];
  let bytes = 0;
  for (const w of files) {
    batch.push(w);
    bytes += w.entry.size;
    if (batch.length >= BATCH_FILES || bytes >= BATCH_BYTES) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function chunk(run: BackupRun, work: FileWork[]): Chunking {
  const p = run.repo.engine.chunkFiles(
    work.map((w) => w.item.abs),
    run.repo.config.chunker,
  );
  p.catch(() => undefined); // awaited by storeBatch; never an unhandled rejection
  return p;
}

/** Stores one batch; the files that changed while read are read once more. */
async function storeBatch(run: BackupRun, work: FileWork[], chunked: Chunking): Promise<void> {
  let pending = work;
  let results: Chunking | undefined = chunked;
  while (pending.length > 0) {
    aborted(run.signal, 'backup');
    const retry: FileWork[] = [];
    const ready = await checkUnchanged(run, pending, await (results ?? chunk(run, pending)), retry);
    results = undefined;
    const failed = await storeNewChunks(run, ready, retry);
    recordFiles(
      run,
      ready.filter(({ w }) => !failed.has(w)),
    );
    pending = retry;
    run.progress.report(work.at(-1)?.item.abs);
  }
}

/**
 * Sorts chunked files: unreadable ones are dropped with a warning, and a file whose size
 * or mtime moved while it was read goes to `retry` for a second read; if it keeps
 * changing, what was read is kept (and reported by `recordFiles`).
 */
async function checkUnchanged(
  run: BackupRun,
  pending: FileWork[],
  results: Array<ItemResult<FileChunks>>,
  retry: FileWork[],
): Promise<ChunkedFile[]> {
  const ready: ChunkedFile[] = [];
  // The files' stats after the read, taken together (the libuv pool runs them in parallel).
  const stats = await Promise.all(
    results.map((result, i) =>
      result.ok
        ? lstat((pending[i] as FileWork).item.abs, { bigint: true }).catch(() => undefined)
        : undefined,
    ),
  );
  for (const [i, result] of results.entries()) {
    const w = pending[i] as FileWork;
    if (!result.ok) {
      run.drop(w.entry, { path: w.item.abs, code: result.code, message: result.message });
      continue;
    }
    const after: BigIntStats | undefined = stats[i];
    const changed =
      !after ||
      after.size !== w.item.stats.size ||
      after.mtimeNs !== w.item.stats.mtimeNs ||
      BigInt(result.value.size) !== w.item.stats.size;
    if (changed && w.attempt === 0 && after) {
      retry.push({ item: { ...w.item, stats: itemStats(after) }, entry: w.entry, attempt: 1 });
      continue;
    }
    ready.push({ w, file: result.value, changed });
  }
  return ready;
}

/** Gives each stored file its chunk list; one that changed while read is reported. */
function recordFiles(run: BackupRun, stored: ChunkedFile[]): void {
  for (const { w, file, changed } of stored) {
    if (changed) {
      run.warnings.push({
        path: w.item.abs,
        code: 'FILE_CHANGED',
        message: `${w.item.abs}: changed while being backed up; stored as read`,
      });
    }
    w.entry.chunks = file.chunks.map((c) => c.id);
    w.entry.size = file.size;
    run.progress.fileDone(Number(w.item.stats.size));
  }
}
