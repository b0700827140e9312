/**
 * Vectors for texts about to be stored, asking the embedder only for what the memory does
 * not know: a text a fragment already holds (in any namespace) reuses that fragment's
 * vector, and a text given twice is embedded once. With a remote model this is the slow
 * part of an add, so `Memory.addMany` does it before its turn among the mutations: a
 * batch is embedded while the one before it is being stored.
 */
import type { MemoryContext } from './context.js';
import { embedChecked } from './embedding.js';
import type { ContentHolders } from './fragment-state.js';
import type { ParsedInput } from './validation.js';

/** Vectors by content hash, for the texts of a batch that are not stored in their namespace. */
export type DocumentVectors = Map<string, Float32Array>;

/**
 * The vectors of `items` by content hash: reused from the vector index when `holders`
 * names a fragment holding the text, embedded (as documents, in one call) otherwise.
 * `have` holds vectors computed earlier and is added to.
 */
export async function documentVectors(
  ctx: MemoryContext,
  items: ReadonlyArray<{ text: string; contentHash: string }>,
  holders: ContentHolders,
  have: DocumentVectors = new Map(),
): Promise<DocumentVectors> {
  const todo = new Map<string, string>();
  for (const { text, contentHash } of items) {
    if (have.has(contentHash) || todo.has(contentHash)) continue;
    const holder = holders.any(contentHash);
    const known = holder && ctx.indexes.vectorOf(holder.label);
    if (known) have.set(contentHash, known);
    else todo.set(contentHash, text);
  }
  if (todo.size === 0) return have;
  const matrix = await embedChecked(ctx, [...todo.values()]);
  const dim = matrix.length / todo.size;
  let i = 0;
  // Views of the one matrix: a copy per row cost 10 µs each (an allocation outside the
  // heap), about 50 ms of the JS thread for a batch of 5,000.
  for (const hash of todo.keys()) {
    have.set(hash, matrix.subarray(i * dim, (i + 1) * dim));
    i++;
  }
  return have;
}

/**
 * What can be embedded before a batch's turn: its texts not already stored in their
 * namespace (those are duplicates and need no vector).
 */
export async function embedAhead(
  ctx: MemoryContext,
  parsed: ParsedInput[],
): Promise<DocumentVectors> {
  const hashes = parsed.map((p) => ctx.hashing.hashSync(p.text));
  const holders = await ctx.fragments.contentHolders(ctx.store, hashes);
  const items: Array<{ text: string; contentHash: string }> = [];
  parsed.forEach((p, i) => {
    const contentHash = hashes[i] as string;
    if (!holders.inNamespace(p.namespace, contentHash)) items.push({ text: p.text, contentHash });
  });
  return documentVectors(ctx, items, holders);
}
