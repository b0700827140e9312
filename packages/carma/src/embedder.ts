import type { EmbeddingRoles, EmbedRole } from './embedding-roles.js';
import type { CarmaEngine } from './engine/index.js';

/**
 * Turns texts into vectors. Its `id`, dimension and `roles` are recorded with the index.
 */
export interface Embedder {
  /** Stable identity, e.g. `carma-hash-v1` or `openai:<baseUrl>#<model>`. */
  readonly id: string;
  /** The dimension, or undefined until known (a remote model's first response). */
  readonly dimension: number | undefined;
  /**
   * How queries and documents are embedded when they differ (prefixes, `input_type`);
   * undefined when they are embedded alike.
   */
  readonly roles?: EmbeddingRoles | undefined;
  /**
   * A `texts.length x dimension` row-major matrix. `role` (default `document`) says what
   * the texts are: CARMA embeds fragments as documents and search text as a query.
   * The matrix is the caller's from then on (CARMA keeps views of its rows): an embedder
   * returns a new one each call, never a buffer it reuses.
   */
  embed(texts: string[], role?: EmbedRole): Promise<Float32Array>;
}

export const HASHING_EMBEDDER_ID = 'carma-hash-v1';
export const DEFAULT_DIMENSION = 384;

/** Batches at least this large are embedded off the JS thread by the native engine. */
const OFF_THREAD_TEXTS = 64;

/**
 * The built-in offline embedder (feature hashing of words, word bigrams and character
 * n-grams; see crates/carma/src/embed.rs). Deterministic, no model, no download.
 */
export class HashingEmbedder implements Embedder {
  readonly id = HASHING_EMBEDDER_ID;
  constructor(
    private readonly engine: CarmaEngine,
    readonly dimension: number = DEFAULT_DIMENSION,
  ) {
    engine.embed([], dimension); // validates the dimension
  }

  /** Queries and documents alike: the memory weights query tokens by IDF instead. */
  async embed(texts: string[], _role?: EmbedRole): Promise<Float32Array> {
    return texts.length >= OFF_THREAD_TEXTS
      ? this.engine.embedAsync(texts, this.dimension)
      : this.engine.embed(texts, this.dimension);
  }

  /** A query vector whose tokens are weighted (e.g. by their IDF in the memory). */
  embedWeighted(text: string, tokenWeights: Float64Array): Float32Array {
    return this.engine.embedWeighted(text, this.dimension, tokenWeights);
  }
}
