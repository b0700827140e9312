/**
 * Changes to existing fragments: update, delete, reinforce, and clearing links to
 * deleted fragments. Each runs while no other mutation runs, and stores the change with
 * its history entry before the in-memory state and indexes follow.
 */
import { AiosError } from '@aios/utils';
import type { MemoryContext } from './context.js';
import { documentVectors } from './document-vectors.js';
import { CarmaErrorCode } from './errors.js';
import type { FragmentRecord } from './fragment-store.js';
import type { Fragment } from './memory-types.js';
import { historyEntry, publicFragment } from './records.js';
import { parseReinforce, parseUpdatePatch, type UpdatePatch } from './validation.js';
import { checkpointIfDue } from './vector-index-file.js';

/** Replaces the fragment's record with a new version; a new text is embedded again. */
export async function updateFragment(
  ctx: MemoryContext,
  id: string,
  patch: UpdatePatch,
): Promise<Fragment> {
  const { fragments, indexes } = ctx;
  const f = await fragments.recordToChange(ctx.store, id);
  const { text, metadata, importance } = parseUpdatePatch(patch, f.importance);
  // Without a new text the stored vector stays as it is.
  let vector: Float32Array | undefined;
  let contentHash = f.contentHash;
  if (text !== undefined && text !== f.text) {
    contentHash = ctx.hashing.hashSync(text);
    const holders = await fragments.contentHolders(ctx.store, [contentHash]);
    const other = holders.inNamespace(f.namespace, contentHash)?.id;
    if (other && other !== f.id) {
      throw new AiosError(
        CarmaErrorCode.DUPLICATE_CONTENT,
        `fragment ${other} already holds this text in ${f.namespace}`,
        {
          details: { id: other },
        },
      );
    }
    // A text another fragment holds reuses its vector; otherwise it is embedded.
    const vectors = await documentVectors(ctx, [{ text, contentHash }], holders);
    vector = (vectors.get(contentHash) as Float32Array).slice();
  }
  const at = ctx.now();
  const next: FragmentRecord = {
    ...f,
    text: text ?? f.text,
    contentHash,
    metadata: metadata ?? f.metadata,
    importance,
    core: patch.core === undefined ? f.core : Boolean(patch.core),
    version: f.version + 1,
    updatedAt: at,
  };
  await ctx.store.put([
    { fragment: next, ...(vector ? { vector } : {}), change: historyEntry(next, 'update', at) },
  ]);
  fragments.forget(f);
  fragments.remember(next);
  if (vector) {
    // Same label: adding replaces the old vector and text in the indexes.
    await indexes.addVectors(vector.length, Uint32Array.of(next.label), vector);
    // The old text's postings found through its terms, then the new text's added.
    indexes.lexical.remove(Uint32Array.of(f.label), [f.text]);
    indexes.lexical.add(Uint32Array.of(next.label), [next.text]);
  }
  await checkpointIfDue(ctx);
  return publicFragment(next);
}

/** Deletes a fragment; its history stays readable and links to it are cleared. */
export async function deleteFragment(ctx: MemoryContext, id: string): Promise<void> {
  const { fragments, indexes } = ctx;
  const f = await fragments.recordToChange(ctx.store, id);
  const at = ctx.now();
  await ctx.store.delete([
    { id: f.id, change: { ...historyEntry(f, 'delete', at), version: f.version + 1 } },
  ]);
  fragments.forget(f);
  indexes.removeVectors(Uint32Array.of(f.label));
  indexes.lexical.remove(Uint32Array.of(f.label), [f.text]);
  await unlinkDeleted(ctx, new Set([f.id]), at);
  await checkpointIfDue(ctx);
}

/** Removes deleted fragments from the links of the others, each with a history entry. */
export async function unlinkDeleted(
  ctx: MemoryContext,
  gone: ReadonlySet<string>,
  at: number,
): Promise<void> {
  // Opened from a checkpoint, the store finds them (reading every record would cost
  // seconds on a large memory); else the records at hand.
  const onDemand = ctx.fragments.onDemand;
  const linking = onDemand
    ? (await ctx.store.linkingTo([...gone])).filter((f) => onDemand.holds(f.id))
    : ctx.fragments.linkingFragments().filter((f) => f.links.some((id) => gone.has(id)));
  if (linking.length === 0) return;
  const next = linking.map((f) => {
    const removed = f.links.filter((id) => gone.has(id));
    const record: FragmentRecord = {
      ...f,
      links: f.links.filter((id) => !gone.has(id)),
      version: f.version + 1,
    };
    return { record, note: `unlinked ${removed.join(', ')} (deleted)` };
  });
  // Stored first: the records in memory change only once the write succeeded.
  await ctx.store.put(
    next.map(({ record, note }) => ({
      fragment: record,
      change: historyEntry(record, 'link', at, note),
    })),
  );
  linking.forEach((f, i) => {
    const { record } = next[i] as { record: FragmentRecord };
    if (onDemand) {
      // Read from the store: the records at hand (if any) are replaced.
      ctx.fragments.forget(f);
      ctx.fragments.remember(record);
      return;
    }
    f.links = record.links;
    f.version = record.version;
  });
  ctx.fragments.changes++;
}

/** Raises (or lowers) importance by `amount`, capped to 0..1, and records the reinforcement. */
export async function reinforceFragments(
  ctx: MemoryContext,
  ids: string | string[],
  amount: number,
): Promise<Fragment[]> {
  const list = parseReinforce(ids, amount);
  // An id given twice is reinforced twice, on one record.
  const byId = new Map<unknown, FragmentRecord>();
  const records: FragmentRecord[] = [];
  for (const id of list) {
    const f = byId.get(id) ?? (await ctx.fragments.recordToChange(ctx.store, id));
    byId.set(id, f);
    records.push(f);
  }
  const at = ctx.now();
  ctx.fragments.changes++;
  const items = records.map((f) => {
    f.importance = Math.min(1, Math.max(0, f.importance + amount));
    f.reinforcements++;
    f.accessedAt = at;
    f.version++;
    return { fragment: f, change: historyEntry(f, 'reinforce', at) };
  });
  await ctx.store.put(items);
  // Held already once every record is read; opened from a checkpoint, the label map's
  // overlay takes them (the importance a search scores with).
  if (ctx.fragments.onDemand) for (const f of byId.values()) ctx.fragments.remember(f);
  await checkpointIfDue(ctx);
  return records.map(publicFragment);
}
