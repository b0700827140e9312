/** The vector and lexical indexes of a memory, and when the vector index gets a graph. */
import {
  type Bm25Params,
  type CarmaEngine,
  DEFAULT_BM25,
  DEFAULT_HNSW,
  type HnswParams,
  type LexicalIndex,
  type VectorIndex,
} from './engine/index.js';
import { HNSW_AUTO_THRESHOLD } from './memory-types.js';

export class SearchIndexes {
  readonly lexical: LexicalIndex;
  /**
   * Undefined while the dimension is unknown (a remote embedder before its first answer):
   * `vectorsFor` creates it with the first vectors.
   */
  vectors: VectorIndex | undefined;
  dimension: number | undefined;
  /** Whether `vectors` is what the index file named in the store holds (no change since). */
  savedToFile = false;

  /** `graph`: `auto` (build at HNSW_AUTO_THRESHOLD), null (never) or the parameters. */
  constructor(
    private readonly engine: CarmaEngine,
    private readonly graph: HnswParams | null | 'auto',
    bm25: Bm25Params = DEFAULT_BM25,
  ) {
    this.lexical = engine.createLexicalIndex(bm25);
  }

  /**
   * The vector index, created (exact search, no graph yet) for vectors of `dimension`
   * when there is none: the first vectors of a memory fix its dimension.
   */
  vectorsFor(dimension: number): VectorIndex {
    if (this.vectors === undefined) {
      this.dimension = dimension;
      this.vectors = this.engine.createVectorIndex(dimension, 'cosine', null);
    }
    return this.vectors;
  }

  /** Builds the HNSW graph once the policy asks for one; exact search until then. */
  maybeBuildGraph(): void {
    const vectors = this.vectors;
    if (this.graph === null || vectors === undefined || vectors.hnsw) return;
    if (this.graph === 'auto') {
      if (vectors.size < HNSW_AUTO_THRESHOLD) return;
      vectors.setHnsw({ ...DEFAULT_HNSW });
    } else {
      vectors.setHnsw(this.graph);
    }
    this.savedToFile = false;
  }
}
