/**
 * The public shapes of the Memory API: options, inputs, results and the limits that
 * go with them. Re-exported by `memory.ts`; nothing here has behaviour.
 */
import type { DataStore } from '@aios/data';
import type { ImplementationReport, NativeMode } from '@aios/utils';
import type { Embedder } from './embedder.js';
import type { EmbeddingRoles } from './embedding-roles.js';
import type { Bm25Params, HnswParams } from './engine/index.js';
import type { Filter } from './filter.js';
import type { FragmentRecord, FragmentStore, Metadata } from './fragment-store.js';

/** Longest fragment or query text, in UTF-16 code units. */
export const MAX_TEXT_LENGTH = 200_000;
/** Longest namespace name. */
export const MAX_NAMESPACE_LENGTH = 256;
export const DEFAULT_NAMESPACE = 'default';
/** Below this many fragments search is exact; at it, the HNSW graph is built ('auto'). */
export const HNSW_AUTO_THRESHOLD = 10_000;

/** A fragment as the Memory API returns it (a copy; changing it changes nothing). */
export type Fragment = Omit<FragmentRecord, 'label'>;

export interface FragmentInput {
  text: string;
  namespace?: string;
  metadata?: Metadata;
  /** 0 to 1, default 0.5. */
  importance?: number;
  /** Core memories are exempt from recency decay. */
  core?: boolean;
  /**
   * When the fragment was made (ms since the epoch; default: now), for a memory moved from
   * elsewhere: recency is reckoned from it. A time after the add counts as the add's.
   */
  createdAt?: number;
  /** When it last changed (default: `createdAt`); not before `createdAt`. */
  updatedAt?: number;
}

export interface NearDuplicate {
  id: string;
  similarity: number;
}

export interface AddResult {
  fragment: Fragment;
  /** `added`; `duplicate` (same text already in the namespace); `merged` into a near-duplicate. */
  status: 'added' | 'duplicate' | 'merged';
  /** Fragments in the namespace at least `nearDuplicateThreshold` similar. */
  nearDuplicates: NearDuplicate[];
}

export type SearchMode = 'hybrid' | 'vector' | 'lexical';

export interface FusionOptions {
  /**
   * `adaptive` (default): min-max normalised scores, weighted by how much of the query the
   * best lexical hit matches (see `scoring.ts`); `weighted`: the same with a fixed
   * `lexicalWeight`; `rrf`: reciprocal rank fusion.
   */
  method: 'adaptive' | 'weighted' | 'rrf';
  /**
   * Weight of BM25 (vector gets 1 - this): fixed with `weighted`, the weight when the
   * query is matched in full with `adaptive`. Default 0.7 with the built-in embedder, 0.4
   * with a model.
   */
  lexicalWeight: number;
  /** RRF constant. Default 60. */
  rrfK: number;
}

/** The fusion settings of a memory on the built-in embedder. */
export const DEFAULT_FUSION: FusionOptions = { method: 'adaptive', lexicalWeight: 0.7, rrfK: 60 };
/**
 * BM25's weight in full with an embedding model: its vectors carry evidence of their own,
 * where the built-in embedder's hashed words and n-grams mostly repeat BM25's.
 */
export const MODEL_LEXICAL_WEIGHT = 0.4;

export interface SearchOptions {
  k?: number;
  namespace?: string;
  filter?: Filter;
  mode?: SearchMode;
  explain?: boolean;
  /** Opt-in recency term: `weight * 0.5^(age / halfLifeMs)` (core memories count as new). */
  recency?: { weight: number; halfLifeMs: number };
  /** Opt-in importance term: `weight * importance`. */
  importance?: { weight: number };
  /** Overrides the memory's fusion settings for this search. */
  fusion?: Partial<FusionOptions>;
  /** Forces an exact vector scan even when a graph exists. */
  exact?: boolean;
}

export interface Explanation {
  lexical?: { score: number; rank: number; normalized: number };
  vector?: { score: number; rank: number; normalized: number };
  /** The fused (or single-mode) score before the opt-in terms. */
  base: number;
  /**
   * Hybrid searches: the fusion used for this query. `lexicalWeight` is BM25's weight
   * (adaptive: the full weight times `evidence`); `coverage` is the best lexical hit's
   * BM25 score over the query's IDF mass (1: every query token matched once).
   */
  fusion?: {
    method: FusionOptions['method'];
    lexicalWeight?: number;
    coverage?: number;
    evidence?: number;
  };
  recency?: number;
  importance?: number;
  final: number;
}

export interface SearchResult {
  id: string;
  score: number;
  fragment: Fragment;
  explain?: Explanation;
}

export interface ProgressEvent {
  phase: string;
  done: number;
  total: number;
}

/** Where a memory reports what it does on its own (a pino `Logger` fits). */
export interface IndexLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

/** The SQLite file of a memory opened with `dir` and no `data`. */
export const MEMORY_DATABASE_FILE = 'memory.db';

export interface MemoryOptions {
  /**
   * Directory of the memory: the vector index files (a cache, rebuilt when missing or
   * stale) and, unless `data` is given, the fragments in `memory.db` (@aios/data).
   * Omitted: no index files, and without `data` the memory lives in memory only.
   */
  dir?: string;
  /** The @aios/data store to keep fragments in (not closed by the memory). */
  data?: DataStore;
  /** A custom fragment store (takes precedence over `data` and `dir` for fragments). */
  store?: FragmentStore;
  /** Overrides `AIOS_NATIVE` for this memory. */
  native?: NativeMode;
  /** Default: the built-in hashing embedder with `dimension`. */
  embedder?: Embedder;
  /** Dimension of the built-in embedder. Default 384. */
  dimension?: number;
  /** `auto` (default): graph from 10,000 fragments; true: always; false: exact only. */
  hnsw?: 'auto' | boolean | Partial<HnswParams>;
  /** HNSW search breadth. Default 128. */
  efSearch?: number;
  /** Similarity at or above which an added fragment reports near-duplicates. Default 0.95. */
  nearDuplicateThreshold?: number;
  /** Merge a new fragment into its nearest near-duplicate instead of adding it. */
  mergeNearDuplicates?: boolean;
  fusion?: Partial<FusionOptions>;
  bm25?: Bm25Params;
  /** The stored embedder differs: re-embed every fragment instead of failing. */
  reembed?: boolean;
  /**
   * How whoever opens the memory re-embeds it, said when the embedder differs and
   * `reembed` was not asked for (default: "pass reembed: true"); an application names its
   * own command.
   */
  reembedHint?: string;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Write the vector index file after this many fragment changes (default 10,000), so
   * that opening has few changes to bring into it. Closing and `flush()` write it too.
   * While changes arrive faster than the files are written (a large import), a write
   * waits four times as long as the one before took, so more changes may build up.
   */
  checkpointEvery?: number;
  /**
   * The most fragment changes since the last index files that `close()` and `flush()`
   * leave for the next open to replay from the store's history, rather than writing the
   * files again. Default: one per 1,000 indexed fragments, at most 512 (a note added to a
   * large memory does not rewrite its whole index); 0 always writes.
   */
  replayLimit?: number;
  /**
   * From this many indexed fragments, `flush()` and `close()` leave index files due to be written to
   * another process (writing them takes seconds at 200k fragments, half a minute at 1M):
   * the changes stay in the store's history for the next open to replay, and
   * `checkpointDeferred` says so, for the caller to run `writeIndexFiles()` elsewhere (the
   * `aios` CLI starts `aios memory checkpoint` in the background). While another process
   * is writing them already, they are left to it and `checkpointDeferred` is false.
   * Default: never.
   */
  deferCheckpointFrom?: number;
  /**
   * On a store other servers write to (PostgreSQL): how often to ask it for changes
   * whose notice was lost (ms, default 1000). Unused on SQLite.
   */
  followPollMs?: number;
  /** Clock for timestamps (tests). Default `Date.now`. */
  now?: () => number;
  /**
   * Receives warnings, such as an index file that failed its checks and was rebuilt.
   * Default: the `carma` logger of `@aios/utils` (JSON lines on stderr).
   */
  logger?: IndexLogger;
}

export interface ConsolidateOptions {
  /** Only this namespace (default: every namespace, each clustered on its own). */
  namespace?: string;
  /** Clusters per namespace. Default `ceil(sqrt(n / 2))`. */
  clusters?: number;
  /** Merge fragments at least this similar. Default: the memory's near-duplicate threshold. */
  mergeThreshold?: number;
  /** Link fragments at least this similar (within a cluster). Default 0.75. */
  linkThreshold?: number;
  /** Links kept per fragment. Default 5. */
  maxLinks?: number;
  seed?: number;
  onProgress?: (event: ProgressEvent) => void;
}

export interface ConsolidationReport {
  namespaces: number;
  clusters: number;
  /** Each merge: the fragment kept and the ones merged into it (now deleted, history kept). */
  merged: Array<{ into: string; from: string[] }>;
  /** Fragments whose links changed. */
  linked: number;
  cancelled: boolean;
  /**
   * Set when another server sharing the store (PostgreSQL) was consolidating it: this one
   * did nothing.
   */
  skipped?: boolean;
}

/** A running consolidation: await `done`, or `cancel()` it between clusters. */
export interface ConsolidationTask {
  done: Promise<ConsolidationReport>;
  cancel(): void;
}

export interface MemoryStats {
  fragments: number;
  namespaces: Record<string, number>;
  embedder: string;
  dimension: number | undefined;
  /** How queries and documents are embedded when they differ; null when alike. */
  roles: EmbeddingRoles | null;
  implementation: ImplementationReport['implementation'];
  hnsw: HnswParams | null;
  /**
   * Rows of the vector index still held by deleted or replaced fragments; a background
   * compaction drops them once they are a tenth of the index.
   */
  deadRows: number;
  location: string | undefined;
}
