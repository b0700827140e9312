/**
 * The vector index file, a cache of what the store holds: `index-<generation>.bin` in the
 * memory's directory, named in the store's meta together with the history seq it is up
 * to date at. Opening loads it and brings it up to date; checkpoints write a new one.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AiosError } from '@aios/utils';
import type { MemoryContext } from './context.js';
import type { VectorIndex } from './engine/index.js';
import { CarmaErrorCode } from './errors.js';
import type { FragmentRecord, IndexCheckpoint, StoreMeta } from './store.js';

/** Fragment changes between automatic checkpoints, unless `checkpointEvery` says otherwise. */
const DEFAULT_CHECKPOINT_EVERY = 10_000;
/** Vectors read from the store at a time while filling an index. */
const FILL_PAGE = 5000;

export interface IndexFileState {
  /** The index file the store's meta names, once one was written or loaded. */
  checkpoint: IndexCheckpoint | undefined;
  /** `store.written` at the last index file. */
  writtenAtCheckpoint: number;
  /** The highest index file generation used (the next file is the one after). */
  generation: number;
}

export function createIndexFileState(): IndexFileState {
  return { checkpoint: undefined, writtenAtCheckpoint: 0, generation: 0 };
}

function indexPath(ctx: MemoryContext, generation: number): string | undefined {
  return ctx.options.dir === undefined
    ? undefined
    : join(ctx.options.dir, `index-${generation}.bin`);
}

/** What the store records: embedder, dimension, the next label, the index file. */
export function storeMeta(ctx: MemoryContext): StoreMeta {
  const checkpoint = ctx.files.checkpoint;
  return {
    embedder: ctx.embedder.id,
    dimension: ctx.indexes.dimension as number,
    metric: 'cosine',
    nextLabel: ctx.fragments.nextLabel,
    ...(checkpoint ? { index: checkpoint } : {}),
  };
}

/** Adds the stored vectors of `records` to `index`, a page at a time. */
export async function fillFromStore(
  ctx: MemoryContext,
  records: FragmentRecord[],
  index: VectorIndex,
): Promise<void> {
  const dim = ctx.indexes.dimension as number;
  for (let start = 0; start < records.length; start += FILL_PAGE) {
    const slice = records.slice(start, start + FILL_PAGE);
    const vectors = await ctx.store.vectors(slice.map((f) => f.id));
    const matrix = new Float32Array(slice.length * dim);
    slice.forEach((f, i) => {
      const v = vectors[i];
      if (!v || v.length !== dim) {
        throw new AiosError(
          CarmaErrorCode.STORE_CORRUPT,
          `fragment ${f.id}: missing or wrong-sized vector`,
        );
      }
      matrix.set(v, i * dim);
    });
    await index.addAsync(
      Uint32Array.from(slice, (f) => f.label),
      matrix,
    );
  }
}

/**
 * The index file the store names, brought up to date with the changes recorded since it
 * was written; undefined when there is none or it cannot be trusted (then rebuilt).
 */
export async function loadIndexFile(
  ctx: MemoryContext,
  records: FragmentRecord[],
): Promise<VectorIndex | undefined> {
  const checkpoint = ctx.files.checkpoint;
  const path = checkpoint && indexPath(ctx, checkpoint.generation);
  if (!checkpoint || !path || !existsSync(path)) return undefined;
  let loaded: VectorIndex;
  try {
    loaded = await ctx.engine.loadVectorIndex(path);
  } catch {
    return undefined; // a damaged index is rebuilt from the store
  }
  if (loaded.dimension !== ctx.indexes.dimension) return undefined;
  const { ids: changed, seq } = await ctx.store.changedSince(checkpoint.seq);
  // A history behind the file's (a restored database): the file describes another state.
  if (seq < checkpoint.seq) return undefined;
  const stale = loaded.labels().filter((l) => !ctx.fragments.byLabel.has(l));
  if (stale.length > 0) loaded.remove(stale);
  const todo = records.filter((f) => changed.has(f.id) || !loaded.has(f.label));
  await fillFromStore(ctx, todo, loaded);
  ctx.indexes.savedToFile = stale.length === 0 && todo.length === 0;
  return loaded;
}

/** Checkpoints once `checkpointEvery` fragment changes were written since the last one. */
export async function checkpointIfDue(ctx: MemoryContext): Promise<void> {
  const every = ctx.options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
  if (ctx.store.written - ctx.files.writtenAtCheckpoint >= every) await checkpointNow(ctx);
}

/**
 * Writes the accesses recorded so far and, when the memory has a directory, the vector
 * index (graph included) to the next `index-<generation>.bin`, then names it in the meta.
 */
export async function checkpointNow(ctx: MemoryContext): Promise<void> {
  const { store, indexes, files } = ctx;
  await store.flush();
  files.writtenAtCheckpoint = store.written;
  const dir = ctx.options.dir;
  if (dir === undefined || !indexes.vectors || indexes.dimension === undefined) return;
  const seq = await store.latestSeq();
  const current = files.checkpoint;
  if (
    indexes.savedToFile &&
    current?.seq === seq &&
    existsSync(indexPath(ctx, current.generation) as string)
  ) {
    return; // the file on disk is this index
  }
  const generation = Math.max(files.generation, current?.generation ?? 0) + 1;
  await indexes.vectors.save(indexPath(ctx, generation) as string);
  files.generation = generation;
  // Named in the meta only once written: a crash before leaves the previous file named.
  files.checkpoint = { generation, seq };
  await store.setMeta(storeMeta(ctx));
  indexes.savedToFile = true;
  for (const name of readdirSync(dir)) {
    if (/^index-\d+\.bin$/.test(name) && name !== `index-${generation}.bin`)
      rmSync(join(dir, name), { force: true });
  }
}
