/**
 * Moving an open memory to another embedder without stopping it: every fragment is
 * embedded with the new one in the background, a batch at a time, while searches and
 * writes go on with the old one; then, in one turn among the mutations, what changed
 * meanwhile is embedded too and the new vectors, embedder and index replace the old in
 * one transaction. A failure or a cancel before that leaves the memory as it was.
 */
import { AiosError, describeValue } from '@aios/utils';
import type { MemoryContext } from './context.js';
import { type Embedder, HashingEmbedder } from './embedder.js';
import { normalizeRoles } from './embedding-roles.js';
import { CarmaErrorCode } from './errors.js';
import type { FragmentRecord } from './fragment-store.js';
import type { ProgressEvent } from './memory-types.js';
import { historyEntry } from './records.js';
import { resolveFusion } from './validation.js';
import { checkpointNow, storeMeta } from './vector-index-file.js';

/** Texts per call to the new embedder (and per progress event). */
const SWITCH_BATCH = 256;

/** What the memory lends a switch: its turn among mutations, and whether to stop. */
export interface SwitchHooks {
  exclusive<T>(step: () => Promise<T>): Promise<T>;
  stopped(): boolean;
  onProgress?: (event: ProgressEvent) => void;
}

/** `texts` embedded by `embedder` as documents, checked for shape and finite values. */
async function embedWith(embedder: Embedder, texts: string[]): Promise<Float32Array> {
  const matrix = await embedder.embed(texts, 'document');
  const dim = embedder.dimension;
  const bad =
    dim === undefined || !(matrix instanceof Float32Array) || matrix.length !== texts.length * dim;
  if (bad || matrix.some((x) => !Number.isFinite(x))) {
    throw new AiosError(
      CarmaErrorCode.EMBEDDER_FAILED,
      `embedder ${embedder.id} returned ${describeValue(matrix)} for ${texts.length} texts of dimension ${dim}`,
    );
  }
  return matrix;
}

/** Adds the vectors of the texts of `records` not in `vectors` yet (by content hash). */
async function embedMissing(
  embedder: Embedder,
  records: FragmentRecord[],
  vectors: Map<string, Float32Array>,
  hooks: SwitchHooks,
  total: number,
): Promise<void> {
  const todo = new Map<string, string>();
  for (const f of records) if (!vectors.has(f.contentHash)) todo.set(f.contentHash, f.text);
  const hashes = [...todo.keys()];
  for (let i = 0; i < hashes.length; i += SWITCH_BATCH) {
    if (hooks.stopped()) throw cancelled();
    const slice = hashes.slice(i, i + SWITCH_BATCH);
    const matrix = await embedWith(
      embedder,
      slice.map((h) => todo.get(h) as string),
    );
    const dim = matrix.length / slice.length;
    slice.forEach((h, j) => {
      vectors.set(h, matrix.slice(j * dim, (j + 1) * dim));
    });
    hooks.onProgress?.({ phase: 'switch-embedder', done: Math.min(vectors.size, total), total });
  }
}

function cancelled(): AiosError {
  return new AiosError(
    CarmaErrorCode.SWITCH_CANCELLED,
    'the switch to another embedder was cancelled; the memory keeps its embedder',
  );
}

export async function switchEmbedder(
  ctx: MemoryContext,
  next: Embedder,
  hooks: SwitchHooks,
): Promise<void> {
  const vectors = new Map<string, Float32Array>();
  const first = [...ctx.fragments.byId.values()];
  hooks.onProgress?.({ phase: 'switch-embedder', done: 0, total: first.length });
  // The slow part, while the old embedder and index keep serving.
  await embedMissing(next, first, vectors, hooks, first.length);
  await hooks.exclusive(async () => {
    if (hooks.stopped()) throw cancelled();
    const records = [...ctx.fragments.byId.values()];
    // Added or changed since the background pass.
    await embedMissing(next, records, vectors, hooks, records.length);
    const dim = next.dimension;
    if (dim === undefined) {
      // Nothing was embedded (an empty memory): the first add fixes the dimension.
      ctx.embedder = next;
      ctx.indexes.dimension = undefined;
      ctx.indexes.vectors = undefined;
      return;
    }
    const index = ctx.engine.createVectorIndex(dim, 'cosine', null);
    const matrix = new Float32Array(records.length * dim);
    records.forEach((f, i) => {
      matrix.set(vectors.get(f.contentHash) as Float32Array, i * dim);
    });
    if (records.length > 0) {
      await index.addAsync(
        Uint32Array.from(records, (f) => f.label),
        matrix,
      );
    }
    const at = ctx.now();
    const roles = normalizeRoles(next.roles);
    const { roles: _old, ...meta } = storeMeta(ctx);
    // The old index file describes the old vectors: the new meta names none.
    await ctx.store.replaceVectors(
      records.map((f, i) => ({
        id: f.id,
        vector: matrix.slice(i * dim, (i + 1) * dim),
        change: historyEntry(f, 'update', at, `re-embedded with ${next.id}`),
      })),
      { ...meta, index: undefined, embedder: next.id, dimension: dim, ...(roles ? { roles } : {}) },
    );
    ctx.files.checkpoint = undefined;
    ctx.embedder = next;
    ctx.fusion = resolveFusion(ctx.options.fusion, next instanceof HashingEmbedder);
    ctx.indexes.dimension = dim;
    ctx.indexes.vectors = index;
    ctx.indexes.savedToFile = false;
    ctx.indexes.maybeBuildGraph();
    ctx.queryVectors.clear();
    await checkpointNow(ctx, { whenBusy: 'wait' });
  });
}
