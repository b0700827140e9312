import { existsSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Memory } from '@aios/carma';
import { AiosError, createHashing, type Hashing } from '@aios/utils';
import type { Chunk } from './ingest/chunk.js';
import { fileText, hashedText, openChunks } from './ingest/file-chunks.js';
import {
  collectFiles,
  type FileKind,
  givenPaths,
  isDocument,
  kindOf,
  readText,
  type SkippedFile,
  sniffFile,
} from './ingest/files.js';
import { type ForgetResult, forgetSources, planForget } from './ingest/forget.js';
import { skipReason } from './ingest/json.js';
import { csvRecords, jsonlRecords, jsonRecords, type ParsedRecords } from './ingest/json-file.js';
import { readerMissing } from './ingest/readers.js';
import { FileSync, type LegacyIndex, type SyncConflict } from './ingest/sync.js';
import { type IngestTarget, isIngestTarget, stopReason, within } from './ingest/target.js';
import { isExportedFragment } from './memory-records.js';

export { chunkChatGptExport, isChatGptExport } from './ingest/chatgpt.js';
export { type Chunk, chunkText, MAX_CHUNK, textChunks } from './ingest/chunk.js';
export {
  binaryReason,
  collectFiles,
  headProblem,
  INGEST_EXTENSIONS,
  INGEST_KINDS_TEXT,
  MAX_FILE_BYTES,
  type SkippedFile,
} from './ingest/files.js';
export {
  type ForgetPlan,
  type ForgetResult,
  type ForgetSelection,
  forgetSources,
  planForget,
} from './ingest/forget.js';
export { MAX_JSON_DEPTH } from './ingest/json.js';
export type { SyncConflict } from './ingest/sync.js';
export type { IngestTarget } from './ingest/target.js';

/** Where ingested fragments go unless told otherwise. */
export const DEFAULT_INGEST_NAMESPACE = 'documents';

export interface IngestFileResult {
  path: string;
  /**
   * `new`: not ingested before (always, without a source index); `changed` since it was;
   * `unchanged`: skipped, its fragments are as the last ingest left them.
   */
  status: 'new' | 'changed' | 'unchanged';
  chunks: number;
  added: number;
  duplicate: number;
  merged: number;
  /** Pieces ingested before and still stored as they were. */
  kept: number;
  /** Pieces whose fragment the user edited: kept as edited. */
  edited: number;
  /** Pieces whose fragment the user deleted: left out, not added again. */
  deleted: number;
  /** Fragments removed because the file no longer has them. */
  removed: number;
  /** Fragments the user edited that the file no longer has as ingested: kept (see `conflicts`). */
  conflicts: number;
}

/** The file a stopped run was in: what of it was stored, up to which line. */
export interface PartialFile extends IngestFileResult {
  /** Line where the last stored fragment starts (0: none stored). */
  line: number;
}

export interface IngestResult {
  /** The namespace the fragments are in. */
  namespace: string;
  /** The files ingested completely (and those skipped as unchanged). */
  files: IngestFileResult[];
  added: number;
  duplicate: number;
  merged: number;
  chunks: number;
  /** Files skipped because they did not change since they were last ingested. */
  unchanged: number;
  kept: number;
  edited: number;
  deleted: number;
  removed: number;
  /** Fragments the user edited whose text the file no longer has: kept, for the user to decide. */
  conflicts: SyncConflict[];
  /**
   * Files ingested before from the paths given that are gone from disk: their fragments stay
   * unless `prune` was given (then they are in `pruned`).
   */
  missing: string[];
  /** What `prune` removed: the fragments of the files in `missing`. */
  pruned?: ForgetResult;
  /** Entries not read: binary files, FIFOs and devices in folders, unreadable entries. */
  skipped: SkippedFile[];
  /**
   * Files in the folders given left unread for their extension, counted by extension in
   * lower case (`''`: none), such as `{ ".pdf": 3 }`.
   */
  otherKinds: Record<string, number>;
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
  /**
   * Removes the fragments of files ingested before from the paths given that are gone from
   * disk (a path given that no longer exists counts when files were ingested from it).
   */
  prune?: boolean;
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
  /**
   * The name a file is recorded and cited under (`metadata.source`, the source index);
   * default its path. Files staged elsewhere to be read (an upload) keep one name, the
   * one they were given, wherever they were staged.
   */
  sourceName?: (path: string) => string;
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
  /** What it is recorded and cited as (`IngestOptions.sourceName`). */
  source: string;
  size: number;
  modifiedAt: number;
  kind: FileKind;
  /** What the source index knows of it: unchanged files are skipped. */
  status: IngestFileResult['status'];
  /** A JSON, JSONL or CSV file's records, parsed when it was checked (see `HELD_PARSED_CHARS`). */
  parsed?: ParsedRecords;
}

/**
 * How much JSON, JSONL and CSV text (in characters) a run holds parsed from its check to
 * its turn: the files past it are parsed again in their turn, so that a run over many large ones
 * holds one at a time, as it did before their parses were kept.
 */
const HELD_PARSED_CHARS = 64 * 1024 * 1024;

const EXPORT_SKIPPED =
  'an aios memory export: `aios memory import <file>` restores its fragments with their namespaces, importance and metadata';

/** The kinds of files whose records are all parsed when they are checked. */
type RecordKind = 'json' | 'jsonl' | 'csv';
const isRecordKind = (kind: FileKind): kind is RecordKind =>
  kind === 'json' || kind === 'jsonl' || kind === 'csv';

/**
 * Checks a JSON, JSONL or CSV file by parsing every record (a broken one throws): its
 * records, or why a JSONL file is left out whole (an `aios memory export`, for import).
 */
async function checkRecords(
  path: string,
  kind: RecordKind,
): Promise<{ parsed: ParsedRecords } | { problem: string }> {
  const text = await readText(path);
  if (kind === 'json') return { parsed: jsonRecords(text, path) };
  if (kind === 'csv') return { parsed: csvRecords(text, path) };
  // Ingested, an export would lose its namespaces, importance and metadata, and be a
  // second copy in the home it came from.
  const parsed = jsonlRecords(text, path, isExportedFragment);
  return parsed ? { parsed } : { problem: EXPORT_SKIPPED };
}

/**
 * Checks a file before anything is written: binary files are skipped, JSON and JSONL must
 * parse (a ChatGPT export must have its shape) and nest at most `MAX_JSON_DEPTH` deep.
 */
async function plan(
  path: string,
  onSkip: (s: SkippedFile) => void,
  sync?: SyncContext,
  /** Whether a broken JSON or JSONL file is skipped with the reason (else it throws). */
  skipBroken = true,
  source = path,
): Promise<Planned | undefined> {
  const { size, modifiedAt, problem: start } = await sniffFile(path);
  const kind = kindOf(path);
  const missing = await readerMissing(kind);
  if (missing) {
    onSkip({ path, ...missing });
    return undefined;
  }
  if (start) {
    onSkip({ path, reason: start });
    return undefined;
  }
  const status = sync ? await sync.status(path, source, size, modifiedAt) : 'new';
  if (status === 'unchanged') return { path, source, size, modifiedAt, kind, status };
  // A document that starts as one is read once, when its turn comes (a damaged one is
  // skipped then); records are all parsed here, so that a broken one stops nothing half way.
  if (isRecordKind(kind)) {
    try {
      const checked = await checkRecords(path, kind);
      if ('problem' in checked) {
        onSkip({ path, reason: checked.problem });
        return undefined;
      }
      return { path, source, size, modifiedAt, kind, status, parsed: checked.parsed };
    } catch (error) {
      const reason = skipBroken ? skipReason(error) : undefined;
      if (reason === undefined) throw error;
      onSkip({ path, reason });
      return undefined;
    }
  }
  return { path, source, size, modifiedAt, kind, status };
}

/** The source index of an ingest, when it has one. */
interface SyncContext {
  target: IngestTarget;
  hashing: Hashing;
  namespace: string;
  /** Whether the file at `path`, recorded as `source`, changed since it was last ingested completely. */
  status(
    path: string,
    source: string,
    size: number,
    modifiedAt: number,
  ): Promise<IngestFileResult['status']>;
  /** Fragments ingested from a path before the source index existed. */
  legacy: LegacyIndex;
}

async function syncContext(
  target: IngestTarget,
  namespace: string,
  signal?: AbortSignal,
): Promise<SyncContext> {
  const hashing = await createHashing({
    native: target.memory.implementation === 'native' ? 'native' : 'js',
  });
  return {
    target,
    hashing,
    namespace,
    async status(path, source, size, modifiedAt) {
      const known = await target.data.sources.get(namespace, source);
      if (!known) return 'new';
      if (known.contentHash === null) return 'changed'; // a first ingest that was stopped
      if (known.size === size && known.modifiedAt === modifiedAt) return 'unchanged';
      // Touched but maybe not changed: the text decides (and the record takes the new time).
      const read = await fileText(path, kindOf(path), signal).catch((error: unknown) => {
        // A document that became unreadable: its read, in its turn, skips it saying why.
        if (skipReason(error) === undefined) throw error;
        return undefined;
      });
      if (!read || (await hashing.hash(hashedText(read))) !== known.contentHash) return 'changed';
      await target.data.sources.put({ ...known, size, modifiedAt });
      return 'unchanged';
    },
    // The store finds them by their metadata (one query): reading every fragment would
    // cost a memory opened from its checkpoint all its records (1 s at 100k) per ingest.
    legacy: (path) => target.data.sources.fragmentsFrom(namespace, path),
  };
}

/** Reads one file into chunks (JSON: one record per array element; JSONL: one per line). */
export async function chunkFile(path: string): Promise<Chunk[]> {
  const planned = await plan(path, () => undefined, undefined, false);
  if (!planned) return [];
  const { chunks } = await openChunks(planned);
  const out: Chunk[] = [];
  for (let next = chunks.next(); !next.done; next = chunks.next()) out.push(next.value);
  return out;
}

const emptyFile = (path: string, status: IngestFileResult['status']): IngestFileResult => ({
  path,
  status,
  chunks: 0,
  added: 0,
  duplicate: 0,
  merged: 0,
  kept: 0,
  edited: 0,
  deleted: 0,
  removed: 0,
  conflicts: 0,
});

/**
 * The paths to walk, and those given that no longer exist but had files ingested from them:
 * with `prune` those are forgotten, without it the run fails saying how to forget them.
 */
async function splitGone(
  sync: SyncContext | undefined,
  paths: string[],
  prune: boolean,
): Promise<{ walk: string[]; gone: string[] }> {
  const missing = paths.filter((p) => !existsSync(resolve(p)));
  if (!sync || missing.length === 0) return { walk: paths, gone: [] };
  const recorded = (await sync.target.data.sources.list({ namespace: sync.namespace })).map(
    (s) => s.path,
  );
  const gone = new Set<string>();
  for (const p of missing) {
    const abs = resolve(p);
    if (!recorded.some((r) => within(r, [abs], sep))) continue; // collectFiles reports it
    if (!prune) {
      throw new AiosError(
        'IO_NOT_FOUND',
        `${abs}: no such file or folder; it was ingested before: \`aios ingest --prune ${p}\` or \`aios forget ${p}\` removes what came from it`,
        { details: { path: abs } },
      );
    }
    gone.add(p);
  }
  return { walk: paths.filter((p) => !gone.has(p)), gone: [...gone].map((p) => resolve(p)) };
}

/**
 * Imports files and folders into CARMA. Every file is checked first (a missing or malformed
 * file fails the run before anything is written; binary files, FIFOs and devices are
 * skipped), then each is chunked as it is read and stored in batches, one transaction each,
 * with its provenance (`metadata.source`, `offset`, `line`, `kind`). The work is linear in
 * the size of the input. Once `signal` is aborted the run stops before the next batch and
 * returns what was stored, with `interrupted` set.
 *
 * Given an `IngestTarget` (an `Aios`), ingest keeps the memory in step with the files
 * through the data store's source index: an unchanged file is skipped; a changed file's
 * new pieces are added and those it no longer has removed; a piece whose fragment the user
 * edited is kept as edited, one the user deleted is not added again, and an edited piece
 * the file no longer has is kept and reported in `conflicts`. Files ingested before from
 * the paths that are gone are listed in `missing`, and forgotten with `prune`. Given a bare
 * `Memory`, files are only added (CARMA dedups by content hash).
 */
export async function ingest(
  target: Memory | IngestTarget,
  paths: string[],
  options: IngestOptions = {},
): Promise<IngestResult> {
  const { signal } = options;
  // A broken JSON file named on the command line stops the run before anything is
  // written; one found in a folder is skipped, as a FIFO is.
  const named = new Set(givenPaths(paths));
  const memory = isIngestTarget(target) ? target.memory : target;
  const namespace = options.namespace ?? DEFAULT_INGEST_NAMESPACE;
  const sync = isIngestTarget(target) ? await syncContext(target, namespace, signal) : undefined;
  const fixed =
    options.batchSize === undefined ? undefined : Math.max(1, Math.floor(options.batchSize));
  let batchSize = fixed ?? 32;
  const result: IngestResult = {
    namespace,
    files: [],
    added: 0,
    duplicate: 0,
    merged: 0,
    chunks: 0,
    unchanged: 0,
    kept: 0,
    edited: 0,
    deleted: 0,
    removed: 0,
    conflicts: [],
    missing: [],
    skipped: [],
    otherKinds: {},
  };
  const skip = (s: SkippedFile) => {
    result.skipped.push(s);
    options.onSkip?.(s);
  };
  const stop = () => {
    result.interrupted = stopReason(signal);
    return result;
  };

  const { walk, gone } = await splitGone(sync, paths, options.prune === true);
  const planned: Planned[] = [];
  /** JSON text held parsed (`HELD_PARSED_CHARS`). */
  let held = 0;
  const collected = await collectFiles(walk, {
    onSkip: skip,
    onOtherKind: (path) => {
      const ext = extname(path).toLowerCase();
      result.otherKinds[ext] = (result.otherKinds[ext] ?? 0) + 1;
    },
  });
  for (const path of collected) {
    if (signal?.aborted) return stop();
    let file: Planned | undefined;
    try {
      file = await plan(path, skip, sync, !named.has(path), options.sourceName?.(path) ?? path);
    } catch (error) {
      // Stopped while a touched PDF was read again to compare it: nothing was written yet.
      if (signal?.aborted) return stop();
      throw error;
    }
    if (file?.parsed) {
      held += file.parsed.text.length;
      if (held > HELD_PARSED_CHARS) delete file.parsed;
    }
    if (file) planned.push(file);
  }
  if (sync) {
    // Files ingested before from these paths that are gone from disk.
    const roots = [...walk.map((p) => resolve(p)), ...gone];
    const seen = new Set(collected);
    result.missing = (await sync.target.data.sources.list({ namespace }))
      .map((s) => s.path)
      .filter((p) => within(p, roots, sep) && !seen.has(p) && !existsSync(p));
  }
  const bytesTotal = planned.reduce((n, f) => n + f.size, 0);
  let bytesBefore = 0;
  for (const [i, file] of planned.entries()) {
    if (signal?.aborted) return stop();
    const r = emptyFile(file.path, file.status);
    const report = (fileDone: boolean, fraction: number) =>
      options.onProgress?.({
        file: file.path,
        filesDone: i + (fileDone ? 1 : 0),
        filesTotal: planned.length,
        bytesDone: bytesBefore + (fileDone ? file.size : Math.round(fraction * file.size)),
        bytesTotal,
        chunksDone: result.chunks,
        added: result.added,
        duplicate: result.duplicate,
        merged: result.merged,
        result: { ...r },
        fileDone,
      });
    if (file.status === 'unchanged') {
      result.unchanged++;
      result.files.push(r);
      report(true, 1);
      bytesBefore += file.size;
      continue;
    }
    const opened = await openChunks(file, signal).catch((error: unknown) => {
      // Stopped while a PDF was read: what was stored stays, as between batches.
      if (signal?.aborted) return 'stopped' as const;
      const reason = isDocument(file.kind) ? skipReason(error) : undefined;
      if (reason === undefined) throw error;
      skip({ path: file.path, reason });
      return undefined;
    });
    if (opened === 'stopped') return stop();
    if (!opened) {
      // Its bytes are behind; it is no file done (it was skipped, and said so).
      report(false, 1);
      bytesBefore += file.size;
      continue;
    }
    const { chunks, fraction } = opened;
    // Its chunks hold what they need of its parse; the plan lets go of it.
    delete file.parsed;
    const fileSync = sync
      ? await FileSync.open(
          sync.target,
          sync.hashing,
          namespace,
          { ...file, path: file.source, contentHash: await sync.hashing.hash(hashedText(opened)) },
          sync.legacy,
        )
      : undefined;
    let line = 0;
    for (let next = chunks.next(); !next.done; ) {
      const batch: Chunk[] = [];
      for (; !next.done && batch.length < batchSize; next = chunks.next()) batch.push(next.value);
      // A turn of the event loop between batches: with a store that never waits for I/O,
      // awaiting a batch only runs microtasks, and a signal would not be seen until the end.
      await nextTurn();
      if (signal?.aborted) {
        if (r.chunks > 0) result.partial = { ...r, line };
        return stop();
      }
      const started = performance.now();
      const added = fileSync
        ? await fileSync.store(batch, next.done === true)
        : await memory.addMany(
            batch.map((c) => ({
              text: c.text,
              namespace,
              metadata: {
                ...c.meta,
                source: c.source,
                offset: c.offset,
                line: c.line,
                kind: c.kind,
              },
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
      if (fileSync) Object.assign(r, syncCounts(fileSync));
      report(false, fraction());
    }
    if (fileSync && sync) {
      await fileSync.finish();
      Object.assign(r, syncCounts(fileSync));
      for (const key of ['kept', 'edited', 'deleted', 'removed'] as const) result[key] += r[key];
      r.duplicate += fileSync.counts.repeated;
      result.duplicate += fileSync.counts.repeated;
      result.conflicts.push(...fileSync.counts.conflicts);
    }
    result.files.push(r);
    // Reported done before the file's size joins those before it: reported after, it was
    // counted twice, and progress ended at twice the total.
    report(true, 1);
    bytesBefore += file.size;
  }
  if (sync && options.prune && result.missing.length > 0) {
    if (signal?.aborted) return stop();
    const forget = await planForget(sync.target, { paths: result.missing, namespace });
    result.pruned = await forgetSources(sync.target, forget, signal ? { signal } : {});
    if (result.pruned.interrupted) return stop();
  }
  await memory.flush();
  return result;
}

/** A file's sync counts, as its result reports them. */
function syncCounts(sync: FileSync) {
  const c = sync.counts;
  return {
    kept: c.kept,
    edited: c.edited,
    deleted: c.deleted,
    removed: c.removed,
    conflicts: c.conflicts.length,
  };
}
