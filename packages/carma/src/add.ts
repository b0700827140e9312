/** Adding fragments: validate the batch, drop duplicates, embed, store, index. */
import type { MemoryContext } from './context.js';
import {
  findNearDuplicates,
  mergeNearDuplicate,
  NEAREST_FOR_NEAR_DUPLICATES,
  nearDuplicatesIn,
  nearFromLinks,
  resolveSlots,
  splitExactDuplicates,
} from './dedup.js';
import { type DocumentVectors, documentVectors } from './document-vectors.js';
import type { Hits } from './engine/index.js';
import type { FragmentRecord } from './fragment-store.js';
import type { AddResult, NearDuplicate } from './memory-types.js';
import { historyEntry, publicFragment } from './records.js';
import type { ParsedInput } from './validation.js';
import { checkpointIfDue, storeMeta } from './vector-index-file.js';

interface NewFragment {
  record: FragmentRecord;
  vector: Float32Array;
  near: NearDuplicate[];
  index: number;
}

interface NearMerge {
  target: FragmentRecord;
  from: FragmentRecord;
  index: number;
  near: NearDuplicate[];
}

/**
 * Adds fragments (the body of `Memory.addMany`, run while no other mutation runs).
 * Everything is validated before anything is stored.
 */
export async function addFragments(
  ctx: MemoryContext,
  parsed: ParsedInput[],
  ready?: DocumentVectors,
): Promise<AddResult[]> {
  const { fragments, indexes } = ctx;
  await indexes.graphBuilt();
  const at = ctx.now();
  const { slots, fresh, holders } = await splitExactDuplicates(ctx, parsed, at);
  if (fresh.length > 0) {
    // Embedded ahead (see embedAhead); what was not (say another process stored a copy
    // meanwhile and deleted it) is embedded now.
    const vectors = await documentVectors(
      ctx,
      fresh.map((f) => f.record),
      holders,
      ready,
    );
    const dim = indexes.dimension as number;
    const matrix = new Float32Array(fresh.length * dim);
    fresh.forEach((f, i) => {
      matrix.set(vectors.get(f.record.contentHash) as Float32Array, i * dim);
    });
    const namespaces = fresh.map((f) => f.record.namespace);
    // With a graph, the walks that link the rows find their nearest anyway: the
    // near-duplicates are read from those instead of a search of their own (the search
    // cost about as much as the linking).
    const fromLinks = nearFromLinks(ctx, fresh.length);
    const near = fromLinks
      ? namespaces.map((): NearDuplicate[] => [])
      : await findNearDuplicates(ctx, matrix, namespaces);
    const toStore: NewFragment[] = [];
    const merges: NearMerge[] = [];
    fresh.forEach((f, i) => {
      const nd = near[i] as NearDuplicate[];
      const target = nd[0] && fragments.byId.get(nd[0].id);
      if (ctx.options.mergeNearDuplicates && target) {
        merges.push({ target, from: f.record, index: f.index, near: nd });
      } else {
        toStore.push({
          record: f.record,
          vector: matrix.subarray(i * dim, (i + 1) * dim),
          near: nd,
          index: f.index,
        });
      }
    });
    if (toStore.length > 0) {
      fragments.checkCapacity(toStore.length);
      // The rows to store, in order: all of the batch's unless some were merged instead.
      let vectors = matrix;
      if (toStore.length < fresh.length) {
        vectors = new Float32Array(toStore.length * dim);
        toStore.forEach((s, i) => {
          vectors.set(s.vector, i * dim);
        });
      }
      // Labels come from the store's counter in the transaction that stores the fragments,
      // so that another process adding at the same time gets other ones. The rows are
      // indexed beside their write: once the labels are taken, the graph links them and
      // the lexical index takes their texts on the libuv pool natively, while the
      // database writes them.
      const indexRows = (labels: Uint32Array) =>
        Promise.allSettled([
          indexes.addVectors(dim, labels, vectors, fromLinks ? NEAREST_FOR_NEAR_DUPLICATES : {}),
          indexes.lexical.addAsync(
            labels,
            toStore.map((s) => s.record.text),
          ),
        ]);
      // Started by the store once the labels are taken.
      let indexing: { labels: Uint32Array; done: ReturnType<typeof indexRows> } | undefined;
      const index = (first: number) => {
        const labels = Uint32Array.from(toStore, (_, i) => first + i);
        indexing = { labels, done: indexRows(labels) };
      };
      try {
        await ctx.store.add(
          toStore.map((s) => ({
            fragment: s.record,
            vector: s.vector,
            change: historyEntry(s.record, 'add', at),
          })),
          { meta: storeMeta(ctx), lowestLabel: fragments.nextLabel, onLabeled: index },
        );
      } catch (error) {
        // Not stored: out of the indexes again, once they are done with the rows.
        if (indexing) {
          await indexing.done;
          unindex(ctx, indexing.labels);
        }
        throw error;
      }
      fragments.claimLabels(toStore.map((s) => s.record.label));
      if (!indexing) throw new Error('addFragments: the store took no labels');
      const { labels } = indexing;
      const indexed = await indexing.done;
      const failed = indexed.find((r) => r.status === 'rejected');
      if (failed) {
        // Stored, but not (all) indexed: taken out of both indexes, and left for the next
        // catch-up to take in from the database as fragments it does not hold yet.
        unindex(ctx, labels);
        for (const s of toStore) ctx.follow.doubt.add(s.record.id);
        throw failed.reason;
      }
      if (fromLinks) {
        const stored = toStore.map((s) => s.record.namespace);
        const walks = (indexed[0] as PromiseFulfilledResult<Hits | null>).value;
        // No walks when the graph was rebuilt meanwhile (it holds these rows now): then a
        // search, which finds the rows of the batch too, but they are not held yet.
        const found = walks
          ? nearDuplicatesIn(ctx, walks, NEAREST_FOR_NEAR_DUPLICATES.nearest, stored)
          : await findNearDuplicates(ctx, vectors, stored);
        toStore.forEach((s, i) => {
          s.near = found[i] as NearDuplicate[];
        });
      }
      for (const s of toStore) {
        fragments.remember(s.record);
        slots[s.index] = {
          fragment: publicFragment(s.record),
          status: 'added',
          nearDuplicates: s.near,
        };
      }
      indexes.maybeBuildGraph();
    }
    for (const m of merges) {
      const merged = await mergeNearDuplicate(ctx, m.target, m.from, at);
      slots[m.index] = {
        fragment: publicFragment(merged),
        status: 'merged',
        nearDuplicates: m.near,
      };
    }
  }
  const out = resolveSlots(slots);
  await checkpointIfDue(ctx);
  return out;
}

/** Takes rows out of both indexes. */
function unindex(ctx: MemoryContext, labels: Uint32Array): void {
  ctx.indexes.removeVectors(labels);
  ctx.indexes.lexical.remove(labels);
}
