/**
 * A memory that follows its database. Other processes write to the same database (any
 * number of native ones share it): they add, change and delete fragments, each change
 * with a row in the history. The memory knows the history position its state reflects;
 * before a search it compares that with the database's latest (one indexed query), and
 * around each write it applies whatever changed since: fragments added, changed or
 * deleted elsewhere reach its state, its lexical index and its vector index.
 */
import { completeRecords } from './complete-records.js';
import type { MemoryContext } from './context.js';
import type { FragmentRecord } from './fragment-store.js';
import { indexRecords } from './index-records.js';
import type { RecordsOnDemand } from './records-on-demand.js';
import { relabel } from './relabel.js';

export interface FollowState {
  /** The history position the memory's state reflects (of committed changes only). */
  seq: number;
  /**
   * Fragments the memory's state does not match the database on, taken in again by the
   * next catch-up outside a transaction: those stored by an add whose indexing failed.
   */
  doubt: Set<string>;
  /**
   * Fragments changed inside a transaction of the store (by this memory or seen by it),
   * whose rows a rollback takes back. The first catch-up outside compares them again,
   * unless every change since the position is this memory's own and no transaction of
   * the store was rolled back since (`rollbacks`): then they were committed as written.
   */
  uncommitted: Set<string>;
  /** The store's count of rolled-back transactions at the last catch-up outside one. */
  rollbacks: number;
}

/** Nothing held that a catch-up must compare with the database again. */
export function settled(follow: FollowState): boolean {
  return follow.doubt.size === 0 && follow.uncommitted.size === 0;
}

/**
 * Whether nothing was written to the database since the memory last caught up, but by
 * the memory itself: a write of its own is in its state, or is being put there by the
 * mutation that wrote it, and a search running beside that mutation need not wait for it.
 *
 * Its own rows are counted before and after the latest seq is read: a write noted in
 * between (committed before or after that read, no telling) answers no.
 */
export async function upToDate(ctx: MemoryContext): Promise<boolean> {
  const { follow, store } = ctx;
  if (!settled(follow)) return false;
  const own = store.ownWrites().rows;
  const latest = await store.latestSeq();
  return store.ownWrites().rows === own && latest === follow.seq + own;
}

/**
 * Applies every change recorded after the memory's position and returns the position it
 * is at now. Runs while no mutation of the memory runs. With `checkpoint`, the index
 * file another process named in the meta is taken over (see `adoptCheckpoint`).
 *
 * Inside a transaction of the store the changes it sees are applied (its own writes are
 * in its state already) but the position stays: the history rows of a transaction that
 * is rolled back are taken back and their numbers used again, so only committed rows may
 * move it. The first catch-up outside reads none of them back when they were all its own
 * and the store rolled nothing back meanwhile (an ingest batch was read back twice).
 */
export async function catchUp(
  ctx: MemoryContext,
  options: { checkpoint?: boolean } = {},
): Promise<number> {
  const { follow } = ctx;
  const inside = ctx.store.inTransaction();
  const from = follow.seq;
  let { ids, seq } = await ctx.store.changedSince(from);
  if (seq < from && ctx.fragments.onDemand) {
    // Every fragment is compared below: with every record.
    await completeRecords(ctx);
    return catchUp(ctx, options);
  }
  if (seq < from) {
    // The history went back (the database was replaced): compare every fragment.
    const all = await ctx.store.changedSince(0);
    ids = new Set([...all.ids, ...ctx.fragments.byId.keys()]);
    seq = all.seq;
  }
  // Nothing since the position but this memory's own rows (every one of them is counted,
  // so a row of another writer would make more): its state already has them.
  const onlyOwn = (own: { rows: number; ids: ReadonlySet<string> }) =>
    follow.doubt.size === 0 && seq - from === own.rows && [...ids].every((id) => own.ids.has(id));
  if (inside) {
    for (const id of ids) follow.uncommitted.add(id);
    if (onlyOwn(ctx.store.ownWrites())) ids.clear();
  } else {
    const own = ctx.store.takeOwnWrites();
    // The store's call above returned after any transaction before it ended: unless one
    // was rolled back since the last look, what was written inside them was committed.
    const rollbacks = ctx.store.rollbacks();
    const committed = rollbacks === follow.rollbacks;
    follow.rollbacks = rollbacks;
    if (committed && onlyOwn(own)) {
      ids.clear();
    } else {
      for (const id of follow.uncommitted) ids.add(id);
      // Rows of this memory's own that a rollback may have taken back.
      if (!committed) for (const id of own.ids) ids.add(id);
    }
    follow.uncommitted.clear();
    for (const id of follow.doubt) ids.add(id);
    follow.doubt.clear();
  }
  if (ids.size > 0) {
    if (ctx.fragments.onDemand) await applyChangesOnDemand(ctx, [...ids]);
    else await applyChanges(ctx, [...ids]);
  }
  if (!inside) follow.seq = seq;
  if (options.checkpoint || seq !== from) await adoptCheckpoint(ctx);
  return seq;
}

/**
 * Takes over the index file another process checkpointed (named in the meta, newer than
 * this memory's), so that this memory's meta writes keep naming it and its next file
 * gets a generation after it.
 */
async function adoptCheckpoint(ctx: MemoryContext): Promise<void> {
  const theirs = (await ctx.store.readMeta())?.index;
  if (!theirs) return;
  const { files } = ctx;
  files.generation = Math.max(files.generation, theirs.generation);
  if (files.checkpoint === undefined || theirs.generation > files.checkpoint.generation) {
    files.checkpoint = theirs;
    ctx.indexes.savedToFile = false;
    ctx.indexes.fromCheckpoint = false;
  }
}

/** Whether two records of one fragment agree on everything but access statistics. */
function sameRecord(a: FragmentRecord, b: FragmentRecord): boolean {
  return (
    a.label === b.label &&
    a.version === b.version &&
    a.updatedAt === b.updatedAt &&
    a.contentHash === b.contentHash &&
    a.text === b.text &&
    a.namespace === b.namespace &&
    a.importance === b.importance &&
    a.core === b.core &&
    a.createdAt === b.createdAt &&
    a.reinforcements === b.reinforcements &&
    JSON.stringify([a.metadata, a.mergedFrom, a.links]) ===
      JSON.stringify([b.metadata, b.mergedFrom, b.links])
  );
}

/**
 * Reads every fragment's record, for a memory opened from a checkpoint that has not yet
 * (`completeRecords`), and takes in what changed since its position.
 */
export async function readEveryRecord(ctx: MemoryContext): Promise<void> {
  if (!ctx.fragments.onDemand) return;
  await completeRecords(ctx);
  await catchUp(ctx);
}

/**
 * `applyChanges` for a memory answering from its label map (records on demand): what
 * another writer added, changed or deleted goes into the map's overlay and the indexes.
 * The texts the map's entries held are not known, so a changed fragment is indexed again.
 * A label held by another fragment here needs every record (see `applyChanges`).
 */
async function applyChangesOnDemand(ctx: MemoryContext, ids: string[]): Promise<void> {
  const { fragments, indexes } = ctx;
  const onDemand = fragments.onDemand as RecordsOnDemand;
  const stored = await ctx.store.read(ids);
  const removed: number[] = [];
  const reindex: FragmentRecord[] = [];
  const gone: string[] = [];
  const taken = new Set<number>();
  for (const [i, id] of ids.entries()) {
    const before = onDemand.labelOfId(id);
    const after = stored[i];
    if (after) {
      const holder = onDemand.idOf(after.label);
      if ((holder !== undefined && holder !== id) || taken.has(after.label)) {
        // Every record but those changed since the position (these among them) first.
        await completeRecords(ctx);
        return applyChanges(ctx, ids);
      }
      taken.add(after.label);
    }
    if (before !== undefined && before !== after?.label) removed.push(before);
    if (!after) {
      if (before !== undefined) gone.push(id);
      continue;
    }
    const earlier = before === undefined ? undefined : onDemand.atHandFor(before);
    if (earlier && sameRecord(earlier, after)) continue; // this memory's own write
    if (earlier) {
      // Accesses recorded here and not yet written stay counted.
      after.accessCount = Math.max(after.accessCount, earlier.accessCount);
      after.accessedAt = Math.max(after.accessedAt, earlier.accessedAt);
    }
    reindex.push(after);
  }
  if (removed.length === 0 && reindex.length === 0 && gone.length === 0) return;
  ctx.store.noteFollowed?.(gone.length + reindex.length);
  for (const id of gone) onDemand.drop(id);
  if (removed.length > 0) {
    const labels = Uint32Array.from(removed);
    indexes.removeVectors(labels);
    indexes.lexical.remove(labels);
  }
  for (const f of reindex) fragments.remember(f);
  // Links to fragments this memory does not hold are dropped, as on open.
  for (const f of reindex) {
    if (f.links.length > 0) f.links = f.links.filter((id) => onDemand.holds(id));
  }
  await indexTakenIn(ctx, reindex);
}

/** Brings the state and indexes of these fragments to what the database holds now. */
async function applyChanges(ctx: MemoryContext, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const { fragments, indexes } = ctx;
  const stored = await ctx.store.read(ids);
  const gone: FragmentRecord[] = [];
  const changed: Array<{ before: FragmentRecord | undefined; after: FragmentRecord }> = [];
  ids.forEach((id, i) => {
    const before = fragments.byId.get(id);
    const after = stored[i];
    if (!after) {
      if (before) gone.push(before);
    } else if (!before || !sameRecord(before, after)) {
      changed.push({ before, after });
    }
  });
  if (gone.length === 0 && changed.length === 0) return; // this memory's own writes
  ctx.store.noteFollowed?.(gone.length + changed.length);
  // Out first: what was deleted, and the old version (and label) of what changed.
  const removed: number[] = [];
  for (const f of gone) {
    fragments.forget(f);
    removed.push(f.label);
  }
  const reindex: FragmentRecord[] = [];
  for (const { before, after } of changed) {
    if (before) {
      // Accesses recorded here and not yet written stay counted.
      after.accessCount = Math.max(after.accessCount, before.accessCount);
      after.accessedAt = Math.max(after.accessedAt, before.accessedAt);
      fragments.forget(before);
      if (before.label !== after.label) removed.push(before.label);
    }
    if (!before || before.label !== after.label || before.text !== after.text) {
      reindex.push(after);
    }
  }
  if (removed.length > 0) {
    const labels = Uint32Array.from(removed);
    indexes.removeVectors(labels);
    indexes.lexical.remove(labels);
  }
  // A label held by another fragment here (data written before labels came from the
  // store's counter): that fragment gets a new one.
  const taken = new Set(
    changed.filter((c) => !reindex.includes(c.after)).map((c) => c.after.label),
  );
  const clashing = reindex.filter((f) => {
    const clash = fragments.byLabel.has(f.label) || taken.has(f.label);
    taken.add(f.label);
    return clash;
  });
  if (clashing.length > 0) await relabel(ctx, clashing);
  for (const { after } of changed) fragments.remember(after);
  // Links to fragments this memory does not hold are dropped, as on open.
  for (const { after } of changed) after.links = after.links.filter((id) => fragments.byId.has(id));
  await indexTakenIn(ctx, reindex);
}

/**
 * Indexes the records a catch-up took in (new, or with a new label or text), the last
 * step of both kinds of catch-up.
 */
async function indexTakenIn(ctx: MemoryContext, reindex: FragmentRecord[]): Promise<void> {
  const { fragments, indexes } = ctx;
  fragments.claimLabels(reindex.map((f) => f.label));
  if (reindex.length > 0) {
    try {
      await indexRecords(ctx, reindex);
    } catch (error) {
      // Not (all) in the indexes: forgotten again, so that the next catch-up, from the
      // same position, takes them in as new instead of as records it already holds.
      for (const f of reindex) fragments.forget(f);
      throw error;
    }
  }
  indexes.savedToFile = false;
}
