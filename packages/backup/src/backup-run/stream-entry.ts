import { AiosError, invalidInput } from '@aios/utils';
import { loadBackupBinding } from '../binding.js';
import { loadZstd } from '../engine/js.js';
import { type ChunkerParams, validateChunkerParams } from '../fastcdc.js';
import { type Entry, isSafeRelativePath } from '../format.js';
import { aborted } from '../repo/cancel.js';
import type { BackupRun } from './state.js';

/**
 * A file of the snapshot whose bytes come from a stream (a database dump piped out of
 * `pg_dump`) instead of the filesystem: cut, hashed, compressed and packed as it arrives,
 * never held whole in memory nor written to a temporary file.
 */
export interface StreamedEntry {
  /**
   * Its path in the snapshot: relative and `/`-separated, like the other entries' (which
   * are absolute source paths without their leading `/`); its parent directories are added.
   */
  path: string;
  /** Opens the bytes; called once, under the repository's lock, after the files are stored. */
  open: () => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>;
  /**
   * FastCDC bounds for this entry (default the repository's). Smaller chunks keep more of a
   * dump whose rows moved a little; chunks of any size are stored and read alike.
   */
  chunker?: ChunkerParams;
  /** Permission bits of the entry (default 0o600). */
  mode?: number;
}

/**
 * zstd of one chunk (a frame with its content size, as the engine's blobs): the native
 * binding's `zstdCompress` on the native implementation, `@bokuweb/zstd-wasm` on js.
 */
async function compressor(run: BackupRun): Promise<(data: Uint8Array) => Uint8Array> {
  const level = run.repo.config.compression.level;
  if (run.repo.engine.implementation === 'native') {
    const { binding } = loadBackupBinding();
    if (binding) return (data) => binding.zstdCompress(data, level);
  }
  // The js engine's instance: a second init of the wasm module would break the first.
  const zstd = await loadZstd();
  // zstd-wasm reads a view from the start of its buffer: it is given a copy of its own.
  return (data) => zstd.compress(Uint8Array.prototype.slice.call(data), level);
}

/** The stream is cut once this many bytes (or the end) are buffered. */
const WINDOW_MIN = 8 * 1024 * 1024;

/** Checks the streamed entries of a backup before anything is read. */
export function checkStreamedEntries(streams: unknown): StreamedEntry[] {
  if (streams === undefined) return [];
  const valid =
    Array.isArray(streams) &&
    streams.every(
      (s) =>
        typeof s === 'object' &&
        s !== null &&
        typeof s.path === 'string' &&
        isSafeRelativePath(s.path) &&
        typeof s.open === 'function',
    );
  if (!valid) {
    throw invalidInput(
      'options.streams',
      streams,
      'an array of { path: a relative snapshot path, open: () => AsyncIterable<Uint8Array> }',
    );
  }
  const list = streams as StreamedEntry[];
  for (const s of list) if (s.chunker) validateChunkerParams(s.chunker, 'options.streams.chunker');
  return list;
}

/**
 * Stores each streamed entry in the run (after its files): its parent directories are
 * added when the walk did not find them. A path the walk found already is refused
 * (`INVALID_INPUT`); a stream that fails fails the backup (no snapshot is written).
 */
export async function storeStreamedEntries(run: BackupRun, streams: StreamedEntry[]) {
  if (streams.length === 0) return;
  const compress = await compressor(run);
  const now = (BigInt(Date.now()) * 1_000_000n).toString();
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  for (const s of streams) {
    if (run.entries.has(s.path)) {
      throw new AiosError(
        'INVALID_INPUT',
        `the streamed entry ${s.path} is also a path of the backed-up files`,
        { details: { path: s.path } },
      );
    }
    const parts = s.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (run.entries.has(dir)) continue;
      run.entries.set(dir, {
        path: dir,
        type: 'dir',
        mode: 0o700,
        size: 0,
        mtimeNs: now,
        uid,
        gid,
        inode: 0,
      });
    }
    const mode = s.mode ?? 0o600;
    const entry: Entry = {
      path: s.path,
      type: 'file',
      mode,
      size: 0,
      mtimeNs: now,
      uid,
      gid,
      inode: 0,
      chunks: [],
    };
    run.progress.add(0);
    await storeStream(run, entry, await s.open(), s.chunker ?? run.repo.config.chunker, compress);
    run.entries.set(entry.path, entry);
    run.summary.filesNew++;
    // Its bytes were counted, in the total and done alike, as they were stored.
    run.progress.fileDone(0);
    run.progress.report(entry.path);
  }
  // Snapshot entries are sorted by path (FORMAT.md), the streamed ones among the others.
  const sorted = [...run.entries.values()].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
  run.entries.clear();
  for (const e of sorted) run.entries.set(e.path, e);
}

/**
 * Cuts the stream as a file of its bytes would be cut: a boundary is final once `maxSize`
 * bytes after its chunk's start are buffered (FastCDC looks no further), so chunks are
 * taken from a window of at least WINDOW_MIN bytes and the rest waits for more data.
 */
async function storeStream(
  run: BackupRun,
  entry: Entry,
  source: AsyncIterable<Uint8Array>,
  params: ChunkerParams,
  compress: (data: Uint8Array) => Uint8Array,
): Promise<void> {
  // At least 4 * maxSize: a cut leaves less than maxSize behind, so the window never fills.
  const capacity = Math.max(WINDOW_MIN, params.maxSize * 4);
  const window = Buffer.allocUnsafe(capacity);
  let len = 0;
  const chunks: string[] = [];
  const cutWindow = async (eof: boolean) => {
    aborted(run.signal, 'backup');
    const data = window.subarray(0, len);
    const found = run.repo.engine.chunkBytes(data, params);
    const final = found.filter((c) => eof || len - c.offset >= params.maxSize);
    // Chunks the repository has are reused only once their packs are proven intact.
    await run.guard.ensure(
      final.map((c) => c.id),
      run.signal,
    );
    for (const c of final) {
      chunks.push(c.id);
      if (run.has(c.id)) continue;
      const raw = data.subarray(c.offset, c.offset + c.length);
      const blob = compress(raw);
      await run.writer.add(c.id, blob, c.length);
      run.summary.chunksNew++;
      run.summary.bytesNew += c.length;
      run.summary.bytesStored += blob.length;
      if (run.writer.size >= run.repo.config.packSize) await run.finishPack();
    }
    const last = final.at(-1);
    const used = last ? last.offset + last.length : 0;
    window.copyWithin(0, used, len);
    len -= used;
    entry.size += used;
    run.progress.streamed(used);
    run.progress.report(entry.path);
  };
  for await (const piece of source) {
    let at = 0;
    while (at < piece.length) {
      const n = Math.min(piece.length - at, window.length - len);
      window.set(piece.subarray(at, at + n), len);
      len += n;
      at += n;
      if (len === window.length) await cutWindow(false);
    }
  }
  if (len > 0) await cutWindow(true);
  entry.chunks = chunks;
}
