/**
 * Dedup on write: identical text in a namespace is stored once, and new text very close
 * to a stored fragment is reported (or merged into it).
 */
import { timeOrderedUuid } from '@aios/utils';
import type { MemoryContext } from './context.js';
import { type Hits, NO_LABEL } from './engine/index.js';
import { type ContentHolders, contentKey } from './fragment-state.js';
import type { FragmentRecord } from './fragment-store.js';
import type { AddResult, NearDuplicate } from './memory-types.js';
import { historyEntry, publicFragment } from './records.js';
import type { ParsedInput } from './validation.js';

/** Near-duplicate similarity when `nearDuplicateThreshold` is not set. */
const DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.95;
/** Nearest neighbours looked at per new fragment. */
const NEAR_CANDIDATES = 10;

/** An input's result slot: decided, or a copy of an earlier input in the same batch. */
export type AddSlot = AddResult | { sameAs: number } | undefined;

/**
 * Splits a batch into exact duplicates (of stored fragments, or of an earlier input)
 * and new records still to be embedded (label -1 until they are stored). Also returns
 * the holders of the batch's texts, for the vectors a copy in another namespace reuses.
 */
export async function splitExactDuplicates(
  ctx: MemoryContext,
  parsed: ParsedInput[],
  at: number,
): Promise<{
  slots: AddSlot[];
  fresh: Array<{ index: number; record: FragmentRecord }>;
  holders: ContentHolders;
}> {
  const slots: AddSlot[] = new Array(parsed.length);
  const fresh: Array<{ index: number; record: FragmentRecord }> = [];
  const seen = new Map<string, number>();
  const hashes = parsed.map((p) => ctx.hashing.hashSync(p.text));
  const holders = await ctx.fragments.contentHolders(ctx.store, hashes);
  parsed.forEach((p, index) => {
    const contentHash = hashes[index] as string;
    const existing = holders.inNamespace(p.namespace, contentHash);
    if (existing) {
      slots[index] = {
        fragment: publicFragment(existing),
        status: 'duplicate',
        nearDuplicates: [],
      };
      return;
    }
    const key = contentKey(p.namespace, contentHash);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      slots[index] = { sameAs: earlier };
      return;
    }
    seen.set(key, index);
    // Given times (an import) stand, but none after the add itself.
    const createdAt = Math.min(p.createdAt ?? at, at);
    const updatedAt = Math.max(createdAt, Math.min(p.updatedAt ?? createdAt, at));
    fresh.push({
      index,
      record: {
        // In time order, so that the database's indexes of ids grow at their end.
        id: timeOrderedUuid(),
        label: -1,
        namespace: p.namespace,
        text: p.text,
        contentHash,
        metadata: p.metadata,
        importance: p.importance,
        core: p.core,
        createdAt,
        updatedAt,
        accessedAt: createdAt,
        accessCount: 0,
        reinforcements: 0,
        version: 1,
        mergedFrom: [],
        links: [],
      },
    });
  });
  return { slots, fresh, holders };
}

/** The final results: duplicates within the batch point at what their first copy became. */
export function resolveSlots(slots: AddSlot[]): AddResult[] {
  return slots.map((slot) => {
    if (slot === undefined || !('sameAs' in slot)) return slot as AddResult;
    const first = slots[slot.sameAs] as AddResult;
    return { fragment: first.fragment, status: 'duplicate' as const, nearDuplicates: [] };
  });
}

/** The similarity from which a fragment is a near-duplicate (above 1: none is looked for). */
function nearThreshold(ctx: MemoryContext): number {
  return ctx.options.nearDuplicateThreshold ?? DEFAULT_NEAR_DUPLICATE_THRESHOLD;
}

/**
 * Whether the near-duplicates of the next `rows` rows added come from the walks that link
 * them into the graph (`addAsync`'s `nearest`) rather than a search before: with a graph,
 * unless they decide whether a row is stored at all (merging) or go beside the graph
 * (`SearchIndexes.addVectors`).
 */
export function nearFromLinks(ctx: MemoryContext, rows: number): boolean {
  const { indexes } = ctx;
  return (
    nearThreshold(ctx) <= 1 &&
    !ctx.options.mergeNearDuplicates &&
    indexes.hnsw !== null &&
    !indexes.keepsBeside(rows)
  );
}

/** `addAsync`'s options that ask for the rows' nearest for `nearDuplicatesIn`. */
export const NEAREST_FOR_NEAR_DUPLICATES = { nearest: NEAR_CANDIDATES } as const;

/**
 * Near-duplicates of each row of `matrix` in its namespace, most similar first, by a
 * search of the index as it is (and the rows beside it). A batch is thousands of searches: off the JS thread
 * where the engine can.
 */
export async function findNearDuplicates(
  ctx: MemoryContext,
  matrix: Float32Array,
  namespaces: string[],
): Promise<NearDuplicate[][]> {
  const { indexes } = ctx;
  if (!indexes.hasVectors || indexes.vectorCount === 0 || nearThreshold(ctx) > 1) {
    return namespaces.map(() => []);
  }
  const k = Math.min(NEAR_CANDIDATES, indexes.vectorCount);
  return nearDuplicatesIn(ctx, await indexes.searchVectors(matrix, k, { ef: 64 }), k, namespaces);
}

/**
 * The near-duplicates among `k` nearest rows per new row (`hits`): at least as similar
 * as the threshold, held by the memory (not rows of the batch itself), in the row's
 * namespace.
 */
export function nearDuplicatesIn(
  ctx: MemoryContext,
  hits: Hits,
  k: number,
  namespaces: string[],
): NearDuplicate[][] {
  const threshold = nearThreshold(ctx);
  return namespaces.map((ns, i) => {
    const out: NearDuplicate[] = [];
    for (let j = i * k; j < (i + 1) * k; j++) {
      const label = hits.labels[j] as number;
      const score = hits.scores[j] as number;
      if (label === NO_LABEL || score < threshold) continue;
      const f = ctx.fragments.holderOf(label);
      if (f && f.namespace === ns) out.push({ id: f.id, similarity: score });
    }
    return out;
  });
}

/**
 * Folds a new text into its near-duplicate `target` instead of storing it: the text's
 * hash joins the provenance, the stronger importance and core flag win, and the target's
 * metadata wins over the new text's.
 */
export async function mergeNearDuplicate(
  ctx: MemoryContext,
  target: FragmentRecord,
  from: FragmentRecord,
  at: number,
): Promise<FragmentRecord> {
  target.mergedFrom = [...target.mergedFrom, ...from.mergedFrom, from.contentHash];
  target.importance = Math.max(target.importance, from.importance);
  target.metadata = { ...from.metadata, ...target.metadata };
  target.core = target.core || from.core;
  target.version++;
  target.updatedAt = at;
  await ctx.store.put([
    {
      fragment: target,
      change: historyEntry(target, 'merge', at, `merged near-duplicate text ${from.contentHash}`),
    },
  ]);
  return target;
}
