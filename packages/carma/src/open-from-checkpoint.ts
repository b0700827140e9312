/**
 * Opening a memory from its checkpoint without reading every fragment: the checkpoint's
 * index files and label map, brought up to date with what changed since it was written.
 * The records of the fragments are read when something needs them (records-on-demand.ts).
 */
import type { MemoryContext } from './context.js';
import { FORMAT_VERSION } from './engine/file-format.js';
import type { LexicalIndex } from './engine/index.js';
import type { FragmentRecord } from './fragment-store.js';
import type { ChangesSince } from './index-file-drift.js';
import type { LabelMap } from './label-map-file.js';
import { addTexts } from './lexical-index-file.js';
import { RecordsOnDemand } from './records-on-demand.js';
import { BESIDE_MAX } from './rows-beside.js';
import { fillFromStore, type ReadIndexFile } from './vector-index-file.js';

/** The files of a checkpoint being read, and what changed in the store since. */
export interface CheckpointReads {
  labelMap: Promise<LabelMap | undefined> | undefined;
  vectors: Promise<ReadIndexFile | undefined> | undefined;
  lexical: Promise<LexicalIndex | undefined> | undefined;
  since: ChangesSince | undefined;
}

/**
 * Sets up the memory's fragments and indexes from the checkpoint's files; false when they
 * cannot serve (one missing or not trusted, the history behind them, a label held twice,
 * the files of different states), and then nothing was changed: the caller reads every
 * fragment, and may still adopt the index files read here.
 */
export async function openFromCheckpoint(
  ctx: MemoryContext,
  reads: CheckpointReads,
): Promise<boolean> {
  const [map, read, lexical, changed] = await Promise.all([
    reads.labelMap,
    reads.vectors,
    reads.lexical,
    reads.since?.(),
  ]);
  if (!map || !read || !lexical || !changed) return false;
  if (read.index.size !== map.count || lexical.size !== map.count) return false;
  const ids = [...changed];
  // Few changes (the usual case): the records with their vectors, in one read of the
  // store, so that a replay costs a record read each. Many: the vectors are read a page
  // at a time as they go into the index.
  const withVectors = ids.length <= BESIDE_MAX;
  const stored = withVectors
    ? await ctx.store.readWithVectors(ids)
    : (await ctx.store.read(ids)).map((record) => record && { record, vector: undefined });
  const goneEntries = new Set<number>();
  const stale: number[] = [];
  const present: FragmentRecord[] = [];
  const vectors: Array<Float32Array | undefined> = [];
  ids.forEach((id, i) => {
    const entry = map.entryOfId(id);
    const f = stored[i]?.record;
    if (entry >= 0) {
      goneEntries.add(entry);
      const label = map.labels[entry] as number;
      if (!f || f.label !== label) stale.push(label);
    }
    if (f) {
      present.push(f);
      vectors.push(stored[i]?.vector);
    }
  });
  // A label held by two fragments (a database written before labels came from its
  // counter): the full open repairs it.
  const taken = new Set<number>();
  for (const f of present) {
    const entry = map.entryOf(f.label);
    if ((entry >= 0 && !goneEntries.has(entry)) || taken.has(f.label)) return false;
    taken.add(f.label);
  }
  const { indexes, fragments } = ctx;
  if (stale.length > 0) {
    const labels = Uint32Array.from(stale);
    read.index.remove(labels);
    lexical.remove(labels);
  }
  if (present.length <= BESIDE_MAX && read.index.size > present.length) {
    // Few changes: beside the file's index, which stays as mapped (rows-beside.ts).
    // Found in the map (the files' labels) rather than asked of the index, which would
    // build its label lookup for every row (50 ms at 1M fragments).
    const held = present.filter((f) => map.entryOf(f.label) >= 0);
    if (held.length > 0) read.index.remove(Uint32Array.from(held, (f) => f.label));
    const replayed = ctx.engine.createVectorIndex(read.index.dimension, 'cosine', null);
    await fillFromStore(ctx, present, replayed, withVectors ? vectors : undefined);
    // The map's labels are in ascending order: the last is the highest the file holds.
    indexes.fromFile(read.index, map.labels[map.count - 1] ?? -1, replayed);
  } else {
    await fillFromStore(ctx, present, read.index, withVectors ? vectors : undefined);
    indexes.vectors = read.index;
  }
  await addTexts(lexical, present);
  indexes.lexical = lexical;
  indexes.savedToFile =
    stale.length === 0 && present.length === 0 && read.version === FORMAT_VERSION;
  // A file of an older format is written again by the next checkpoint, however few changes.
  indexes.fromCheckpoint = read.version === FORMAT_VERSION;
  const onDemand = new RecordsOnDemand(map, goneEntries, present);
  fragments.onDemand = onDemand;
  fragments.claimLabels([onDemand.maxLabel]);
  indexes.maybeBuildGraph();
  return true;
}
