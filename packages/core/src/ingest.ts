import type { Memory } from '@aios/carma';
import { chatGptChunks, chatGptMessages, isChatGptExport } from './ingest/chatgpt.js';
import { type Chunk, textChunks } from './ingest/chunk.js';
import {
  collectFiles,
  type FileKind,
  kindOf,
  readText,
  type SkippedFile,
  sniffFile,
} from './ingest/files.js';
import { jsonLines, parseJsonFile, recordChunks } from './ingest/json.js';

export { chunkChatGptExport, isChatGptExport } from './ingest/chatgpt.js';
export { type Chunk, chunkText, MAX_CHUNK, textChunks } from './ingest/chunk.js';
export { binaryReason, collectFiles, MAX_FILE_BYTES, type SkippedFile } from './ingest/files.js';
export { MAX_JSON_DEPTH } from './ingest/json.js';

export interface IngestFileResult {
  path: string;
  chunks: number;
  added: number;
  duplicate: number;
  merged: number;
}

/** The file a stopped run was in: what of it was stored, up to which line. */
export interface PartialFile extends IngestFileResult {
  /** Line where the last stored fragment starts (0: none stored). */
  line: number;
}

export interface IngestResult {
  /** The files ingested completely. */
  files: IngestFileResult[];
  added: number;
  duplicate: number;
  merged: number;
  chunks: number;
  /** Entries not read: binary files, FIFOs and devices in folders, unreadable entries. */
  skipped: SkippedFile[];
  /** Why the run stopped early (the abort reason, e.g. `SIGINT`); absent when it finished. */
  interrupted?: string;
  /** The file the run stopped in, when it stopped part-way through one. */
  partial?: PartialFile;
}

export interface IngestProgress {
  /** The file being ingested. */
  file: string;
  /** Files ingested completely. */
  filesDone: number;
  filesTotal: number;
  /** Bytes of all files read so far (within the current file, estimated from its position). */
  bytesDone: number;
  bytesTotal: number;
  /** Fragments stored so far over every file (each batch is stored before it is reported). */
  chunksDone: number;
  added: number;
  duplicate: number;
  merged: number;
  /** What the current file gave so far. */
  result: IngestFileResult;
  /** True on the last event of a file. */
  fileDone: boolean;
}

export interface IngestOptions {
  /** CARMA namespace of the fragments (default `documents`). */
  namespace?: string;
  /** Stops the run before the next batch once aborted; what was stored stays. */
  signal?: AbortSignal;
  /**
   * Fragments written per `addMany` (one transaction each). Default: adapted as it goes so
   * that a batch takes about a quarter of a second, which bounds how long a stop waits.
   */
  batchSize?: number;
  onProgress?: (progress: IngestProgress) => void;
  /** Entries that are not read (binary files, FIFOs, unreadable entries in folders). */
  onSkip?: (skipped: SkippedFile) => void;
}

/** How long one batch should take: short enough to stop promptly, long enough to be efficient. */
const BATCH_TARGET_MS = 250;

/** The next batch size: halfway to the one that would have taken `BATCH_TARGET_MS`. */
function nextBatchSize(size: number, ms: number): number {
  const ideal = (size * BATCH_TARGET_MS) / Math.max(ms, 1);
  return Math.round(Math.min(1024, Math.max(8, (size + ideal) / 2)));
}

/** A file that was checked and will be ingested. */
interface Planned {
  path: string;
  size: number;
  kind: FileKind;
}

/** The chunks of a file, made as they are taken, and how far through the file they are. */
interface FileChunks {
  chunks: Iterator<Chunk>;
  fraction: () => number;
}

/**
 * Checks a file before anything is written: binary files are skipped, JSON and JSONL must
 * parse (a ChatGPT export must have its shape) and nest at most `MAX_JSON_DEPTH` deep.
 */
async function plan(path: string, onSkip: (s: SkippedFile) => void): Promise<Planned | undefined> {
  const { size, binary } = await sniffFile(path);
  if (binary) {
    onSkip({ path, reason: binary });
    return undefined;
  }
  const kind = kindOf(path);
  if (kind === 'json') {
    const value = parseJsonFile(await readText(path), path);
    if (isChatGptExport(value)) chatGptMessages(value, path);
  } else if (kind === 'jsonl') {
    for (const _ of jsonLines(await readText(path), path)) {
      // parsing each line is the check
    }
  }
  return { path, size, kind };
}

async function openChunks(file: Planned): Promise<FileChunks> {
  const { path, kind } = file;
  const text = await readText(path);
  let fraction = 0;
  const track = function* <T>(items: Iterable<T>, at: (item: T) => number): Generator<T> {
    for (const item of items) {
      fraction = at(item);
      yield item;
    }
  };
  const of = (count: number) => (n: number) => (count === 0 ? 1 : n / count);
  let chunks: Iterator<Chunk>;
  if (kind === 'text' || kind === 'markdown') {
    chunks = track(textChunks(text, path, kind), (c) => of(text.length)(c.offset));
  } else if (kind === 'jsonl') {
    chunks = (function* () {
      for (const record of track(jsonLines(text, path), (r) => of(text.length)(r.offset))) {
        yield* recordChunks(record.value, path, 'jsonl', record.offset, record.line);
      }
    })();
  } else {
    const value = parseJsonFile(text, path);
    if (isChatGptExport(value)) {
      const messages = chatGptMessages(value, path);
      chunks = (function* () {
        for (const [i, m] of track(messages.entries(), ([i]) => of(messages.length)(i))) {
          yield* chatGptChunks([m], path);
          fraction = of(messages.length)(i + 1);
        }
      })();
    } else {
      const items = Array.isArray(value) ? value : [value];
      chunks = (function* () {
        for (const [i, item] of track(items.entries(), ([i]) => of(items.length)(i))) {
          yield* recordChunks(item, path, 'json', i, 1);
        }
      })();
    }
  }
  return { chunks, fraction: () => fraction };
}

/** Reads one file into chunks (JSON: one record per array element; JSONL: one per line). */
export async function chunkFile(path: string): Promise<Chunk[]> {
  const planned = await plan(path, () => undefined);
  if (!planned) return [];
  const { chunks } = await openChunks(planned);
  const out: Chunk[] = [];
  for (let next = chunks.next(); !next.done; next = chunks.next()) out.push(next.value);
  return out;
}

/**
 * Imports files and folders into CARMA. Every file is checked first (a missing or malformed
 * file fails the run before anything is written; binary files, FIFOs and devices are
 * skipped), then each is chunked as it is read and stored in batches, one transaction each,
 * with its provenance (`metadata.source`, `offset`, `line`, `kind`). The work is linear in
 * the size of the input. Once `signal` is aborted the run stops before the next batch and
 * returns what was stored, with `interrupted` set. CARMA dedups by content hash, so running
 * again adds only what is missing.
 */
export async function ingest(
  memory: Memory,
  paths: string[],
  options: IngestOptions = {},
): Promise<IngestResult> {
  const { signal } = options;
  const fixed =
    options.batchSize === undefined ? undefined : Math.max(1, Math.floor(options.batchSize));
  let batchSize = fixed ?? 32;
  const result: IngestResult = {
    files: [],
    added: 0,
    duplicate: 0,
    merged: 0,
    chunks: 0,
    skipped: [],
  };
  const skip = (s: SkippedFile) => {
    result.skipped.push(s);
    options.onSkip?.(s);
  };
  const stop = () => {
    result.interrupted = String(signal?.reason ?? 'aborted');
    return result;
  };

  const planned: Planned[] = [];
  for (const path of await collectFiles(paths, { onSkip: skip })) {
    if (signal?.aborted) return stop();
    const file = await plan(path, skip);
    if (file) planned.push(file);
  }
  const bytesTotal = planned.reduce((n, f) => n + f.size, 0);
  let bytesBefore = 0;
  for (const [i, file] of planned.entries()) {
    if (signal?.aborted) return stop();
    const r: IngestFileResult = { path: file.path, chunks: 0, added: 0, duplicate: 0, merged: 0 };
    const { chunks, fraction } = await openChunks(file);
    let line = 0;
    const report = (fileDone: boolean) =>
      options.onProgress?.({
        file: file.path,
        filesDone: i + (fileDone ? 1 : 0),
        filesTotal: planned.length,
        bytesDone: bytesBefore + (fileDone ? file.size : Math.round(fraction() * file.size)),
        bytesTotal,
        chunksDone: result.chunks,
        added: result.added,
        duplicate: result.duplicate,
        merged: result.merged,
        result: { ...r },
        fileDone,
      });
    for (let next = chunks.next(); !next.done; ) {
      const batch: Chunk[] = [];
      for (; !next.done && batch.length < batchSize; next = chunks.next()) batch.push(next.value);
      // A turn of the event loop between batches: with a store that never waits for I/O,
      // awaiting a batch only runs microtasks, and a signal would not be seen until the end.
      await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) {
        if (r.chunks > 0) result.partial = { ...r, line };
        return stop();
      }
      const started = performance.now();
      const added = await memory.addMany(
        batch.map((c) => ({
          text: c.text,
          namespace: options.namespace ?? 'documents',
          metadata: { ...c.meta, source: c.source, offset: c.offset, line: c.line, kind: c.kind },
        })),
      );
      if (fixed === undefined) batchSize = nextBatchSize(batchSize, performance.now() - started);
      for (const a of added) {
        r[a.status]++;
        result[a.status]++;
      }
      r.chunks += batch.length;
      result.chunks += batch.length;
      line = (batch[batch.length - 1] as Chunk).line;
      report(false);
    }
    result.files.push(r);
    bytesBefore += file.size;
    report(true);
  }
  await memory.flush();
  return result;
}
