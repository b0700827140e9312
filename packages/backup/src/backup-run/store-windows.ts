import type { BlobChunk, ChunkInfo, FileWindow, ItemResult } from '../engine/types.js';
import { aborted } from '../repo/cancel.js';
import type { BackupRun, FileWork } from './state.js';

/** A call covers about this many bytes (a window of a large file, or many small files). */
const WINDOW_BYTES = 32 * 1024 * 1024;
const WINDOW_FILES = 256;
/** Room in an arena for zstd's framing of incompressible chunks (a window of small files). */
const ARENA_SLACK = 1024 * 1024;

interface Reading {
  w: FileWork;
  chunks: ChunkInfo[];
  offset: number;
}

type Windows = Promise<Array<ItemResult<FileWindow>>>;

/**
 * Stores files the parent snapshot does not have in one pass each: the engine reads,
 * chunks, hashes and compresses a window at a time (`chunkWindows`), and the chunks the
 * repository lacks are appended to the pack while the next window is read. A file larger
 * than a window goes on from where its last window ended. Calls `done` with each file read
 * to its end and its chunks, a window's worth at a time (the caller checks they did not change meanwhile); an unreadable
 * file is dropped with a warning.
 */
export async function storeInWindows(
  run: BackupRun,
  files: FileWork[],
  done: (files: Array<Reading & { size: number }>) => Promise<void>,
): Promise<void> {
  const { engine, config } = run.repo;
  const chunkWindows = engine.chunkWindows?.bind(engine);
  if (!chunkWindows) throw new Error('the engine reads no windows');
  const queue = groups(files);
  // Two arenas for the blobs, one per window in flight (see the engine's `chunkWindows`):
  // a window's arena is passed again only once its blobs are written.
  const arenaBytes = WINDOW_BYTES + 2 * config.chunker.maxSize + ARENA_SLACK;
  const arenas = [Buffer.allocUnsafeSlow(arenaBytes), Buffer.allocUnsafeSlow(arenaBytes)];
  let turn = 0;
  const start = (unit: Reading[]): Windows => {
    const arena = arenas[turn++ % 2] as Buffer;
    const p = chunkWindows(
      unit.map((r) => ({ path: r.w.item.abs, offset: r.offset, budget: WINDOW_BYTES })),
      config.chunker,
      config.compression.level,
      arena,
    );
    p.catch(() => undefined); // awaited below; never an unhandled rejection
    return p;
  };
  let unit = queue.shift();
  let pending = unit ? start(unit) : undefined;
  while (unit && pending) {
    aborted(run.signal, 'backup');
    const results = await pending;
    const current = unit;
    // A file that goes on is read on at once, while this window is written.
    const continued: Reading[] = [];
    for (const [i, r] of current.entries()) {
      const res = results[i] as ItemResult<FileWindow>;
      if (res.ok && !res.value.eof) continued.push({ ...r, offset: res.value.end });
    }
    unit = continued.length > 0 ? continued : queue.shift();
    pending = unit ? start(unit) : undefined;
    await writeWindows(run, current, results, continued, done);
    // This window's arena is reused by the next window started.
    await run.writer.drain();
  }
}

/** Small files together, up to WINDOW_BYTES or WINDOW_FILES; a large file on its own. */
function groups(files: FileWork[]): Reading[][] {
  const out: Reading[][] = [];
  let unit: Reading[] = [];
  let bytes = 0;
  for (const w of files) {
    const size = Math.min(w.entry.size, WINDOW_BYTES);
    if (unit.length > 0 && (bytes + size > WINDOW_BYTES || unit.length >= WINDOW_FILES)) {
      out.push(unit);
      unit = [];
      bytes = 0;
    }
    unit.push({ w, chunks: [], offset: 0 });
    bytes += size;
  }
  if (unit.length > 0) out.push(unit);
  return out;
}

async function writeWindows(
  run: BackupRun,
  unit: Reading[],
  results: Array<ItemResult<FileWindow>>,
  continued: Reading[],
  done: (files: Array<Reading & { size: number }>) => Promise<void>,
): Promise<void> {
  const blobs: BlobChunk[] = [];
  for (const res of results) if (res.ok) blobs.push(...res.value.chunks);
  // Chunks the repository has are reused once their packs are proven intact.
  await run.guard.ensure(
    blobs.map((b) => b.id),
    run.signal,
  );
  for (const b of blobs) {
    if (run.has(b.id)) continue;
    await run.writer.add(b.id, b.data, b.length);
    run.summary.chunksNew++;
    run.summary.bytesNew += b.length;
    run.summary.bytesStored += b.data.length;
    if (run.writer.size >= run.repo.config.packSize) await run.finishPack();
  }
  const finished: Array<Reading & { size: number }> = [];
  for (const [i, r] of unit.entries()) {
    const res = results[i] as ItemResult<FileWindow>;
    if (!res.ok) {
      run.drop(r.w.entry, { path: r.w.item.abs, code: res.code, message: res.message });
      continue;
    }
    const chunks = [
      ...r.chunks,
      ...res.value.chunks.map((c) => ({ id: c.id, offset: c.offset, length: c.length })),
    ];
    const next = continued.find((c) => c.w === r.w);
    if (next) next.chunks = chunks;
    else finished.push({ ...r, chunks, size: res.value.end });
  }
  if (finished.length > 0) await done(finished);
}
