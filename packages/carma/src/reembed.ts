/** Moving a memory to another embedder by embedding every fragment again. */
import type { MemoryContext } from './context.js';
import { embedChecked } from './embedding.js';
import type { FragmentRecord } from './fragment-store.js';
import { historyEntry } from './records.js';
import { checkpointNow, storeMeta } from './vector-index-file.js';

/** Texts per call to the embedder (and per progress event). */
const REEMBED_BATCH = 256;

/**
 * Embeds every fragment again with this memory's embedder, then replaces every stored
 * vector and the recorded embedder in one transaction: a failure or a crash part way
 * leaves the memory as it was, embedded with the old model.
 */
export async function reembedAll(ctx: MemoryContext, records: FragmentRecord[]): Promise<void> {
  const { indexes, embedder } = ctx;
  const total = records.length;
  const progress = ctx.options.onProgress;
  progress?.({ phase: 'reembed', done: 0, total });
  const vectors: Float32Array[] = [];
  for (let i = 0; i < total; i += REEMBED_BATCH) {
    const slice = records.slice(i, i + REEMBED_BATCH);
    const matrix = await embedChecked(
      ctx,
      slice.map((f) => f.text),
    );
    const dim = indexes.dimension as number;
    for (let j = 0; j < slice.length; j++) vectors.push(matrix.slice(j * dim, (j + 1) * dim));
    progress?.({ phase: 'reembed', done: Math.min(i + REEMBED_BATCH, total), total });
  }
  const dim = indexes.dimension ?? embedder.dimension;
  const index = ctx.engine.createVectorIndex(dim ?? 384, 'cosine', null);
  if (dim !== undefined) {
    const at = ctx.now();
    // The old index file describes the old vectors: the new meta names none.
    ctx.files.checkpoint = undefined;
    await ctx.store.replaceVectors(
      records.map((f, i) => ({
        id: f.id,
        vector: vectors[i] as Float32Array,
        change: historyEntry(f, 'update', at, `re-embedded with ${embedder.id}`),
      })),
      storeMeta(ctx),
    );
    const matrix = new Float32Array(total * dim);
    vectors.forEach((v, i) => {
      matrix.set(v, i * dim);
    });
    await index.addAsync(
      Uint32Array.from(records, (f) => f.label),
      matrix,
    );
  }
  indexes.vectors = index;
  indexes.maybeBuildGraph();
  await checkpointNow(ctx, { whenBusy: 'wait' });
}
