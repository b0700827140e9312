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

/**
 * The share of the vector index's slots held by deleted or replaced rows at which it is
 * compacted, and the fewest such rows worth it: below either, the tombstones cost less
 * than rebuilding the graph (a graph search steps over them; a scan skips them).
 */
export const COMPACT_DEAD_SHARE = 0.1;
export const COMPACT_MIN_DEAD = 1024;
/**
 * Once writes pause (no write for COMPACT_IDLE_MS), the share at which it is compacted,
 * however few the rows: a memory at rest holds at most this much dead space.
 */
export const COMPACT_IDLE_SHARE = 0.03;
export const COMPACT_IDLE_MS = 2000;

export class SearchIndexes {
  /** Replaced once, by the one read from its file, while the memory opens. */
  lexical: LexicalIndex;
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

  /** The background compaction under way, if any (see `maybeCompact`). */
  private compaction: { done: Promise<void>; stop: AbortController } | undefined;

  /**
   * Starts compacting the vector index in the background once deleted and replaced rows
   * reach COMPACT_DEAD_SHARE of its slots and COMPACT_MIN_DEAD rows, or, once writes
   * pause (`idle`), COMPACT_IDLE_SHARE: searches and writes go on meanwhile, and the
   * next checkpoint writes the smaller file. `settled` runs once it ended without failing:
   * rows deleted meanwhile are dead in the new index too, and may call for another one.
   */
  maybeCompact(failed: (error: unknown) => void, settled: () => void, idle = false): void {
    const vectors = this.vectors;
    if (vectors === undefined || this.compaction !== undefined) return;
    const dead = vectors.slots - vectors.size;
    const [share, least] = idle ? [COMPACT_IDLE_SHARE, 1] : [COMPACT_DEAD_SHARE, COMPACT_MIN_DEAD];
    if (dead < least || dead < vectors.slots * share) return;
    const stop = new AbortController();
    const done = vectors.compactAsync({ signal: stop.signal }).then(
      (swapped) => {
        if (swapped && this.vectors === vectors) this.savedToFile = false;
        this.compaction = undefined;
        settled();
      },
      (error: unknown) => {
        this.compaction = undefined;
        failed(error);
      },
    );
    this.compaction = { done, stop };
  }

  /** Stops a background compaction (the index stays as it was) and waits for it. */
  async stopCompaction(): Promise<void> {
    const compaction = this.compaction;
    if (compaction === undefined) return;
    compaction.stop.abort();
    await compaction.done;
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
