/**
 * Consolidation of one cluster: each fragment, most important (then oldest) first, takes
 * in the others at least `mergeThreshold` similar (they are deleted, their ids kept in
 * `mergedFrom` and their histories kept), and links those at least `linkThreshold`.
 */
import type { MemoryContext } from './context.js';
import { unlinkDeleted } from './edits.js';
import { NO_LABEL } from './engine/index.js';
import type { FragmentRecord } from './fragment-store.js';
import type { ConsolidationReport } from './memory-types.js';
import { historyEntry } from './records.js';
import type { ParsedConsolidation } from './validation.js';

/** Neighbours looked at beyond `maxLinks`, so that merged ones leave room for links. */
const EXTRA_NEIGHBOURS = 16;

export async function consolidateCluster(
  ctx: MemoryContext,
  cluster: number[],
  settings: Pick<ParsedConsolidation, 'mergeThreshold' | 'linkThreshold' | 'maxLinks'>,
  report: ConsolidationReport,
): Promise<void> {
  const { mergeThreshold, linkThreshold, maxLinks } = settings;
  const { fragments, indexes } = ctx;
  const vectors = indexes.vectors;
  if (vectors === undefined) return; // nothing embedded, nothing to compare
  // Fragments deleted since the plan was made are skipped.
  const members = cluster
    .map((l) => fragments.byLabel.get(l))
    .filter((f): f is FragmentRecord => f !== undefined)
    .sort((a, b) => b.importance - a.importance || a.createdAt - b.createdAt || a.label - b.label);
  if (members.length < 2) return;
  const allowed = Uint32Array.from(members, (f) => f.label);
  const k = Math.min(members.length, maxLinks + EXTRA_NEIGHBOURS);
  const gone = new Set<number>();
  const at = ctx.now();
  for (const keeper of members) {
    if (gone.has(keeper.label)) continue;
    const v = vectors.get(keeper.label) as Float32Array;
    const hits = vectors.search(v, k, { filter: allowed, exact: true });
    const mergeFrom: FragmentRecord[] = [];
    const links: string[] = [];
    hits.labels.forEach((label, i) => {
      const score = hits.scores[i] as number;
      if (label === NO_LABEL || label === keeper.label || gone.has(label)) return;
      const other = fragments.byLabel.get(label);
      if (!other) return;
      if (score >= mergeThreshold) mergeFrom.push(other);
      else if (score >= linkThreshold && links.length < maxLinks) links.push(other.id);
    });
    if (mergeFrom.length > 0) {
      for (const f of mergeFrom) gone.add(f.label);
      await mergeInto(ctx, keeper, mergeFrom, at);
      report.merged.push({ into: keeper.id, from: mergeFrom.map((f) => f.id) });
    }
    if (await relink(ctx, keeper, links, at)) report.linked++;
  }
}

/** Folds `mergeFrom` into `keeper` and deletes them (their histories stay). */
async function mergeInto(
  ctx: MemoryContext,
  keeper: FragmentRecord,
  mergeFrom: FragmentRecord[],
  at: number,
): Promise<void> {
  const { fragments, indexes } = ctx;
  fragments.changes++;
  keeper.mergedFrom = [...keeper.mergedFrom, ...mergeFrom.flatMap((f) => [f.id, ...f.mergedFrom])];
  keeper.importance = Math.max(keeper.importance, ...mergeFrom.map((f) => f.importance));
  keeper.core = keeper.core || mergeFrom.some((f) => f.core);
  // The keeper's metadata wins, then that of the most similar merged fragments.
  keeper.metadata = Object.assign(
    {},
    ...mergeFrom.map((f) => f.metadata).reverse(),
    keeper.metadata,
  );
  keeper.reinforcements += mergeFrom.reduce((s, f) => s + f.reinforcements, 0);
  keeper.version++;
  keeper.updatedAt = at;
  await ctx.store.put([
    {
      fragment: keeper,
      change: historyEntry(keeper, 'merge', at, `merged ${mergeFrom.map((f) => f.id).join(', ')}`),
    },
  ]);
  await ctx.store.delete(
    mergeFrom.map((f) => ({
      id: f.id,
      change: {
        ...historyEntry(f, 'delete', at, `merged into ${keeper.id}`),
        version: f.version + 1,
      },
    })),
  );
  const labels = Uint32Array.from(mergeFrom, (f) => f.label);
  indexes.vectors?.remove(labels);
  indexes.lexical.remove(labels);
  for (const f of mergeFrom) fragments.forget(f);
  await unlinkDeleted(ctx, new Set(mergeFrom.map((f) => f.id)), at);
}

/** Sets the keeper's links; true when they changed (order aside). */
async function relink(
  ctx: MemoryContext,
  keeper: FragmentRecord,
  links: string[],
  at: number,
): Promise<boolean> {
  const sortedOld = [...keeper.links].sort().join('\u0000');
  const next = [...new Set(links)];
  if ([...next].sort().join('\u0000') === sortedOld) return false;
  keeper.links = next;
  ctx.fragments.noteLinks(keeper);
  keeper.version++;
  await ctx.store.put([{ fragment: keeper, change: historyEntry(keeper, 'link', at) }]);
  return true;
}
