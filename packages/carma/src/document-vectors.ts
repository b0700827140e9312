/**
 * Vectors for texts about to be stored, asking the embedder only for what the memory does
 * not know: a text a fragment already holds (in any namespace) reuses that fragment's
 * vector, and a text given twice is embedded once. With a remote model this is the slow
 * part of an add, so `Memory.addMany` does it before its turn among the mutations: a
 * batch is embedded while the one before it is being stored.
 */
import type { MemoryContext } from './context.js';
import { embedChecked } from './embedding.js';
import type { ParsedInput } from './validation.js';

/** Vectors by content hash, for the texts of a batch that are not stored in their namespace. */
export type DocumentVectors = Map<string, Float32Array>;

/** A stored fragment's vector for this text, from the vector index; undefined if none. */
export function knownVector(ctx: MemoryContext, contentHash: string): Float32Array | undefined {
  const vectors = ctx.indexes.vectors;
  if (!vectors) return undefined;
  for (const id of ctx.fragments.withHash(contentHash)) {
    const f = ctx.fragments.byId.get(id);
    const v = f && vectors.get(f.label);
    if (v) return v;
  }
  return undefined;
}

/**
 * The vectors of `items` by content hash: reused when known, embedded (as documents, in
 * one call) otherwise. `have` holds vectors computed earlier and is added to.
 */
export async function documentVectors(
  ctx: MemoryContext,
  items: ReadonlyArray<{ text: string; contentHash: string }>,
  have: DocumentVectors = new Map(),
): Promise<DocumentVectors> {
  const todo = new Map<string, string>();
  for (const { text, contentHash } of items) {
    if (have.has(contentHash) || todo.has(contentHash)) continue;
    const known = knownVector(ctx, contentHash);
    if (known) have.set(contentHash, known);
    else todo.set(contentHash, text);
  }
  if (todo.size === 0) return have;
  const matrix = await embedChecked(ctx, [...todo.values()]);
  const dim = matrix.length / todo.size;
  let i = 0;
  for (const hash of todo.keys()) {
    have.set(hash, matrix.slice(i * dim, (i + 1) * dim));
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
  await ctx.fragments.prepareLookups();
  const items: Array<{ text: string; contentHash: string }> = [];
  for (const p of parsed) {
    const contentHash = ctx.hashing.hashSync(p.text);
    if (!ctx.fragments.idWithContent(p.namespace, contentHash))
      items.push({ text: p.text, contentHash });
  }
  return documentVectors(ctx, items);
}
