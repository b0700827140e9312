/**
 * Query vectors of a remote embedder, kept for the most recent queries: a question asked
 * again (a retry, a follow-up that repeats it, the same search from another door) costs
 * no request to the model. Bound to the embedder they came from.
 */
import type { MemoryContext } from './context.js';
import { embedChecked } from './embedding.js';

/** Queries whose vectors are kept. */
const KEPT = 256;

export class QueryVectors {
  private readonly vectors = new Map<string, Float32Array>();

  constructor(private readonly limit = KEPT) {}

  async get(ctx: MemoryContext, query: string): Promise<Float32Array> {
    const kept = this.vectors.get(query);
    if (kept && kept.length === ctx.indexes.dimension) {
      // Most recently used last: the first key is the one to evict.
      this.vectors.delete(query);
      this.vectors.set(query, kept);
      return kept;
    }
    const vector = await embedChecked(ctx, [query], 'query');
    this.vectors.set(query, vector);
    if (this.vectors.size > this.limit) {
      this.vectors.delete(this.vectors.keys().next().value as string);
    }
    return vector;
  }

  /** Forgets every vector (the embedder changed). */
  clear(): void {
    this.vectors.clear();
  }

  get size(): number {
    return this.vectors.size;
  }
}
