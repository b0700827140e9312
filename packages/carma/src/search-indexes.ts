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
/**
 * The most rows a native index gets its first graph over in one call (about 10 ms);
 * above, a background compaction builds it.
 */
export const GRAPH_AT_ONCE_ROWS = 1000;

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
  private compaction: { done: Promise<void>; stop: AbortController; graph: boolean } | undefined;
  /** Set once the memory closes: no background work starts after. */
  private closing = false;

  /**
   * Told when a background compaction or graph build fails (the index stays as it was)
   * and when one ends without failing (rows deleted meanwhile may call for another).
   */
  background: { failed(error: unknown): void; settled(): void } = {
    failed: () => undefined,
    settled: () => undefined,
  };

  /**
   * Starts compacting the vector index in the background once deleted and replaced rows
   * reach COMPACT_DEAD_SHARE of its slots and COMPACT_MIN_DEAD rows, or, once writes
   * pause (`idle`), COMPACT_IDLE_SHARE: searches and writes go on meanwhile, and the
   * next checkpoint writes the smaller file.
   */
  maybeCompact(idle = false): void {
    const vectors = this.vectors;
    if (vectors === undefined || this.compaction !== undefined || this.closing) return;
    const dead = vectors.slots - vectors.size;
    const [share, least] = idle ? [COMPACT_IDLE_SHARE, 1] : [COMPACT_DEAD_SHARE, COMPACT_MIN_DEAD];
    if (dead < least || dead < vectors.slots * share) return;
    this.startCompaction(vectors, undefined);
  }

  /**
   * Gives the vector index its HNSW graph once the policy asks for one; exact search
   * until then. Natively, an index of more than GRAPH_AT_ONCE_ROWS gets it from a
   * background compaction that builds it off the JS thread, so that reaching the
   * threshold, or opening a memory whose file had no graph, never holds searches and
   * writes for the seconds a graph over every row takes. In js it is built at once: the
   * exact searches meanwhile (an add checks each new fragment for near-duplicates) would
   * hold the one thread longer than the build (20k fragments added in batches of 5,000:
   * 418/s at once, 255/s in the background).
   */
  maybeBuildGraph(): void {
    const vectors = this.vectors;
    if (this.graph === null || vectors === undefined || vectors.hnsw) return;
    if (this.graph === 'auto' && vectors.size < HNSW_AUTO_THRESHOLD) return;
    const params = this.graph === 'auto' ? { ...DEFAULT_HNSW } : this.graph;
    if (vectors.slots <= GRAPH_AT_ONCE_ROWS || this.engine.implementation !== 'native') {
      vectors.setHnsw(params);
      this.savedToFile = false;
    } else if (this.compaction === undefined && !this.closing) {
      this.startCompaction(vectors, params);
    } // else: a compaction is under way; the graph is built once it ends (startCompaction)
  }

  private startCompaction(vectors: VectorIndex, hnsw: HnswParams | undefined): void {
    const stop = new AbortController();
    const done = vectors.compactAsync({ signal: stop.signal, ...(hnsw ? { hnsw } : {}) }).then(
      (swapped) => {
        if (swapped && this.vectors === vectors) this.savedToFile = false;
        this.compaction = undefined;
        this.maybeBuildGraph();
        this.background.settled();
      },
      (error: unknown) => {
        this.compaction = undefined;
        this.background.failed(error);
      },
    );
    this.compaction = { done, stop, graph: hnsw !== undefined };
  }

  /**
   * Stops background work for good and waits for it: a compaction is stopped (the index
   * stays as it was, the next writer compacts), a graph being built is waited for when
   * `keepGraph` (a checkpoint is about to save it; else the next open builds it again).
   */
  async stopBackground(options: { keepGraph?: boolean } = {}): Promise<void> {
    this.closing = true;
    const compaction = this.compaction;
    if (compaction === undefined) return;
    if (!(options.keepGraph && compaction.graph)) compaction.stop.abort();
    await compaction.done;
  }
}
