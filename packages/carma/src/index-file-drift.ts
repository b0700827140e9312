/**
 * What the two index files (vector and lexical) share when a memory opens: how a file
 * written at a checkpoint differs from the store now.
 */
import type { MemoryContext } from './context.js';
import type { FragmentRecord, IndexCheckpoint } from './fragment-store.js';
import { labelSet } from './label-table.js';

/**
 * The ids changed in the store since `checkpoint`, read once however many files ask;
 * undefined when the store's history is behind it (a restored database: the files
 * describe another state).
 */
export type ChangesSince = () => Promise<Set<string> | undefined>;

export function changesSince(ctx: MemoryContext, checkpoint: IndexCheckpoint): ChangesSince {
  let read: Promise<Set<string> | undefined> | undefined;
  return () => {
    read ??= ctx.store
      .changedSince(checkpoint.seq)
      .then(({ ids, seq }) => (seq < checkpoint.seq ? undefined : ids));
    return read;
  };
}

/**
 * How a file holding `fileLabels` differs from the fragments now: the labels it holds
 * of fragments gone since, and the fragments it lacks or holds an older version of.
 */
export function drift(
  ctx: MemoryContext,
  fileLabels: Uint32Array,
  changed: Set<string>,
  records: FragmentRecord[],
): { stale: Uint32Array; todo: FragmentRecord[] } {
  // One call for the file's labels rather than one per fragment (100k crossings natively).
  const inFile = labelSet(fileLabels);
  const stale: number[] = [];
  for (const l of inFile.added) if (!ctx.fragments.byLabel.has(l)) stale.push(l);
  return {
    stale: Uint32Array.from(stale),
    todo: records.filter((f) => changed.has(f.id) || !inFile.has(f.label)),
  };
}
