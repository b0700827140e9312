/**
 * Erasing a namespace: every fragment of it, its vectors, index entries, history and
 * source records, gone from the store and from the index file, not only hidden.
 */
import type { NamespaceErasure } from '@aios/data';
import type { MemoryContext } from './context.js';
import { unlinkDeleted } from './edits.js';
import { checkpointNow } from './vector-index-file.js';

export type { NamespaceErasure } from '@aios/data';

/**
 * Erases `namespace` (runs while no other mutation runs): the store removes its rows and
 * their history in one transaction (with the fragments merged into them, whose ids their
 * provenance holds); then the fragments leave the state and both indexes, links to them
 * from other namespaces are cleared, the vector index drops the rows it kept for them, and
 * a new index file replaces the old ones, which held their vectors.
 */
export async function eraseNamespace(
  ctx: MemoryContext,
  namespace: string,
): Promise<NamespaceErasure> {
  const { fragments, indexes } = ctx;
  const records = [...fragments.byId.values()].filter((f) => f.namespace === namespace);
  const merged = records.flatMap((f) => f.mergedFrom);
  const erased = await ctx.store.eraseNamespace(namespace, merged);
  for (const f of records) fragments.forget(f);
  const labels = Uint32Array.from(records, (f) => f.label);
  if (labels.length > 0) {
    indexes.lexical.remove(labels);
    indexes.vectors?.remove(labels);
  }
  await unlinkDeleted(ctx, new Set(erased.ids), ctx.now());
  // Removed rows stay in the vector index (and its file) until it is compacted.
  if (indexes.vectors) {
    indexes.vectors.compact();
    indexes.savedToFile = false;
  }
  await checkpointNow(ctx, { whenBusy: 'wait' });
  return erased;
}
