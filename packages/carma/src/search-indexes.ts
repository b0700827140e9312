/** The vector and lexical indexes of a memory, and when the vector index gets a graph. */
import {
  type AddOptions,
  type Bm25Params,
  type CarmaEngine,
  DEFAULT_BM25,
  DEFAULT_HNSW,
  type Hits,
  type HnswParams,
  type LexicalIndex,
  type VectorIndex,
  type VectorSearchOptions,
} from './engine/index.js';
import { HNSW_AUTO_THRESHOLD } from './memory-types.js';
import { BESIDE_MAX, rowsOf, searchBeside } from './rows-beside.js';

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
   * `fixDimension` or `addVectors` creates it with the first vectors, which `addVectors`
   * adds (beside it or to it).
   */
  private base: VectorIndex | undefined;
  /** Rows kept beside `base` (rows-beside.ts), if any. */
  private beside: VectorIndex | undefined;
  /**
   * While `base` is the index read from its file and no row was added to it since: the
   * highest label it can hold (it only loses rows meanwhile). New rows then go beside it.
   */
  private fileLabelsUpTo: number | undefined;
  dimension: number | undefined;
  /** Whether `vectors` is what the index file named in the store holds (no change since). */
  savedToFile = false;
  /**
   * Whether the indexes are those of the files named in the store plus the changes made
   * since (no compaction, graph or repair of their own): then the files and the store's
   * history give the next open the same indexes, and a close may leave a few changes for
   * it to replay (`checkpointNow`).
   */
  fromCheckpoint = false;

  /** `graph`: `auto` (build at HNSW_AUTO_THRESHOLD), null (never) or the parameters. */
  constructor(
    private readonly engine: CarmaEngine,
    private readonly graph: HnswParams | null | 'auto',
    bm25: Bm25Params = DEFAULT_BM25,
  ) {
    this.lexical = engine.createLexicalIndex(bm25);
  }

  /**
   * The vector index, with every row: rows kept beside it are added to it first (on the
   * JS thread: what can wait calls `settle` before), so that what reads or changes it
   * sees them all.
   */
  get vectors(): VectorIndex | undefined {
    const { base, beside } = this;
    this.fileLabelsUpTo = undefined;
    if (base && beside) {
      this.beside = undefined;
      const labels = beside.labels();
      base.add(labels, rowsOf(beside, labels));
    }
    return base;
  }

  set vectors(index: VectorIndex | undefined) {
    this.base = index;
    this.beside = undefined;
    this.fileLabelsUpTo = undefined;
  }

  /**
   * `index`, read from its file (its labels at most `labelsUpTo`), with `replayed` (the
   * few rows changed since, whose labels `index` no longer holds) beside it: searches
   * read both, and the next few rows added go beside it too (`addVectors`).
   */
  fromFile(index: VectorIndex, labelsUpTo: number, replayed: VectorIndex): void {
    this.base = index;
    this.beside = replayed.size > 0 ? replayed : undefined;
    this.fileLabelsUpTo = labelsUpTo;
  }

  /** Whether `rows` new rows would be kept beside the index (see `addVectors`). */
  keepsBeside(rows: number): boolean {
    return this.fileLabelsUpTo !== undefined && (this.beside?.size ?? 0) + rows <= BESIDE_MAX;
  }

  /**
   * Adds or replaces rows (the index is created for the first ones): beside an
   * index read from its file while they are few, then resolving null (no graph walk
   * found their nearest), else to the index, after the rows beside it
   * (`VectorIndex.addAsync`, `options` included).
   */
  async addVectors(
    dimension: number,
    labels: Uint32Array,
    vectors: Float32Array,
    options: AddOptions = {},
  ): Promise<Hits | null> {
    const base = this.vectorsFor(dimension);
    const upTo = this.fileLabelsUpTo;
    if (upTo !== undefined && this.keepsBeside(labels.length)) {
      // A label the file's index may hold (an update keeps its label) leaves it, so that
      // a search finds the row once, with its new vector.
      const older = labels.filter((label) => label <= upTo);
      if (older.length > 0) base.remove(older);
      this.beside ??= this.engine.createVectorIndex(base.dimension, 'cosine', null);
      this.beside.add(labels, vectors);
      return null;
    }
    // Started before this returns when there is nothing to settle: an add beside a
    // database write (add.ts) runs while the write does.
    if (this.beside) await this.settle();
    else this.fileLabelsUpTo = undefined;
    return base.addAsync(labels, vectors, options);
  }

  /**
   * Removes rows wherever they are, without moving rows kept beside the index into it: a
   * delete needs no copy of an index read from its file (natively, its rows stay mapped).
   */
  removeVectors(labels: Uint32Array): void {
    this.beside?.remove(labels);
    this.base?.remove(labels);
  }

  /** The stored row of `label` (beside the index or in it), without moving rows. */
  vectorOf(label: number): Float32Array | null {
    return this.beside?.get(label) ?? this.base?.get(label) ?? null;
  }

  /**
   * Adds the rows kept beside the index to it (off the JS thread natively); rows added
   * after go to it.
   */
  async settle(): Promise<void> {
    this.fileLabelsUpTo = undefined;
    const { base, beside } = this;
    if (!base || !beside) return;
    const labels = beside.labels();
    // Searches meanwhile may find a row in both: `mergeHits` keeps it once.
    await base.addAsync(labels, rowsOf(beside, labels));
    if (this.base === base && this.beside === beside) this.beside = undefined;
  }

  /** Whether there is a vector index (without adding the rows beside it to it). */
  get hasVectors(): boolean {
    return this.base !== undefined;
  }

  /** The vector index's graph parameters (null: exact search), as `stats()` shows them. */
  get hnsw(): HnswParams | null {
    return this.base?.hnsw ?? null;
  }

  /** Slots of the vector index held by deleted or replaced rows. */
  get deadRows(): number {
    return this.base ? this.base.slots - this.base.size : 0;
  }

  /** Rows in the vector index and beside it. */
  get vectorCount(): number {
    return (this.base?.size ?? 0) + (this.beside?.size ?? 0);
  }

  /**
   * A search (one or more query rows) of the vector index and the rows beside it, which
   * it leaves apart.
   */
  searchVectors(queries: Float32Array, k: number, options: VectorSearchOptions): Promise<Hits> {
    const { base, beside } = this;
    if (!base) throw new Error('searchVectors: no vector index');
    return beside
      ? searchBeside(base, beside, queries, k, options)
      : base.searchAsync(queries, k, options);
  }

  /**
   * Creates the vector index (exact search, no graph yet) for vectors of `dimension` when
   * there is none: the first vectors of a memory fix its dimension. Returns nothing: rows
   * go in through `addVectors`, which decides where.
   */
  fixDimension(dimension: number): void {
    this.vectorsFor(dimension);
  }

  private vectorsFor(dimension: number): VectorIndex {
    if (this.base === undefined) {
      this.dimension = dimension;
      this.base = this.engine.createVectorIndex(dimension, 'cosine', null);
    }
    return this.base;
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
    const vectors = this.base;
    if (vectors === undefined || this.compaction !== undefined || this.closing) return;
    const dead = vectors.slots - vectors.size;
    const [share, least] = idle ? [COMPACT_IDLE_SHARE, 1] : [COMPACT_DEAD_SHARE, COMPACT_MIN_DEAD];
    if (dead < least || dead < vectors.slots * share) return;
    this.startCompaction(vectors, undefined);
  }

  /**
   * Gives the vector index its HNSW graph once the policy asks for one; exact search
   * until then. An index of more than GRAPH_AT_ONCE_ROWS gets it from a background
   * compaction (natively off the JS thread, in js a millisecond at a time between other
   * work), so that reaching the threshold, or opening a memory whose file had no graph,
   * never holds searches for the seconds a graph over every row takes (14.5 s in js at
   * 10,000 rows). Adds wait for it in js: see `graphBuilt`.
   */
  maybeBuildGraph(): void {
    const vectors = this.base;
    if (this.graph === null || vectors === undefined || vectors.hnsw) return;
    if (this.graph === 'auto' && this.vectorCount < HNSW_AUTO_THRESHOLD) return;
    const params = this.graph === 'auto' ? { ...DEFAULT_HNSW } : this.graph;
    if (vectors.slots <= GRAPH_AT_ONCE_ROWS) {
      vectors.setHnsw(params);
      this.savedToFile = false;
      this.fromCheckpoint = false;
      this.fileLabelsUpTo = undefined;
    } else if (this.compaction === undefined && !this.closing) {
      this.startCompaction(vectors, params);
    } // else: a compaction is under way; the graph is built once it ends (startCompaction)
  }

  /**
   * In js, waits for a first graph being built in the background. An add checks each new
   * fragment for near-duplicates, by exact search while there is no graph: on the one
   * thread those searches took longer than waiting for the graph (20k fragments added in
   * batches of 5,000: 255/s without waiting, 418/s with the graph built at once). Natively
   * they run on the pool, beside the build.
   */
  async graphBuilt(): Promise<void> {
    const compaction = this.compaction;
    if (this.engine.implementation === 'js' && compaction?.graph) await compaction.done;
  }

  /**
   * Waits until the vector index has the graph the policy asks for, while one is being
   * built (or waits on a compaction to be built after it). Both implementations.
   */
  async graphReady(): Promise<void> {
    for (let c = this.compaction; c !== undefined && this.wantsGraph(); c = this.compaction) {
      // A failed build leaves the index as it was (and is told elsewhere): written so.
      await c.done.catch(() => undefined);
    }
  }

  private wantsGraph(): boolean {
    const vectors = this.base;
    if (this.graph === null || vectors === undefined || vectors.hnsw) return false;
    return this.graph !== 'auto' || this.vectorCount >= HNSW_AUTO_THRESHOLD;
  }

  private startCompaction(vectors: VectorIndex, hnsw: HnswParams | undefined): void {
    const stop = new AbortController();
    const done = vectors.compactAsync({ signal: stop.signal, ...(hnsw ? { hnsw } : {}) }).then(
      (swapped) => {
        if (swapped && this.base === vectors) {
          this.savedToFile = false;
          this.fromCheckpoint = false;
          // The new index is the process's own: rows are added to it, not beside.
          this.fileLabelsUpTo = undefined;
        }
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
