/** The vector and lexical indexes of a memory, and when the vector index gets a graph. */
import {
  DEFAULT_HNSW,
  type HnswParams,
  type LexicalIndex,
  type VectorIndex,
} from './engine/index.js';
import { HNSW_AUTO_THRESHOLD } from './memory-types.js';

export class SearchIndexes {
  /** Unset while the dimension is unknown (a remote embedder before its first answer). */
  vectors!: VectorIndex;
  lexical!: LexicalIndex;
  dimension: number | undefined;
  /** Whether `vectors` is what the index file named in the store holds (no change since). */
  savedToFile = false;

  /** `graph`: `auto` (build at HNSW_AUTO_THRESHOLD), null (never) or the parameters. */
  constructor(private readonly graph: HnswParams | null | 'auto') {}

  /** Builds the HNSW graph once the policy asks for one; exact search until then. */
  maybeBuildGraph(): void {
    if (this.graph === null || this.vectors.hnsw) return;
    if (this.graph === 'auto') {
      if (this.vectors.size < HNSW_AUTO_THRESHOLD) return;
      this.vectors.setHnsw({ ...DEFAULT_HNSW });
    } else {
      this.vectors.setHnsw(this.graph);
    }
    this.savedToFile = false;
  }
}
