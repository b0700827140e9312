import type { ImplementationReport } from '@aios/utils';

export type Metric = 'cosine' | 'dot';

/** HNSW graph parameters. */
export interface HnswParams {
  /** Links per node on the upper layers (twice this on layer 0). Default 16. */
  m: number;
  /** Candidate list size while building. Default 100. */
  efConstruction: number;
  /** Seed of the level draw. Default 42. */
  seed: number;
}

export const DEFAULT_HNSW: HnswParams = { m: 16, efConstruction: 100, seed: 42 };

/** Label used to pad batch results when fewer than k rows qualify. */
export const NO_LABEL = 0xffffffff;
/** Largest k any search accepts. */
export const MAX_K = 10_000;
/** Largest vector dimension. */
export const MAX_DIMENSION = 65_536;
/** Largest HNSW search breadth (`ef`). */
export const MAX_EF = 100_000;

/** Ranked hits: `labels[i]` scored `scores[i]`, best first. */
export interface AddOptions {
  /** Nearest earlier rows to report per added row (1 to MAX_K). */
  nearest?: number;
}

export interface Hits {
  labels: Uint32Array;
  scores: Float32Array;
}

export interface VectorSearchOptions {
  /** Only these labels may be returned. */
  filter?: Uint32Array;
  /** Scan every row even when a graph exists. */
  exact?: boolean;
  /** HNSW search breadth (raised to k), an integer from 1 to `MAX_EF`. Default 64. */
  ef?: number;
}

/**
 * A vector index over `u32` labels: rows in one contiguous Float32 matrix, exact top-k,
 * an optional HNSW graph, deletes, and a file format both implementations read and write.
 */
export interface VectorIndex {
  readonly dimension: number;
  readonly metric: Metric;
  /** Live rows. */
  readonly size: number;
  /** Rows stored including deleted ones not yet compacted. */
  readonly slots: number;
  readonly hnsw: HnswParams | null;
  /** Adds or replaces rows; `vectors` is `labels.length x dimension`, row-major. */
  add(labels: Uint32Array, vectors: Float32Array): void;
  /**
   * `add` off the JS thread where the implementation can. With `nearest` and a graph,
   * resolves with that many nearest rows held before the batch for each added row (live,
   * best first, exact scores, padded as `search` pads): the nodes the walk that linked
   * the row ended on, which a graph search for it would also find, without walking the
   * graph a second time. Else (no graph, or the graph was rebuilt meanwhile) null.
   */
  addAsync(labels: Uint32Array, vectors: Float32Array, options?: AddOptions): Promise<Hits | null>;
  remove(labels: Uint32Array): number;
  has(label: number): boolean;
  /** The stored row (unit length under cosine), or null. */
  get(label: number): Float32Array | null;
  labels(): Uint32Array;
  /**
   * Top-k for each query row of `queries` (a multiple of `dimension` floats): `k` entries
   * per query, best first, padded with `NO_LABEL` / `-Infinity`.
   */
  search(queries: Float32Array, k: number, options?: VectorSearchOptions): Hits;
  /**
   * `search` off the JS thread where the implementation can (natively: the libuv pool),
   * so a server answers other requests meanwhile. `queries` and the filter must not
   * change until it settles.
   */
  searchAsync(queries: Float32Array, k: number, options?: VectorSearchOptions): Promise<Hits>;
  /** Builds the graph over every row, or drops it with null. */
  setHnsw(params: HnswParams | null): void;
  /** Drops deleted rows (rebuilding the graph, if any). */
  compact(): void;
  /**
   * `compact` beside searches and writes, which see the old rows until the swap at the
   * end and wait only for it: natively on the libuv pool, in js in slices of about a
   * millisecond between which the event loop runs. Writes made meanwhile are kept.
   * Resolves false, changing nothing, when `signal` aborts it or `compact`/`setHnsw` ran
   * meanwhile. With `hnsw`, the new index has a graph of those parameters: how an index
   * gets its first graph without blocking (`setHnsw` builds it in one call); exact
   * search answers until the swap.
   */
  compactAsync(options?: { signal?: AbortSignal; hnsw?: HnswParams }): Promise<boolean>;
  /**
   * Writes rows and graph to `path` atomically, with a checksum: through `<path>.tmp-<pid>`,
   * removed again when writing fails.
   */
  save(path: string): Promise<void>;
}

/**
 * The version of the lexical terms (`lexicalTokens`): 3 keeps combining marks in their
 * runs and splits the runs of every script written without spaces into overlapping pairs;
 * 2 cut runs at marks that are not `Alphabetic` and paired CJK only; 1 kept CJK runs whole
 * (an index read from a file written before).
 */
export const LEXICAL_TOKENIZER = 3;

/** A BM25 inverted index over `u32` labels. */
export interface LexicalIndex {
  readonly size: number;
  /** The `LEXICAL_TOKENIZER` its terms come from. */
  readonly tokenizer: number;
  /** What it scores with (a loaded index: what it was saved with). */
  readonly params: Bm25Params;
  has(label: number): boolean;
  /** The labels of the live documents, in the order they were added. */
  labels(): Uint32Array;
  add(labels: Uint32Array, texts: string[]): void;
  /**
   * `add` off the JS thread where the implementation can (natively: the libuv pool, the
   * texts tokenized on every core). Searches and writes of the index wait for it.
   */
  addAsync(labels: Uint32Array, texts: string[]): Promise<void>;
  /**
   * Removes documents. `texts`, the texts they were added with (one per label), lets the
   * native index find their postings through their terms rather than through a list of
   * every document's terms it builds on its first removal (1.2 s at 1M documents); a text
   * that is not the one indexed only loses that shortcut.
   */
  remove(labels: Uint32Array, texts?: string[]): number;
  /** Lucene IDF of each term over the live documents (unknown terms count df = 0). */
  idf(terms: string[]): Float64Array;
  /** Documents sharing a term with `query` (at most k), best first. */
  search(query: string, k: number, filter?: Uint32Array): Hits;
  /**
   * A search query tokenised once, in one call (one crossing into Rust natively): the ids
   * of its terms here, for `searchTerms`, and with a `dimension` its built-in embedding
   * with each token weighted by its IDF here (what `embedWeighted(query, dimension,
   * idf(tokenize(query)))` gives).
   */
  prepareQuery(query: string, dimension?: number): PreparedQuery;
  /**
   * `search` for the `terms` of `prepareQuery` (the same hits as `search` of its text),
   * without tokenising again. An id this index never handed out is `INVALID_INPUT`.
   */
  searchTerms(terms: Uint32Array, k: number, filter?: Uint32Array): Hits;
  /**
   * `searchTerms` off the JS thread where the implementation can (natively: the libuv
   * pool), beside the vector half of a hybrid search. `terms` and the filter must not
   * change until it settles.
   */
  searchTermsAsync(terms: Uint32Array, k: number, filter?: Uint32Array): Promise<Hits>;
  /**
   * Writes the live documents and terms to `path` atomically, with a checksum (a deleted
   * text leaves no word in the file), off the JS thread natively.
   */
  save(path: string): Promise<void>;
}

/** A query as a search needs it (`LexicalIndex.prepareQuery`). */
export interface PreparedQuery {
  /** Ids of the query's tokens the index knows, in order, repeats kept (BM25 counts each). */
  terms: Uint32Array;
  /** The IDF-weighted embedding, when a dimension was asked for. */
  vector?: Float32Array;
  /**
   * The sum of every token's IDF (repeats kept; a token the index does not know at the
   * highest IDF): what BM25 gives a document holding each token once at average length,
   * so a hit's score over it says how much of the query it matches.
   */
  idfMass: number;
}

/** A k-means clustering of unit rows. */
export interface KMeansResult {
  /** `k x dimension`, unit length. */
  centroids: Float32Array;
  /** Cluster of each row. */
  assignments: Uint32Array;
  /** Sum over rows of `1 - similarity` to their centroid. */
  inertia: number;
  iterations: number;
}

export interface Bm25Params {
  k1: number;
  b: number;
}

export const DEFAULT_BM25: Bm25Params = { k1: 0.9, b: 0.4 };

/**
 * What CARMA's hot path needs, implemented twice: natively (crates/carma through napi)
 * and in TypeScript. Both give the same tokens, embeddings within float tolerance, the
 * same exact and BM25 rankings up to ties, and read each other's index files.
 */
/** How an index file is read. */
export interface LoadOptions {
  /**
   * The file was checked in full before and has not changed since (see
   * checked-files.ts): only its structure is checked (whatever its bytes, nothing is
   * read out of bounds), not its checksum or its values.
   */
  verified?: boolean;
}

export interface CarmaEngine {
  readonly implementation: ImplementationReport['implementation'];
  readonly report: ImplementationReport;
  /** Lowercased alphanumeric runs: the tokens the built-in embedder sees. */
  tokenize(text: string): string[];
  /** The terms BM25 indexes a text by: `tokenize`'s runs, CJK ones as pairs of characters. */
  lexicalTokens(text: string): string[];
  /** The built-in hashing embedder: a `texts.length x dimension` row-major matrix. */
  embed(texts: string[], dimension: number): Float32Array;
  /** One text embedded with a weight per token (in `tokenize` order), e.g. its IDF. */
  embedWeighted(text: string, dimension: number, tokenWeights: Float64Array): Float32Array;
  /** `embed` off the JS thread where the implementation can. */
  embedAsync(texts: string[], dimension: number): Promise<Float32Array>;
  createVectorIndex(dimension: number, metric?: Metric, hnsw?: HnswParams | null): VectorIndex;
  /**
   * Reads a file `save` wrote (either implementation, either format version); refuses
   * one that fails its checksum or holds non-finite rows with `INDEX_CORRUPT`.
   */
  loadVectorIndex(path: string, options?: LoadOptions): Promise<VectorIndex>;
  createLexicalIndex(params?: Bm25Params): LexicalIndex;
  /**
   * Reads a file a lexical index's `save` wrote (either implementation); refuses one that
   * fails its checksum or whose structure does not hold with `INDEX_CORRUPT`.
   */
  loadLexicalIndex(path: string, options?: LoadOptions): Promise<LexicalIndex>;
  /**
   * The bytes of a file that is only ever replaced (written beside it and renamed), never
   * changed in place, such as a checkpoint's label map: natively a mapping of the file (the
   * pages are read as they are used, none copied into the heap), in js the file read whole.
   * A missing file is `IO_NOT_FOUND`.
   */
  fileBytes(path: string): Promise<Uint8Array>;
  /**
   * Spherical k-means (k-means++ seeding, deterministic for a seed) of the unit rows of
   * `data`; off the JS thread where the implementation can.
   */
  kmeans(
    data: Float32Array,
    dimension: number,
    k: number,
    maxIter: number,
    seed: number,
  ): Promise<KMeansResult>;
}
