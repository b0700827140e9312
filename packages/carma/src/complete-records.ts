/**
 * Reading every record of a memory opened from a checkpoint (see records-on-demand.ts),
 * once something needs them all: a listing, a delete, a filter.
 */

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { MemoryContext } from './context.js';
import type { FragmentRecord } from './fragment-store.js';
import { indexRecords } from './index-records.js';
import { labelSet } from './label-table.js';
import { relabel, sharedLabels } from './relabel.js';

/** Records read per call to the store while completing. */
const PAGE = 2000;

/**
 * Takes in every fragment's record, as the store holds it now, but those changed since
 * the memory's history position: those are left to the catch-up that must follow (run
 * only as its first step), which takes them in as new. Labels the indexes hold that no
 * fragment holds any more leave them here, as the catch-up cannot know them.
 *
 * Searches go on meanwhile from the label map: the records are read a page at a time
 * (each page one read of the store, so that theirs run in between) and taken in 8 ms at a
 * time, and the memory switches to them at the end, in one step.
 */
export async function completeRecords(ctx: MemoryContext): Promise<void> {
  const { fragments, store } = ctx;
  const onDemand = fragments.onDemand;
  if (!onDemand) return;
  const records: FragmentRecord[] = [];
  for (let after: string | undefined, more = true; more; ) {
    const page = await store.readPage(after, PAGE);
    for (const f of page.records) records.push(f);
    after = page.next;
    more = after !== undefined;
    // A store may answer at once (the native SQLite driver reads on this thread): the
    // event loop gets its turn here, or the pages would follow each other as microtasks
    // and no search would run until the last.
    await nextTurn();
  }
  // Read after the records: every change they may show is in it. (The pages are not one
  // snapshot: a fragment changed while they were read is among these too.)
  const { ids: changed, seq } = await store.changedSince(ctx.follow.seq);
  const historyWentBack = seq < ctx.follow.seq;
  // Accesses recorded on the records read for results, and not written yet, stay counted.
  const atHand = new Map<string, FragmentRecord>();
  for (const f of onDemand.atHand()) atHand.set(f.id, f);
  if (atHand.size > 0) {
    for (const f of records) {
      const seen = atHand.get(f.id);
      if (seen) {
        f.accessCount = Math.max(f.accessCount, seen.accessCount);
        f.accessedAt = Math.max(f.accessedAt, seen.accessedAt);
      }
    }
  }
  const clashing = sharedLabels(records);
  if (clashing.length > 0) {
    const held = labelSet(Uint32Array.from(records, (f) => f.label));
    dropLabels(
      ctx,
      onDemand.labels().filter((label) => !held.has(label)),
    );
    fragments.onDemand = undefined;
    await repairLabels(ctx, records, clashing, changed);
    return;
  }
  const unchanged = historyWentBack ? [] : records.filter((f) => !changed.has(f.id));
  // The labels held now: those of the unchanged, and of the changed still there (the
  // catch-up indexes these again under their labels).
  const present = await store.read([...changed]);
  const held = labelSet(
    Uint32Array.from([...unchanged, ...present.filter((f) => f !== undefined)], (f) => f.label),
  );
  // Links to fragments deleted without their links being cleared, as on open (the ids
  // are gathered only when some fragment links: most never do).
  const linking = unchanged.filter((f) => f.links.length > 0);
  if (linking.length > 0) {
    const ids = new Set(records.map((f) => f.id));
    for (const f of linking) f.links = f.links.filter((id) => ids.has(id));
  }
  await fragments.rememberInSlices(unchanged);
  fragments.claimLabels(unchanged.map((f) => f.label));
  dropLabels(
    ctx,
    onDemand.labels().filter((label) => !held.has(label)),
  );
  fragments.onDemand = undefined;
}

/** Takes out of the indexes labels no fragment holds any more. */
function dropLabels(ctx: MemoryContext, stale: number[]): void {
  if (stale.length === 0) return;
  const labels = Uint32Array.from(stale);
  ctx.indexes.removeVectors(labels);
  ctx.indexes.lexical.remove(labels);
  ctx.indexes.savedToFile = false;
  ctx.indexes.fromCheckpoint = false;
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
  ctx.indexes.fromCheckpoint = false;
}
