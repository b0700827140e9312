/**
 * Reading every record of a memory opened from a checkpoint (see records-on-demand.ts),
 * once something needs them all: a write, a catch-up with other writers, a listing.
 */
import type { MemoryContext } from './context.js';
import type { FragmentRecord } from './fragment-store.js';
import { indexRecords } from './index-records.js';
import { labelSet } from './label-table.js';
import { relabel, sharedLabels } from './relabel.js';

/**
 * Takes in every fragment's record, as the store holds it now, but those changed since
 * the memory's history position: those are left to the catch-up that must follow (run
 * only as its first step), which takes them in as new. Labels the indexes hold that no
 * fragment holds any more leave them here, as the catch-up cannot know them.
 */
export async function completeRecords(ctx: MemoryContext): Promise<void> {
  const { fragments, indexes } = ctx;
  const onDemand = fragments.onDemand;
  if (!onDemand) return;
  const records = await ctx.store.readAll();
  // Read after the records: every change they may show is in it.
  const { ids: changed, seq } = await ctx.store.changedSince(ctx.follow.seq);
  const historyWentBack = seq < ctx.follow.seq;
  const held = labelSet(Uint32Array.from(records, (f) => f.label));
  const stale = onDemand.labels().filter((label) => !held.has(label));
  if (stale.length > 0) {
    const labels = Uint32Array.from(stale);
    indexes.vectors?.remove(labels);
    indexes.lexical.remove(labels);
    indexes.savedToFile = false;
  }
  // Accesses recorded on the records read for results, and not written yet, stay counted.
  const atHand = new Map<string, FragmentRecord>();
  for (const f of onDemand.atHand()) atHand.set(f.id, f);
  const ids = new Set<string>();
  for (const f of records) {
    ids.add(f.id);
    const seen = atHand.get(f.id);
    if (seen) {
      f.accessCount = Math.max(f.accessCount, seen.accessCount);
      f.accessedAt = Math.max(f.accessedAt, seen.accessedAt);
    }
  }
  fragments.onDemand = undefined;
  const clashing = sharedLabels(records);
  if (clashing.length > 0) {
    await repairLabels(ctx, records, clashing, changed);
    return;
  }
  const unchanged = historyWentBack ? [] : records.filter((f) => !changed.has(f.id));
  // Links to fragments deleted without their links being cleared, as on open.
  for (const f of unchanged) {
    if (f.links.length > 0) f.links = f.links.filter((id) => ids.has(id));
  }
  fragments.rememberAll(unchanged);
  fragments.claimLabels(unchanged.map((f) => f.label));
}

/**
 * Every record taken in as it is now when some share a label (changed without history by
 * a version that handed labels out itself): the later ones get labels of their own, as a
 * full open gives them, and the indexes take in again the fragments of the labels once
 * shared and those changed since the memory's position.
 */
async function repairLabels(
  ctx: MemoryContext,
  records: FragmentRecord[],
  clashing: FragmentRecord[],
  changed: Set<string>,
): Promise<void> {
  const { fragments } = ctx;
  const moved = new Set(clashing);
  const shared = new Set(clashing.map((f) => f.label));
  const reindex = records.filter((f) => moved.has(f) || shared.has(f.label) || changed.has(f.id));
  fragments.claimLabels(records.map((f) => f.label));
  await relabel(ctx, clashing);
  const ids = new Set(records.map((f) => f.id));
  for (const f of records) {
    if (f.links.length > 0) f.links = f.links.filter((id) => ids.has(id));
  }
  fragments.rememberAll(records);
  await indexRecords(ctx, reindex);
  ctx.indexes.savedToFile = false;
}
