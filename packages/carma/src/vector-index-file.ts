/**
 * The vector index file, a cache of what the store holds: `index-<generation>.bin` in the
 * memory's directory, named in the store's meta together with the history seq it is up
 * to date at. Opening loads it (when its checksum and contents hold) and brings it up to
 * date; checkpoints of a memory that changed something write a new one. Opening to read
 * writes none, so readers never race writers for the file or the meta.
 */
import { existsSync, readdirSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isAiosError } from '@aios/utils';
import { loadChecked } from './checked-files.js';
import { checkpointBeingWritten, takeCheckpointLock } from './checkpoint-lock.js';
import type { MemoryContext } from './context.js';
import { normalizeRoles } from './embedding-roles.js';
import { FORMAT_VERSION, HEADER_PREFIX_BYTES } from './engine/file-format.js';
import type { VectorIndex } from './engine/index.js';
import { CarmaErrorCode } from './errors.js';
import { catchUp, readEveryRecord } from './follow.js';
import type { FragmentRecord, IndexCheckpoint, StoreMeta } from './fragment-store.js';
import { type ChangesSince, drift } from './index-file-drift.js';
import { vectorMatrix } from './index-records.js';
import { labelMapPath, saveLabelMap } from './label-map-file.js';
import { hasLexicalFile, lexicalPath } from './lexical-index-file.js';
import { memoryLogger } from './memory-logger.js';
import { removeStaleIndexTempFiles } from './vector-index-file-check.js';

/** Fragment changes between automatic checkpoints, unless `checkpointEvery` says otherwise. */
const DEFAULT_CHECKPOINT_EVERY = 10_000;
/**
 * An automatic checkpoint waits this many times as long as the last one took, counted
 * from its end: a memory taking in a large import spends at most about a fifth of its
 * time rewriting index files that grow with it (every 10,000 changes they were rewritten
 * whole, so an import of n fragments wrote n²/20,000 rows). Checkpoints quicker than
 * `UNPACED_MS` are not paced.
 */
const CHECKPOINT_PACE = 4;
const UNPACED_MS = 50;
/** Vectors read from the store at a time while filling an index. */
const FILL_PAGE = 5000;
/**
 * The most fragment changes a close or `flush()` leaves in the store's history for the next
 * open to replay, instead of writing the index files again: one per `INDEXED_PER_REPLAYED`
 * indexed fragments, at most `REPLAYED_MAX`. Writing takes time in proportion to the whole
 * index (one note ingested into 100k fragments took 0.8-2 s, a folder of 300 notes into 1M
 * 30 s); a replay takes time in proportion to the changes, and more with the home's size:
 * a record read each (40-50 µs at 1M) and the fragment's text added to the lexical index,
 * whose file is searched for each of its words (at 1M, 300 notes in the words the home
 * uses cost every open 30-60 ms more, and bring 100 MB of the lexical file into the page
 * cache).
 */
const REPLAYED_MAX = 512;
const INDEXED_PER_REPLAYED = 1000;

export interface IndexFileState {
  /** The index file the store's meta names, once one was written or loaded. */
  checkpoint: IndexCheckpoint | undefined;
  /** `store.written` at the last index file. */
  writtenAtCheckpoint: number;
  /** The highest index file generation used (the next file is the one after). */
  generation: number;
  /** When the last automatic checkpoint may be followed by the next (`performance.now()`). */
  nextCheckpointAfter: number;
  /**
   * The files named are of an earlier version (the lexical one holds the terms of an
   * earlier tokenizer): the next checkpoint writes them again, even if this memory changed
   * nothing, so that they are migrated once.
   */
  outdated: boolean;
}

export function createIndexFileState(): IndexFileState {
  return {
    checkpoint: undefined,
    writtenAtCheckpoint: 0,
    generation: 0,
    nextCheckpointAfter: 0,
    outdated: false,
  };
}

/** The format version in a file's header, or undefined when it has none to read. */
async function formatVersion(path: string): Promise<number | undefined> {
  try {
    const file = await open(path, 'r');
    try {
      const head = Buffer.alloc(HEADER_PREFIX_BYTES);
      const { bytesRead } = await file.read(head, 0, HEADER_PREFIX_BYTES, 0);
      return bytesRead === HEADER_PREFIX_BYTES ? head.readUInt32LE(8) : undefined;
    } finally {
      await file.close();
    }
  } catch {
    return undefined; // the load that follows reports it
  }
}

function indexPath(ctx: MemoryContext, generation: number): string | undefined {
  return ctx.options.dir === undefined
    ? undefined
    : join(ctx.options.dir, `index-${generation}.bin`);
}

/** What the store records: embedder, dimension, the next label, the index file. */
export function storeMeta(ctx: MemoryContext): StoreMeta {
  const checkpoint = ctx.files.checkpoint;
  const roles = normalizeRoles(ctx.embedder.roles);
  return {
    embedder: ctx.embedder.id,
    dimension: ctx.indexes.dimension as number,
    ...(roles ? { roles } : {}),
    metric: 'cosine',
    nextLabel: ctx.fragments.nextLabel,
    ...(checkpoint ? { index: checkpoint } : {}),
  };
}

/** Adds the stored vectors of `records` to `index`, a page at a time. */
export async function fillFromStore(
  ctx: MemoryContext,
  records: readonly FragmentRecord[],
  index: VectorIndex,
  /** The records' vectors when they were read with them (`readWithVectors`). */
  vectors?: ReadonlyArray<Float32Array | undefined>,
): Promise<void> {
  const dim = ctx.indexes.dimension as number;
  for (let start = 0; start < records.length; start += FILL_PAGE) {
    const slice = records.slice(start, start + FILL_PAGE);
    const rows =
      vectors?.slice(start, start + FILL_PAGE) ?? (await ctx.store.vectors(slice.map((f) => f.id)));
    await index.addAsync(
      Uint32Array.from(slice, (f) => f.label),
      vectorMatrix(slice, rows, dim),
    );
  }
}

/** An index file read while the fragments load (`readIndexFile`), before `adoptIndexFile`. */
export interface ReadIndexFile {
  index: VectorIndex;
  version: number | undefined;
}

/**
 * Reads the index file the store names (off the JS thread natively): undefined when there
 * is none, or it cannot be trusted (then logged, and the index is rebuilt from the store).
 * Temporary files of writers that died are removed first.
 */
export async function readIndexFile(ctx: MemoryContext): Promise<ReadIndexFile | undefined> {
  const checkpoint = ctx.files.checkpoint;
  const path = checkpoint && indexPath(ctx, checkpoint.generation);
  const exists = path !== undefined && existsSync(path);
  // Started before anything is awaited: natively the load then runs on the pool while the
  // JS thread reads the fragments, which leaves no turn of the event loop to the callbacks
  // of the file operations below until it is done.
  const writes = ctx.store.readOnly === undefined;
  const loading = exists
    ? loadChecked(path, (verified) => ctx.engine.loadVectorIndex(path, { verified }), writes)
    : undefined;
  loading?.catch(() => undefined); // awaited below
  if (ctx.options.dir !== undefined && writes) await removeStaleIndexTempFiles(ctx.options.dir);
  if (!loading || !path) return undefined;
  const version = await formatVersion(path);
  let index: VectorIndex;
  try {
    index = await loading;
  } catch (error) {
    const code = isAiosError(error) ? error.code : 'UNEXPECTED';
    // Gone since it was named: another process's checkpoint replaced it (the open starts
    // again from that one; checkpoint-moved.ts).
    if (code === 'IO_NOT_FOUND') return undefined;
    const reason = error instanceof Error ? error.message : String(error);
    memoryLogger(ctx).warn(
      { file: path, code, reason },
      'the index file cannot be trusted: rebuilt from the database',
    );
    return undefined;
  }
  if (index.dimension !== ctx.indexes.dimension) {
    memoryLogger(ctx).warn(
      {
        file: path,
        code: CarmaErrorCode.DIMENSION_MISMATCH,
        reason: `dimension ${index.dimension}`,
      },
      'the index file holds vectors of another dimension: rebuilt from the database',
    );
    return undefined;
  }
  return { index, version };
}

/**
 * A read index file brought up to date with the changes recorded since it was written
 * (every fragment of the memory known by then); undefined when the history is behind the
 * file's (a restored database: the file describes another state).
 */
export async function adoptIndexFile(
  ctx: MemoryContext,
  read: ReadIndexFile,
  since: ChangesSince,
  records: FragmentRecord[],
): Promise<VectorIndex | undefined> {
  const { index, version } = read;
  const changed = await since();
  if (!changed) return undefined;
  const { stale, todo } = drift(ctx, index.labels(), changed, records);
  if (stale.length > 0) index.remove(stale);
  await fillFromStore(ctx, todo, index);
  // An older format is rewritten (with a checksum) by the next checkpoint.
  ctx.indexes.savedToFile = stale.length === 0 && todo.length === 0 && version === FORMAT_VERSION;
  return index;
}

/**
 * Writes the label map of the checkpoint the store names when it has none (written before
 * label maps existed), while the memory's indexes are that checkpoint's files and every
 * record is at hand: the next open then reads the records on demand. A failure (a
 * read-only directory) is logged: the files stay usable without it.
 */
export async function saveMissingLabelMap(ctx: MemoryContext): Promise<void> {
  if (ctx.store.readOnly !== undefined) return;
  const checkpoint = ctx.files.checkpoint;
  const path = checkpoint && labelMapPath(ctx, checkpoint.generation);
  if (!path || existsSync(path) || !ctx.indexes.savedToFile || ctx.fragments.onDemand) return;
  try {
    await saveLabelMap(ctx, path, ctx.fragments.byId.values());
  } catch (error) {
    memoryLogger(ctx).warn(
      { file: path, reason: error instanceof Error ? error.message : String(error) },
      'the label map could not be written: the next open reads every fragment',
    );
  }
}

/** How many changes since the files `checkpointNow` may leave to the next open (above). */
function replayLimit(ctx: MemoryContext): number {
  const indexed = ctx.indexes.vectorCount;
  return (
    ctx.options.replayLimit ?? Math.min(REPLAYED_MAX, Math.floor(indexed / INDEXED_PER_REPLAYED))
  );
}

/**
 * The files of checkpoint `generation`: vector index, lexical index, label map (none
 * without a directory).
 */
export function checkpointPaths(ctx: MemoryContext, generation: number): string[] {
  return [
    indexPath(ctx, generation),
    lexicalPath(ctx, generation),
    labelMapPath(ctx, generation),
  ].filter((path) => path !== undefined);
}

/** Whether the three files of `checkpoint` are in the memory's directory. */
function checkpointFilesExist(ctx: MemoryContext, checkpoint: IndexCheckpoint): boolean {
  const paths = checkpointPaths(ctx, checkpoint.generation);
  return paths.length === 3 && paths.every((path) => existsSync(path));
}

/**
 * Checkpoints once `checkpointEvery` fragment changes were written since the last one,
 * and the last took a small share of the time since (`CHECKPOINT_PACE`).
 */
export async function checkpointIfDue(ctx: MemoryContext): Promise<void> {
  if (ctx.store.readOnly !== undefined) return;
  const every = ctx.options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  const { files } = ctx;
  if (ctx.store.written - files.writtenAtCheckpoint < every) return;
  const started = performance.now();
  if (started < files.nextCheckpointAfter) return;
  await checkpointNow(ctx);
  const took = performance.now() - started;
  files.nextCheckpointAfter = took < UNPACED_MS ? 0 : performance.now() + CHECKPOINT_PACE * took;
}

/**
 * What a checkpoint has to do, once the indexes took in what other processes wrote:
 * nothing (`replay`: the files named hold all but a few changes, which the next open
 * replays; `saved`: the files named are these indexes), or write the files.
 */
async function checkpointState(
  ctx: MemoryContext,
  allowReplay: boolean,
): Promise<{ state: 'replay' | 'saved' | 'write'; seq: number }> {
  const { indexes, files } = ctx;
  // The position the index reflects: what other processes wrote is taken in first.
  const seq = await catchUp(ctx, { checkpoint: true });
  const current = files.checkpoint;
  if (files.outdated) return { state: 'write', seq };
  if (
    allowReplay &&
    indexes.fromCheckpoint &&
    current !== undefined &&
    seq - current.seq <= replayLimit(ctx) &&
    checkpointFilesExist(ctx, current)
  ) {
    return { state: 'replay', seq };
  }
  if (
    indexes.savedToFile &&
    current?.seq === seq &&
    existsSync(indexPath(ctx, current.generation) as string) &&
    hasLexicalFile(ctx, current)
  ) {
    return { state: 'saved', seq };
  }
  return { state: 'write', seq };
}

/**
 * What a checkpoint did: `none` (no files to write: no directory, nothing written by this
 * memory, inside a transaction), `replay` (the changes left for the next open to replay),
 * `current` (the files named are these indexes), `written`, `busy` (another process was
 * writing the files: left to it and to the next open's replay), `deferred` (left to
 * another process, see `CheckpointOptions.defer`).
 */
export type CheckpointOutcome = 'none' | 'replay' | 'current' | 'written' | 'busy' | 'deferred';

export interface CheckpointOptions {
  /** Leave up to `replayLimit` changes for the next open to replay. */
  allowReplay?: boolean;
  /** While another process writes the files: leave them to it (default), or wait. */
  whenBusy?: 'skip' | 'wait';
  /**
   * Leave files due to be written to another process when the vector index holds at
   * least `MemoryOptions.deferCheckpointFrom` rows (writing them takes seconds).
   */
  defer?: boolean;
  /** Write them even when this memory changed nothing (their files lag behind the store). */
  force?: boolean;
}

/**
 * Writes the accesses recorded so far and, when the memory has a directory and changed
 * fragments since it was opened, the vector index (graph included) to the next
 * `index-<generation>.bin` and the lexical index to `lexical-<generation>.bin`, then
 * names them in the meta. A memory opened to read leaves the
 * files and the meta as they are, even when it rebuilt or brought its index up to date.
 * While another process writes the files (checkpoint-lock.ts), a checkpoint is left to it
 * and to the next open's replay, unless `whenBusy` is `wait` (an erase, a new embedder:
 * files of the old state must not stay named).
 */
export async function checkpointNow(
  ctx: MemoryContext,
  options: CheckpointOptions = {},
): Promise<CheckpointOutcome> {
  const { store, indexes, files } = ctx;
  // Open to read only: nothing to write, and nowhere to write it.
  if (store.readOnly !== undefined) return 'none';
  await store.flush();
  files.writtenAtCheckpoint = store.written;
  const dir = ctx.options.dir;
  if (dir === undefined || !indexes.hasVectors || indexes.dimension === undefined) return 'none';
  if (store.written === 0 && !options.force && !files.outdated) return 'none';
  // Inside a transaction the index may hold writes a rollback takes back: not now.
  if (store.inTransaction()) return 'none';
  // A map that knows no texts (format 1) is not written again from its entries.
  if (ctx.fragments.onDemand && !ctx.fragments.onDemand.knowsContent) {
    indexes.fromCheckpoint = false;
    await readEveryRecord(ctx);
  }
  const allowReplay = options.allowReplay === true;
  const { state } = await checkpointState(ctx, allowReplay);
  if (state === 'replay') return 'replay';
  if (state === 'saved') {
    // The files on disk are these indexes (a checkpoint written before label maps
    // existed gets its own).
    await saveMissingLabelMap(ctx);
    return 'current';
  }
  const from = ctx.options.deferCheckpointFrom;
  if (options.defer && from !== undefined && indexes.vectorCount >= from) {
    // A process writing them already (the background checkpoint of an earlier command)
    // takes in these changes if it has not caught up yet, else the next open replays them:
    // another one would only find the lease taken.
    return (await checkpointBeingWritten(dir)) ? 'busy' : 'deferred';
  }
  const lease = await takeCheckpointLock(dir, options.whenBusy === 'wait');
  if (!lease) return 'busy';
  try {
    // Another process may have written the files since: up to date again, under the lock.
    const now = await checkpointState(ctx, allowReplay);
    if (now.state === 'replay') return 'replay';
    if (now.state === 'saved') return 'current';
    await writeCheckpoint(ctx, dir, now.seq);
    return 'written';
  } finally {
    await lease.release();
  }
}

/** Removes the files of a checkpoint that was not completed (and their check records). */
async function removeGeneration(ctx: MemoryContext, generation: number): Promise<void> {
  await Promise.all(
    checkpointPaths(ctx, generation).flatMap((path) =>
      [path, `${path}.checked`].map((file) => rm(file, { force: true }).catch(() => undefined)),
    ),
  );
}

/** Writes the files of the next generation and names them in the meta (under the lock). */
async function writeCheckpoint(ctx: MemoryContext, dir: string, seq: number): Promise<void> {
  const { store, indexes, files } = ctx;
  const current = files.checkpoint;
  const generation = Math.max(files.generation, current?.generation ?? 0) + 1;
  await indexes.settle();
  const { fragments } = ctx;
  const held = fragments.onDemand ? fragments.onDemand.entries() : fragments.byId.values();
  // The three files at once: the native indexes write theirs on the libuv pool while this
  // thread encodes the label map (one after the other, a checkpoint of 100,000 fragments
  // took 250 ms instead of 150). Each is settled before this returns, failed or not: a
  // write still running would share its temporary file with the next attempt's.
  const written = await Promise.allSettled([
    (indexes.vectors as VectorIndex).save(indexPath(ctx, generation) as string),
    indexes.lexical.save(lexicalPath(ctx, generation) as string),
    saveLabelMap(ctx, labelMapPath(ctx, generation) as string, held),
  ]);
  const failed = written.find((w) => w.status === 'rejected');
  if (failed) {
    // The files that were written are of no use without the others: on a full disk they
    // would hold the space the next attempt needs.
    await removeGeneration(ctx, generation);
    throw failed.reason;
  }
  const previous = files.checkpoint;
  // Named in the meta only once written: a crash before leaves the previous file named.
  files.checkpoint = { generation, seq };
  try {
    await store.setMeta(storeMeta(ctx));
  } catch (error) {
    // Not named (the database is full too): the previous files stay this memory's.
    files.checkpoint = previous;
    await removeGeneration(ctx, generation);
    throw error;
  }
  files.generation = generation;
  files.outdated = false;
  indexes.savedToFile = true;
  indexes.fromCheckpoint = true;
  // The files of other generations, and the records of their checks (checked-files.ts),
  // removed on the libuv pool: freeing a file of hundreds of megabytes takes the file
  // system tens of milliseconds, which the JS thread need not wait out.
  await Promise.all(
    readdirSync(dir)
      .filter((name) => {
        const file = /^(?:index|lexical|labels)-(\d+)\.bin(?:\.checked)?$/.exec(name);
        return file && Number(file[1]) !== generation;
      })
      .map((name) => rm(join(dir, name), { force: true })),
  );
}
