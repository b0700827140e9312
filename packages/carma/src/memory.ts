import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DataStore } from '@aios/data';
import {
  AiosError,
  createHashing,
  describeValue,
  fromNodeIoError,
  type Hashing,
  type ImplementationReport,
  invalidInput,
  type NativeMode,
} from '@aios/utils';
import { createDataFragmentStore } from './data-store.js';
import { type Embedder, HashingEmbedder } from './embedder.js';
import {
  type Bm25Params,
  type CarmaEngine,
  createEngine,
  DEFAULT_BM25,
  DEFAULT_HNSW,
  type HnswParams,
  type LexicalIndex,
  MAX_K,
  NO_LABEL,
  type VectorIndex,
} from './engine/index.js';
import { CarmaErrorCode } from './errors.js';
import { compileFilter, type Filter, type Predicate } from './filter.js';
import type {
  FragmentChange,
  FragmentRecord,
  FragmentStore,
  IndexCheckpoint,
  Metadata,
  MetadataValue,
  StoreMeta,
} from './store.js';

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
  /** `weighted`: min-max normalised scores, weighted sum (default); `rrf`: reciprocal rank fusion. */
  method: 'weighted' | 'rrf';
  /** Weight of BM25 in the weighted sum (vector gets 1 - this). Default 0.7. */
  lexicalWeight: number;
  /** RRF constant. Default 60. */
  rrfK: number;
}

export const DEFAULT_FUSION: FusionOptions = { method: 'weighted', lexicalWeight: 0.7, rrfK: 60 };

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
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Write the vector index file after this many fragment changes (default 10,000), so
   * that opening has few changes to bring into it. Closing and `flush()` write it too.
   */
  checkpointEvery?: number;
  /** Clock for timestamps (tests). Default `Date.now`. */
  now?: () => number;
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
  implementation: ImplementationReport['implementation'];
  hnsw: HnswParams | null;
  location: string | undefined;
}

function checkText(text: unknown, field = 'text'): string {
  if (typeof text !== 'string') throw invalidInput(field, text, 'a string');
  if (text.trim() === '') {
    throw new AiosError(CarmaErrorCode.TEXT_EMPTY, `${field}: expected non-empty text`, {
      details: { field },
    });
  }
  if (text.length > MAX_TEXT_LENGTH) {
    throw new AiosError(
      CarmaErrorCode.TEXT_TOO_LARGE,
      `${field}: ${text.length} characters, more than the ${MAX_TEXT_LENGTH} allowed (split it into fragments)`,
      { details: { field, length: text.length, max: MAX_TEXT_LENGTH } },
    );
  }
  return text;
}

function checkNamespace(ns: unknown): string {
  if (ns === undefined) return DEFAULT_NAMESPACE;
  if (typeof ns !== 'string' || ns === '' || ns.length > MAX_NAMESPACE_LENGTH) {
    throw invalidInput(
      'namespace',
      ns,
      `a non-empty string of at most ${MAX_NAMESPACE_LENGTH} characters`,
    );
  }
  return ns;
}

function checkUnit(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalidInput(field, value, 'a number from 0 to 1');
  }
  return value;
}

function checkMetadata(meta: unknown): Metadata {
  if (meta === undefined) return {};
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw invalidInput(
      'metadata',
      meta,
      'an object of strings, numbers, booleans, null or arrays of them',
    );
  }
  const ok = (v: unknown) =>
    v === null ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v));
  for (const [key, value] of Object.entries(meta)) {
    if (!(ok(value) || (Array.isArray(value) && value.every((v) => v !== null && ok(v))))) {
      throw invalidInput(
        `metadata.${key}`,
        value,
        'a string, finite number, boolean, null or an array of them',
      );
    }
  }
  return structuredClone(meta as Metadata);
}

function checkK(k: unknown): number {
  if (k === undefined) return 10;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > MAX_K) {
    throw invalidInput('k', k, `an integer from 1 to ${MAX_K}`);
  }
  return k;
}

function publicFragment(f: FragmentRecord): Fragment {
  const { label: _label, ...rest } = structuredClone(f);
  return rest;
}

function change(
  f: FragmentRecord,
  kind: FragmentChange['kind'],
  at: number,
  note?: string,
): FragmentChange {
  return {
    version: f.version,
    kind,
    at,
    text: f.text,
    metadata: structuredClone(f.metadata),
    importance: f.importance,
    ...(note ? { note } : {}),
  };
}

function hnswParams(option: MemoryOptions['hnsw']): HnswParams | null | 'auto' {
  if (option === undefined || option === 'auto') return 'auto';
  if (option === false) return null;
  if (option === true) return { ...DEFAULT_HNSW };
  return { ...DEFAULT_HNSW, ...option };
}

/**
 * CARMA's memory: fragments with namespaces, metadata, importance and history; dedup on
 * write; hybrid (BM25 + vector) search with filters; reinforcement; persistence.
 */
export class Memory {
  private readonly byId = new Map<string, FragmentRecord>();
  private readonly byLabel = new Map<number, FragmentRecord>();
  private readonly byHash = new Map<string, string>();
  private readonly namespaceLabels = new Map<string, Set<number>>();
  private vectors!: VectorIndex;
  private lexical!: LexicalIndex;
  private dimension: number | undefined;
  private nextLabel = 0;
  private closed = false;
  private readonly fusion: FusionOptions;
  private readonly graph: HnswParams | null | 'auto';
  private readonly now: () => number;
  private pending: Promise<unknown> = Promise.resolve();
  /** The index file the store's meta names, once one was written or loaded. */
  private indexCheckpoint: IndexCheckpoint | undefined;
  /** Whether the vector index is what that file holds (no change since). */
  private indexSaved = false;
  /** `store.written` at the last index file. */
  private writtenAtCheckpoint = 0;
  /** The highest index file generation used (the next file is the one after). */
  private generation = 0;
  /** Bumped by every change that can alter a filter's result. */
  private changes = 0;
  /** Allow-lists of recent (namespace, filter) pairs, valid while `changes` is unchanged. */
  private readonly allowCache = new Map<
    string,
    { changes: number; labels: Uint32Array | undefined }
  >();

  private constructor(
    readonly engine: CarmaEngine,
    private readonly hashing: Hashing,
    private readonly store: FragmentStore,
    readonly embedder: Embedder,
    private readonly options: MemoryOptions,
  ) {
    this.fusion = { ...DEFAULT_FUSION, ...options.fusion };
    checkUnit(this.fusion.lexicalWeight, 'fusion.lexicalWeight', 0.7);
    if (this.fusion.method !== 'weighted' && this.fusion.method !== 'rrf') {
      throw invalidInput('fusion.method', this.fusion.method, '"weighted" or "rrf"');
    }
    this.graph = hnswParams(options.hnsw);
    this.now = options.now ?? Date.now;
  }

  /** Opens (or creates) a memory. */
  static async open(options: MemoryOptions = {}): Promise<Memory> {
    const engine = createEngine({ native: options.native });
    const hashing = await createHashing({ native: options.native });
    const store = options.store ?? Memory.defaultStore(options);
    const embedder = options.embedder ?? new HashingEmbedder(engine, options.dimension ?? 384);
    const memory = new Memory(engine, hashing, store, embedder, options);
    try {
      await memory.load();
    } catch (error) {
      // A store opened here is closed again (a database file stays locked otherwise).
      if (!options.store) await store.close().catch(() => undefined);
      throw error;
    }
    return memory;
  }

  /** Fragments in `data`, else in `<dir>/memory.db`, else in an in-memory database. */
  private static defaultStore(options: MemoryOptions): FragmentStore {
    const { dir, data, native } = options;
    if (
      data !== undefined &&
      (typeof data !== 'object' || data === null || !('fragments' in data) || !('meta' in data))
    ) {
      throw invalidInput('data', data, 'a DataStore from @aios/data (openDataStore)');
    }
    if (dir !== undefined && (typeof dir !== 'string' || dir === '')) {
      throw invalidInput('dir', dir, 'a directory path');
    }
    if (dir !== undefined) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (error) {
        throw fromNodeIoError(error, dir);
      }
    }
    return createDataFragmentStore({
      ...(data
        ? { data }
        : { path: dir === undefined ? ':memory:' : join(dir, MEMORY_DATABASE_FILE) }),
      ...(native ? { native } : {}),
      // The file format of earlier versions, imported once into the data store.
      ...(dir === undefined ? {} : { legacyDir: join(dir, 'store') }),
    });
  }

  get implementation(): ImplementationReport['implementation'] {
    return this.engine.implementation;
  }

  get report(): ImplementationReport {
    return this.engine.report;
  }

  get size(): number {
    return this.byId.size;
  }

  private indexPath(generation: number): string | undefined {
    return this.options.dir === undefined
      ? undefined
      : join(this.options.dir, `index-${generation}.bin`);
  }

  private async load(): Promise<void> {
    const { meta, fragments: records } = await this.store.open();
    let reembed = false;
    if (meta) {
      const dimensionDiffers =
        this.embedder.dimension !== undefined && this.embedder.dimension !== meta.dimension;
      if (meta.embedder !== this.embedder.id || dimensionDiffers) {
        if (!this.options.reembed) {
          throw new AiosError(
            CarmaErrorCode.EMBEDDER_MISMATCH,
            `this memory was embedded with ${meta.embedder} (dimension ${meta.dimension}); ` +
              `it was opened with ${this.embedder.id} (dimension ${this.embedder.dimension ?? 'unknown'}). ` +
              'Open it with the same embedder, or pass reembed: true to re-embed every fragment.',
            {
              details: {
                stored: meta,
                requested: { embedder: this.embedder.id, dimension: this.embedder.dimension },
              },
            },
          );
        }
        reembed = true;
      }
      this.dimension = reembed ? this.embedder.dimension : meta.dimension;
      this.nextLabel = meta.nextLabel;
      this.indexCheckpoint = meta.index;
    } else {
      this.dimension = this.embedder.dimension;
    }
    for (const f of records) {
      this.remember(f);
      // A label is never handed out twice, even if the meta lags behind the fragments.
      if (f.label >= this.nextLabel) this.nextLabel = f.label + 1;
    }
    // Links to fragments deleted without their links being cleared (a crash in between).
    for (const f of records) f.links = f.links.filter((id) => this.byId.has(id));
    this.lexical = this.engine.createLexicalIndex(this.options.bm25 ?? DEFAULT_BM25);
    if (records.length > 0) {
      this.lexical.add(
        Uint32Array.from(records, (f) => f.label),
        records.map((f) => f.text),
      );
    }
    if (reembed) {
      await this.reembedAll(records);
      return;
    }
    if (this.dimension === undefined) return; // remote embedder, nothing stored yet
    const loaded = await this.loadIndex(records);
    if (loaded) {
      this.vectors = loaded;
    } else {
      this.vectors = this.engine.createVectorIndex(this.dimension, 'cosine', null);
      await this.indexVectors(records, this.vectors);
    }
    this.maybeBuildGraph();
  }

  /**
   * The index file the store names, brought up to date with the changes recorded since it
   * was written; undefined when there is none or it cannot be trusted (then rebuilt).
   */
  private async loadIndex(records: FragmentRecord[]): Promise<VectorIndex | undefined> {
    const checkpoint = this.indexCheckpoint;
    const path = checkpoint && this.indexPath(checkpoint.generation);
    if (!checkpoint || !path || !existsSync(path)) return undefined;
    let loaded: VectorIndex;
    try {
      loaded = await this.engine.loadVectorIndex(path);
    } catch {
      return undefined; // a damaged index is rebuilt from the store
    }
    if (loaded.dimension !== this.dimension) return undefined;
    const { ids: changed, seq } = await this.store.changedSince(checkpoint.seq);
    // A history behind the file's (a restored database): the file describes another state.
    if (seq < checkpoint.seq) return undefined;
    const stale = loaded.labels().filter((l) => !this.byLabel.has(l));
    if (stale.length > 0) loaded.remove(stale);
    const todo = records.filter((f) => changed.has(f.id) || !loaded.has(f.label));
    await this.indexVectors(todo, loaded);
    this.indexSaved = stale.length === 0 && todo.length === 0;
    return loaded;
  }

  /** Adds the stored vectors of `records` to `index`, a page at a time. */
  private async indexVectors(records: FragmentRecord[], index: VectorIndex): Promise<void> {
    const dim = this.dimension as number;
    const page = 5000;
    for (let start = 0; start < records.length; start += page) {
      const slice = records.slice(start, start + page);
      const vectors = await this.store.vectors(slice.map((f) => f.id));
      const matrix = new Float32Array(slice.length * dim);
      slice.forEach((f, i) => {
        const v = vectors[i];
        if (!v || v.length !== dim) {
          throw new AiosError(
            CarmaErrorCode.STORE_CORRUPT,
            `fragment ${f.id}: missing or wrong-sized vector`,
          );
        }
        matrix.set(v, i * dim);
      });
      await index.addAsync(
        Uint32Array.from(slice, (f) => f.label),
        matrix,
      );
    }
  }

  private maybeBuildGraph(): void {
    if (this.graph === null || this.vectors.hnsw) return;
    if (this.graph === 'auto') {
      if (this.vectors.size < HNSW_AUTO_THRESHOLD) return;
      this.vectors.setHnsw({ ...DEFAULT_HNSW });
    } else {
      this.vectors.setHnsw(this.graph);
    }
    this.indexSaved = false;
  }

  /**
   * Embeds every fragment again with this memory's embedder, then replaces every stored
   * vector and the recorded embedder in one transaction: a failure or a crash part way
   * leaves the memory as it was, embedded with the old model.
   */
  private async reembedAll(records: FragmentRecord[]): Promise<void> {
    const total = records.length;
    const progress = this.options.onProgress;
    progress?.({ phase: 'reembed', done: 0, total });
    const batch = 256;
    const vectors: Float32Array[] = [];
    for (let i = 0; i < total; i += batch) {
      const slice = records.slice(i, i + batch);
      const matrix = await this.embedChecked(slice.map((f) => f.text));
      const dim = this.dimension as number;
      for (let j = 0; j < slice.length; j++) vectors.push(matrix.slice(j * dim, (j + 1) * dim));
      progress?.({ phase: 'reembed', done: Math.min(i + batch, total), total });
    }
    const dim = this.dimension ?? this.embedder.dimension;
    const index = this.engine.createVectorIndex(dim ?? 384, 'cosine', null);
    if (dim !== undefined) {
      const at = this.now();
      this.indexCheckpoint = undefined;
      await this.store.replaceVectors(
        records.map((f, i) => ({
          id: f.id,
          vector: vectors[i] as Float32Array,
          change: change(f, 'update', at, `re-embedded with ${this.embedder.id}`),
        })),
        this.metaNow(),
      );
      const matrix = new Float32Array(total * dim);
      vectors.forEach((v, i) => {
        matrix.set(v, i * dim);
      });
      await index.addAsync(
        Uint32Array.from(records, (f) => f.label),
        matrix,
      );
    }
    this.vectors = index;
    this.maybeBuildGraph();
    await this.flushNow();
  }

  private remember(f: FragmentRecord): void {
    this.changes++;
    this.byId.set(f.id, f);
    this.byLabel.set(f.label, f);
    this.byHash.set(`${f.namespace}\u0000${f.contentHash}`, f.id);
    let set = this.namespaceLabels.get(f.namespace);
    if (!set) {
      set = new Set();
      this.namespaceLabels.set(f.namespace, set);
    }
    set.add(f.label);
  }

  private forget(f: FragmentRecord): void {
    this.changes++;
    this.byId.delete(f.id);
    this.byLabel.delete(f.label);
    const key = `${f.namespace}\u0000${f.contentHash}`;
    if (this.byHash.get(key) === f.id) this.byHash.delete(key);
    this.namespaceLabels.get(f.namespace)?.delete(f.label);
    if (this.namespaceLabels.get(f.namespace)?.size === 0) this.namespaceLabels.delete(f.namespace);
  }

  private checkOpen(): void {
    if (this.closed) throw new AiosError(CarmaErrorCode.MEMORY_CLOSED, 'this memory is closed');
  }

  /** Runs mutations one at a time, so concurrent calls cannot interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.pending.then(fn, fn);
    this.pending = run.catch(() => undefined);
    return run;
  }

  private async embedChecked(texts: string[]): Promise<Float32Array> {
    const matrix = await this.embedder.embed(texts);
    const dim = this.embedder.dimension;
    if (
      dim === undefined ||
      !(matrix instanceof Float32Array) ||
      matrix.length !== texts.length * dim
    ) {
      throw new AiosError(
        CarmaErrorCode.EMBEDDER_FAILED,
        `embedder ${this.embedder.id} returned ${describeValue(matrix)} for ${texts.length} texts of dimension ${dim}`,
      );
    }
    if (this.dimension !== undefined && dim !== this.dimension) {
      throw new AiosError(
        CarmaErrorCode.DIMENSION_MISMATCH,
        `embedder ${this.embedder.id} returned dimension ${dim}; this memory's index has dimension ${this.dimension}`,
        { details: { expected: this.dimension, got: dim } },
      );
    }
    for (let i = 0; i < matrix.length; i++) {
      if (!Number.isFinite(matrix[i])) {
        throw new AiosError(
          CarmaErrorCode.EMBEDDER_FAILED,
          `embedder ${this.embedder.id} returned a non-finite value`,
        );
      }
    }
    if (this.dimension === undefined) {
      // The first vectors of a remote embedder: the meta is written with the first add.
      this.dimension = dim;
      this.vectors = this.engine.createVectorIndex(dim, 'cosine', null);
    }
    return matrix;
  }

  /** What the store records: embedder, dimension, the next label, the index file. */
  private metaNow(): StoreMeta {
    return {
      embedder: this.embedder.id,
      dimension: this.dimension as number,
      metric: 'cosine',
      nextLabel: this.nextLabel,
      ...(this.indexCheckpoint ? { index: this.indexCheckpoint } : {}),
    };
  }

  /** Adds one fragment (see `addMany`). */
  async add(input: FragmentInput | string): Promise<AddResult> {
    const [result] = await this.addMany([input]);
    return result as AddResult;
  }

  /**
   * Adds fragments. Identical text already in the namespace is not stored again
   * (`duplicate`); near-duplicates are reported, or merged with `mergeNearDuplicates`.
   * Everything is validated before anything is stored.
   */
  addMany(inputs: Array<FragmentInput | string>): Promise<AddResult[]> {
    return this.serial(() => this.addManyNow(inputs));
  }

  private async addManyNow(inputs: Array<FragmentInput | string>): Promise<AddResult[]> {
    this.checkOpen();
    if (!Array.isArray(inputs)) throw invalidInput('inputs', inputs, 'an array of fragments');
    const parsed = inputs.map((raw, i) => {
      const input = typeof raw === 'string' ? { text: raw } : raw;
      if (input === null || typeof input !== 'object') {
        throw invalidInput(
          `inputs[${i}]`,
          raw,
          'a string or { text, namespace?, metadata?, importance?, core? }',
        );
      }
      const text = checkText(input.text, inputs.length === 1 ? 'text' : `inputs[${i}].text`);
      return {
        text,
        namespace: checkNamespace(input.namespace),
        metadata: checkMetadata(input.metadata),
        importance: checkUnit(input.importance, 'importance', 0.5),
        core: input.core === undefined ? false : Boolean(input.core),
      };
    });
    const results: Array<AddResult | undefined> = new Array(parsed.length);
    const fresh: Array<{ index: number; record: FragmentRecord }> = [];
    const seen = new Map<string, number>();
    const at = this.now();
    parsed.forEach((p, index) => {
      const contentHash = this.hashing.hashSync(p.text);
      const key = `${p.namespace}\u0000${contentHash}`;
      const existing = this.byHash.get(key);
      if (existing) {
        results[index] = {
          fragment: publicFragment(this.byId.get(existing) as FragmentRecord),
          status: 'duplicate',
          nearDuplicates: [],
        };
        return;
      }
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        results[index] = {
          status: 'duplicate',
          fragment: undefined as unknown as Fragment,
          nearDuplicates: [],
        };
        (results[index] as AddResult & { sameAs?: number }).sameAs = earlier;
        return;
      }
      seen.set(key, index);
      fresh.push({
        index,
        record: {
          id: randomUUID(),
          label: -1,
          namespace: p.namespace,
          text: p.text,
          contentHash,
          metadata: p.metadata,
          importance: p.importance,
          core: p.core,
          createdAt: at,
          updatedAt: at,
          accessedAt: at,
          accessCount: 0,
          reinforcements: 0,
          version: 1,
          mergedFrom: [],
          links: [],
        },
      });
    });
    if (fresh.length > 0) {
      const matrix = await this.embedChecked(fresh.map((f) => f.record.text));
      const dim = this.dimension as number;
      const near = this.findNear(
        matrix,
        fresh.map((f) => f.record.namespace),
      );
      const toStore: Array<{
        record: FragmentRecord;
        vector: Float32Array;
        near: NearDuplicate[];
        index: number;
      }> = [];
      const merges: Array<{
        target: FragmentRecord;
        from: FragmentRecord;
        index: number;
        near: NearDuplicate[];
      }> = [];
      fresh.forEach((f, i) => {
        const nd = near[i] as NearDuplicate[];
        const target = nd[0] && this.byId.get(nd[0].id);
        if (this.options.mergeNearDuplicates && target) {
          merges.push({ target, from: f.record, index: f.index, near: nd });
        } else {
          if (this.nextLabel >= NO_LABEL)
            throw new AiosError('CAPACITY', 'this memory has used every label');
          f.record.label = this.nextLabel++;
          toStore.push({
            record: f.record,
            vector: matrix.slice(i * dim, (i + 1) * dim),
            near: nd,
            index: f.index,
          });
        }
      });
      if (toStore.length > 0) {
        // The labels handed out are recorded with the fragments, in one transaction.
        await this.store.put(
          toStore.map((s) => ({
            fragment: s.record,
            vector: s.vector,
            change: change(s.record, 'add', at),
          })),
          this.metaNow(),
        );
        const labels = Uint32Array.from(toStore, (s) => s.record.label);
        const vectors = new Float32Array(toStore.length * dim);
        toStore.forEach((s, i) => {
          vectors.set(s.vector, i * dim);
        });
        await this.vectors.addAsync(labels, vectors);
        this.lexical.add(
          labels,
          toStore.map((s) => s.record.text),
        );
        for (const s of toStore) {
          this.remember(s.record);
          results[s.index] = {
            fragment: publicFragment(s.record),
            status: 'added',
            nearDuplicates: s.near,
          };
        }
        this.maybeBuildGraph();
      }
      for (const m of merges) {
        const merged = await this.mergeInto(m.target, m.from, at);
        results[m.index] = {
          fragment: publicFragment(merged),
          status: 'merged',
          nearDuplicates: m.near,
        };
      }
    }
    // Duplicates within the batch point at the fragment their first copy became.
    const out = results.map((r) => {
      const sameAs = (r as AddResult & { sameAs?: number }).sameAs;
      if (sameAs === undefined) return r as AddResult;
      const first = results[sameAs] as AddResult;
      return { fragment: first.fragment, status: 'duplicate' as const, nearDuplicates: [] };
    });
    await this.maybeCheckpoint();
    return out;
  }

  /** Near-duplicates of each row of `matrix` in its namespace, most similar first. */
  private findNear(matrix: Float32Array, namespaces: string[]): NearDuplicate[][] {
    const threshold = this.options.nearDuplicateThreshold ?? 0.95;
    if (this.vectors.size === 0 || threshold > 1) return namespaces.map(() => []);
    const k = Math.min(10, this.vectors.size);
    const hits = this.vectors.search(matrix, k, { ef: 64 });
    return namespaces.map((ns, i) => {
      const out: NearDuplicate[] = [];
      for (let j = i * k; j < (i + 1) * k; j++) {
        const label = hits.labels[j] as number;
        const score = hits.scores[j] as number;
        if (label === NO_LABEL || score < threshold) continue;
        const f = this.byLabel.get(label);
        if (f && f.namespace === ns) out.push({ id: f.id, similarity: score });
      }
      return out;
    });
  }

  private async mergeInto(
    target: FragmentRecord,
    from: FragmentRecord,
    at: number,
  ): Promise<FragmentRecord> {
    target.mergedFrom = [...target.mergedFrom, ...from.mergedFrom, from.contentHash];
    target.importance = Math.max(target.importance, from.importance);
    target.metadata = { ...from.metadata, ...target.metadata };
    target.core = target.core || from.core;
    target.version++;
    target.updatedAt = at;
    await this.store.put([
      {
        fragment: target,
        change: change(target, 'merge', at, `merged near-duplicate text ${from.contentHash}`),
      },
    ]);
    return target;
  }

  private mustGet(id: unknown): FragmentRecord {
    if (typeof id !== 'string' || id === '') throw invalidInput('id', id, 'a fragment id');
    const f = this.byId.get(id);
    if (!f) {
      throw new AiosError(
        CarmaErrorCode.FRAGMENT_NOT_FOUND,
        `no fragment with id ${JSON.stringify(id)}`,
        {
          details: { id },
        },
      );
    }
    return f;
  }

  /** The fragment, or undefined when no fragment has this id. */
  get(id: string): Fragment | undefined {
    this.checkOpen();
    if (typeof id !== 'string') throw invalidInput('id', id, 'a fragment id');
    const f = this.byId.get(id);
    return f ? publicFragment(f) : undefined;
  }

  /** Changes text, metadata (replaced whole), importance or core; keeps the old version in history. */
  update(
    id: string,
    patch: { text?: string; metadata?: Metadata; importance?: number; core?: boolean },
  ): Promise<Fragment> {
    return this.serial(async () => {
      this.checkOpen();
      const f = this.mustGet(id);
      if (patch === null || typeof patch !== 'object') {
        throw invalidInput('patch', patch, 'an object with text, metadata, importance or core');
      }
      const text = patch.text === undefined ? undefined : checkText(patch.text);
      const metadata = patch.metadata === undefined ? undefined : checkMetadata(patch.metadata);
      const importance = checkUnit(patch.importance, 'importance', f.importance);
      // Without a new text the stored vector stays as it is.
      let vector: Float32Array | undefined;
      let contentHash = f.contentHash;
      if (text !== undefined && text !== f.text) {
        contentHash = this.hashing.hashSync(text);
        const other = this.byHash.get(`${f.namespace}\u0000${contentHash}`);
        if (other && other !== f.id) {
          throw new AiosError(
            'DUPLICATE_CONTENT',
            `fragment ${other} already holds this text in ${f.namespace}`,
            {
              details: { id: other },
            },
          );
        }
        vector = (await this.embedChecked([text])).slice();
      }
      const at = this.now();
      const next: FragmentRecord = {
        ...f,
        text: text ?? f.text,
        contentHash,
        metadata: metadata ?? f.metadata,
        importance,
        core: patch.core === undefined ? f.core : Boolean(patch.core),
        version: f.version + 1,
        updatedAt: at,
      };
      await this.store.put([
        { fragment: next, ...(vector ? { vector } : {}), change: change(next, 'update', at) },
      ]);
      this.forget(f);
      this.remember(next);
      if (vector) {
        await this.vectors.addAsync(Uint32Array.of(next.label), vector);
        this.lexical.add(Uint32Array.of(next.label), [next.text]);
      }
      await this.maybeCheckpoint();
      return publicFragment(next);
    });
  }

  /** Deletes a fragment (its history stays readable). */
  delete(id: string): Promise<void> {
    return this.serial(async () => {
      this.checkOpen();
      const f = this.mustGet(id);
      const at = this.now();
      await this.store.delete([
        { id: f.id, change: { ...change(f, 'delete', at), version: f.version + 1 } },
      ]);
      this.forget(f);
      this.vectors.remove(Uint32Array.of(f.label));
      this.lexical.remove(Uint32Array.of(f.label));
      await this.unlink(new Set([f.id]), at);
      await this.maybeCheckpoint();
    });
  }

  /** Removes deleted fragments from the links of the others, each with a history entry. */
  private async unlink(gone: ReadonlySet<string>, at: number): Promise<void> {
    const linking = [...this.byId.values()].filter((f) => f.links.some((id) => gone.has(id)));
    if (linking.length === 0) return;
    const next = linking.map((f) => {
      const removed = f.links.filter((id) => gone.has(id));
      const record: FragmentRecord = {
        ...f,
        links: f.links.filter((id) => !gone.has(id)),
        version: f.version + 1,
      };
      return { record, note: `unlinked ${removed.join(', ')} (deleted)` };
    });
    await this.store.put(
      next.map(({ record, note }) => ({
        fragment: record,
        change: change(record, 'link', at, note),
      })),
    );
    linking.forEach((f, i) => {
      const { record } = next[i] as { record: FragmentRecord };
      f.links = record.links;
      f.version = record.version;
    });
    this.changes++;
  }

  /** Every recorded change of a fragment, oldest first (also after it was deleted). */
  async history(id: string): Promise<FragmentChange[]> {
    this.checkOpen();
    if (typeof id !== 'string' || id === '') throw invalidInput('id', id, 'a fragment id');
    const h = await this.store.history(id);
    if (h.length === 0) {
      throw new AiosError(
        CarmaErrorCode.FRAGMENT_NOT_FOUND,
        `no fragment with id ${JSON.stringify(id)}`,
        {
          details: { id },
        },
      );
    }
    return h;
  }

  /** Fragments, optionally of one namespace and matching a filter, oldest first. */
  list(options: { namespace?: string; filter?: Filter } = {}): Fragment[] {
    this.checkOpen();
    const ns = options.namespace === undefined ? undefined : checkNamespace(options.namespace);
    const predicate = compileFilter(options.filter);
    const out: FragmentRecord[] = [];
    for (const f of this.byId.values()) {
      if (ns !== undefined && f.namespace !== ns) continue;
      if (predicate && !predicate(f)) continue;
      out.push(f);
    }
    out.sort((a, b) => a.createdAt - b.createdAt || a.label - b.label);
    return out.map(publicFragment);
  }

  namespaces(): Record<string, number> {
    return Object.fromEntries([...this.namespaceLabels].map(([ns, set]) => [ns, set.size]));
  }

  /**
   * Marks fragments as useful (e.g. used in a good answer): importance rises by `amount`
   * (default 0.1, capped at 1) and the reinforcement is recorded in history.
   */
  reinforce(ids: string | string[], amount = 0.1): Promise<Fragment[]> {
    return this.serial(async () => {
      this.checkOpen();
      const list = typeof ids === 'string' ? [ids] : ids;
      if (!Array.isArray(list)) throw invalidInput('ids', ids, 'a fragment id or an array of ids');
      if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < -1 || amount > 1) {
        throw invalidInput('amount', amount, 'a number from -1 to 1');
      }
      const records = list.map((id) => this.mustGet(id));
      const at = this.now();
      this.changes++;
      const items = records.map((f) => {
        f.importance = Math.min(1, Math.max(0, f.importance + amount));
        f.reinforcements++;
        f.accessedAt = at;
        f.version++;
        return { fragment: f, change: change(f, 'reinforce', at) };
      });
      await this.store.put(items);
      await this.maybeCheckpoint();
      return records.map(publicFragment);
    });
  }

  /**
   * `allowedLabels`, remembered for the last 32 (namespace, filter) pairs until the next
   * change (filters on `accessedAt`, which every search changes, are not cached).
   */
  private cachedAllowedLabels(
    namespace: string | undefined,
    filter: Filter | undefined,
    predicate: Predicate | undefined,
  ): Uint32Array | undefined {
    if (namespace === undefined && predicate === undefined) return undefined;
    const key = JSON.stringify([namespace ?? null, filter ?? null]);
    if (key.includes('"accessedAt"')) return this.allowedLabels(namespace, predicate);
    const hit = this.allowCache.get(key);
    if (hit && hit.changes === this.changes) return hit.labels;
    const labels = this.allowedLabels(namespace, predicate);
    this.allowCache.delete(key);
    this.allowCache.set(key, { changes: this.changes, labels });
    if (this.allowCache.size > 32)
      this.allowCache.delete(this.allowCache.keys().next().value as string);
    return labels;
  }

  private allowedLabels(
    namespace: string | undefined,
    predicate: Predicate | undefined,
  ): Uint32Array | undefined {
    if (namespace === undefined && predicate === undefined) return undefined;
    const inNamespace =
      namespace === undefined
        ? undefined
        : (this.namespaceLabels.get(namespace) ?? new Set<number>());
    if (inNamespace && !predicate) {
      return inNamespace.size === this.size ? undefined : Uint32Array.from(inNamespace);
    }
    const out = new Uint32Array(inNamespace ? inNamespace.size : this.size);
    let n = 0;
    if (inNamespace) {
      for (const label of inNamespace) {
        if ((predicate as Predicate)(this.byLabel.get(label) as FragmentRecord)) out[n++] = label;
      }
    } else {
      for (const [label, f] of this.byLabel) if ((predicate as Predicate)(f)) out[n++] = label;
    }
    return n === this.size ? undefined : out.subarray(0, n);
  }

  /** The query vector: for the built-in embedder, query tokens are weighted by their IDF. */
  private async queryVector(query: string): Promise<Float32Array> {
    if (this.embedder instanceof HashingEmbedder) {
      const idf = this.lexical.idf(this.engine.tokenize(query));
      return this.embedder.embedWeighted(query, idf);
    }
    return this.embedChecked([query]);
  }

  /** Finds the fragments that best answer `query`. */
  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    this.checkOpen();
    checkText(query, 'query');
    if (options === null || typeof options !== 'object')
      throw invalidInput('options', options, 'an object');
    const k = checkK(options.k);
    const mode = options.mode ?? 'hybrid';
    if (mode !== 'hybrid' && mode !== 'vector' && mode !== 'lexical') {
      throw invalidInput('mode', mode, '"hybrid", "vector" or "lexical"');
    }
    const namespace =
      options.namespace === undefined ? undefined : checkNamespace(options.namespace);
    const predicate = compileFilter(options.filter);
    const fusion = { ...this.fusion, ...options.fusion };
    const recency = options.recency;
    if (recency !== undefined) {
      checkUnit(recency.weight, 'recency.weight', 0);
      if (
        !(
          typeof recency.halfLifeMs === 'number' &&
          recency.halfLifeMs > 0 &&
          Number.isFinite(recency.halfLifeMs)
        )
      ) {
        throw invalidInput(
          'recency.halfLifeMs',
          recency.halfLifeMs,
          'a positive number of milliseconds',
        );
      }
    }
    if (options.importance !== undefined)
      checkUnit(options.importance.weight, 'importance.weight', 0);
    if (this.size === 0) return [];
    const allowed = this.cachedAllowedLabels(namespace, options.filter, predicate);
    if (allowed && allowed.length === 0) return [];
    const depth = mode === 'hybrid' ? Math.min(MAX_K, Math.max(2 * k, 100)) : k;

    type Entry = { lexical?: [number, number]; vector?: [number, number] };
    const entries = new Map<number, Entry>();
    let lexMax = 0;
    let lexMin = 0;
    let vecMax = 0;
    let vecMin = 0;
    if (mode !== 'vector') {
      const hits = this.lexical.search(query, depth, allowed);
      hits.labels.forEach((label, rank) => {
        entries.set(label, { lexical: [hits.scores[rank] as number, rank] });
      });
      lexMax = hits.scores[0] ?? 0;
      lexMin = hits.scores[hits.scores.length - 1] ?? 0;
    }
    if (mode !== 'lexical' && this.dimension !== undefined && this.vectors) {
      const q = await this.queryVector(query);
      const hits = this.vectors.search(q, Math.min(depth, Math.max(1, this.vectors.size)), {
        ...(allowed ? { filter: allowed } : {}),
        ef: Math.max(this.options.efSearch ?? 128, depth),
        exact: options.exact ?? false,
      });
      let last = 0;
      hits.labels.forEach((label, rank) => {
        if (label === NO_LABEL) return;
        const score = hits.scores[rank] as number;
        const e = entries.get(label) ?? {};
        e.vector = [score, rank];
        entries.set(label, e);
        last = score;
      });
      vecMax = hits.labels[0] === NO_LABEL ? 0 : (hits.scores[0] ?? 0);
      vecMin = last;
    }
    const norm = (score: number, max: number, min: number) =>
      max > min ? (score - min) / (max - min) : 1;
    const now = this.now();
    const results: Array<{ f: FragmentRecord; score: number; explain: Explanation }> = [];
    for (const [label, e] of entries) {
      const f = this.byLabel.get(label);
      if (!f) continue;
      const explain: Explanation = { base: 0, final: 0 };
      if (e.lexical)
        explain.lexical = {
          score: e.lexical[0],
          rank: e.lexical[1] + 1,
          normalized: norm(e.lexical[0], lexMax, lexMin),
        };
      if (e.vector)
        explain.vector = {
          score: e.vector[0],
          rank: e.vector[1] + 1,
          normalized: norm(e.vector[0], vecMax, vecMin),
        };
      if (mode === 'lexical') explain.base = e.lexical?.[0] ?? 0;
      else if (mode === 'vector') explain.base = e.vector?.[0] ?? 0;
      else if (fusion.method === 'rrf') {
        explain.base =
          (e.lexical ? 1 / (fusion.rrfK + e.lexical[1] + 1) : 0) +
          (e.vector ? 1 / (fusion.rrfK + e.vector[1] + 1) : 0);
      } else {
        explain.base =
          fusion.lexicalWeight * (explain.lexical?.normalized ?? 0) +
          (1 - fusion.lexicalWeight) * (explain.vector?.normalized ?? 0);
      }
      let score = explain.base;
      if (recency) {
        const age = Math.max(0, now - f.createdAt);
        explain.recency = recency.weight * (f.core ? 1 : 0.5 ** (age / recency.halfLifeMs));
        score += explain.recency;
      }
      if (options.importance) {
        explain.importance = options.importance.weight * f.importance;
        score += explain.importance;
      }
      explain.final = score;
      results.push({ f, score, explain });
    }
    results.sort((a, b) => b.score - a.score || a.f.label - b.f.label);
    const top = results.slice(0, k);
    for (const r of top) {
      r.f.accessedAt = now;
      r.f.accessCount++;
      this.store.touch(r.f);
    }
    return top.map((r) => ({
      id: r.f.id,
      score: r.score,
      fragment: publicFragment(r.f),
      ...(options.explain ? { explain: r.explain } : {}),
    }));
  }

  /**
   * The "dream cycle": clusters each namespace (spherical k-means, k-means++ seeding, in
   * the engine), merges near-duplicates within a cluster into the most important (then
   * oldest) fragment, keeping provenance (`mergedFrom`, histories), and links related
   * fragments. Runs in the background, a cluster at a time between other operations,
   * with progress; never on the request path.
   */
  consolidate(options: ConsolidateOptions = {}): ConsolidationTask {
    let cancelled = false;
    const done = this.consolidateNow(options, () => cancelled);
    return {
      done,
      cancel: () => {
        cancelled = true;
      },
    };
  }

  private async consolidateNow(
    options: ConsolidateOptions,
    isCancelled: () => boolean,
  ): Promise<ConsolidationReport> {
    this.checkOpen();
    const mergeThreshold = checkUnit(
      options.mergeThreshold,
      'mergeThreshold',
      Math.min(1, this.options.nearDuplicateThreshold ?? 0.95),
    );
    const linkThreshold = checkUnit(options.linkThreshold, 'linkThreshold', 0.75);
    const maxLinks = options.maxLinks ?? 5;
    if (!Number.isInteger(maxLinks) || maxLinks < 0 || maxLinks > 100) {
      throw invalidInput('maxLinks', maxLinks, 'an integer from 0 to 100');
    }
    if (
      options.clusters !== undefined &&
      (!Number.isInteger(options.clusters) || options.clusters < 1)
    ) {
      throw invalidInput('clusters', options.clusters, 'a positive integer');
    }
    const namespaces =
      options.namespace === undefined
        ? [...this.namespaceLabels.keys()].sort()
        : [checkNamespace(options.namespace)];
    const report: ConsolidationReport = {
      namespaces: 0,
      clusters: 0,
      merged: [],
      linked: 0,
      cancelled: false,
    };
    const dim = this.dimension;
    if (dim === undefined) return report;
    // Plan first (clusters of every namespace), then work cluster by cluster.
    const plan: Array<number[]> = [];
    for (const ns of namespaces) {
      const labels = [...(this.namespaceLabels.get(ns) ?? [])].sort((a, b) => a - b);
      if (labels.length < 2) continue;
      report.namespaces++;
      const matrix = new Float32Array(labels.length * dim);
      labels.forEach((l, i) => {
        matrix.set(this.vectors.get(l) as Float32Array, i * dim);
      });
      const k = Math.min(
        labels.length,
        options.clusters ?? Math.ceil(Math.sqrt(labels.length / 2)),
      );
      const { assignments } = await this.engine.kmeans(matrix, dim, k, 25, options.seed ?? 42);
      const groups = new Map<number, number[]>();
      assignments.forEach((c, i) => {
        const g = groups.get(c);
        if (g) g.push(labels[i] as number);
        else groups.set(c, [labels[i] as number]);
      });
      for (const g of groups.values()) plan.push(g);
    }
    report.clusters = plan.length;
    options.onProgress?.({ phase: 'consolidate', done: 0, total: plan.length });
    for (let c = 0; c < plan.length; c++) {
      if (isCancelled() || this.closed) {
        report.cancelled = true;
        break;
      }
      await this.serial(() =>
        this.consolidateCluster(
          plan[c] as number[],
          mergeThreshold,
          linkThreshold,
          maxLinks,
          report,
        ),
      );
      options.onProgress?.({ phase: 'consolidate', done: c + 1, total: plan.length });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.serial(() => this.maybeCheckpoint());
    return report;
  }

  private async consolidateCluster(
    cluster: number[],
    mergeThreshold: number,
    linkThreshold: number,
    maxLinks: number,
    report: ConsolidationReport,
  ): Promise<void> {
    const members = cluster
      .map((l) => this.byLabel.get(l))
      .filter((f): f is FragmentRecord => f !== undefined)
      .sort(
        (a, b) => b.importance - a.importance || a.createdAt - b.createdAt || a.label - b.label,
      );
    if (members.length < 2) return;
    const allowed = Uint32Array.from(members, (f) => f.label);
    const k = Math.min(members.length, maxLinks + 16);
    const gone = new Set<number>();
    const at = this.now();
    for (const keeper of members) {
      if (gone.has(keeper.label)) continue;
      const v = this.vectors.get(keeper.label) as Float32Array;
      const hits = this.vectors.search(v, k, { filter: allowed, exact: true });
      const mergeFrom: FragmentRecord[] = [];
      const links: string[] = [];
      hits.labels.forEach((label, i) => {
        const score = hits.scores[i] as number;
        if (label === NO_LABEL || label === keeper.label || gone.has(label)) return;
        const other = this.byLabel.get(label);
        if (!other) return;
        if (score >= mergeThreshold) mergeFrom.push(other);
        else if (score >= linkThreshold && links.length < maxLinks) links.push(other.id);
      });
      if (mergeFrom.length > 0) {
        this.changes++;
        for (const f of mergeFrom) gone.add(f.label);
        keeper.mergedFrom = [
          ...keeper.mergedFrom,
          ...mergeFrom.flatMap((f) => [f.id, ...f.mergedFrom]),
        ];
        keeper.importance = Math.max(keeper.importance, ...mergeFrom.map((f) => f.importance));
        keeper.core = keeper.core || mergeFrom.some((f) => f.core);
        keeper.metadata = Object.assign(
          {},
          ...mergeFrom.map((f) => f.metadata).reverse(),
          keeper.metadata,
        );
        keeper.reinforcements += mergeFrom.reduce((s, f) => s + f.reinforcements, 0);
        keeper.version++;
        keeper.updatedAt = at;
        await this.store.put([
          {
            fragment: keeper,
            change: change(keeper, 'merge', at, `merged ${mergeFrom.map((f) => f.id).join(', ')}`),
          },
        ]);
        await this.store.delete(
          mergeFrom.map((f) => ({
            id: f.id,
            change: {
              ...change(f, 'delete', at, `merged into ${keeper.id}`),
              version: f.version + 1,
            },
          })),
        );
        const labels = Uint32Array.from(mergeFrom, (f) => f.label);
        this.vectors.remove(labels);
        this.lexical.remove(labels);
        for (const f of mergeFrom) this.forget(f);
        await this.unlink(new Set(mergeFrom.map((f) => f.id)), at);
        report.merged.push({ into: keeper.id, from: mergeFrom.map((f) => f.id) });
      }
      const sortedOld = [...keeper.links].sort().join('\u0000');
      const next = [...new Set(links)];
      if ([...next].sort().join('\u0000') !== sortedOld) {
        keeper.links = next;
        keeper.version++;
        await this.store.put([{ fragment: keeper, change: change(keeper, 'link', at) }]);
        report.linked++;
      }
    }
  }

  stats(): MemoryStats {
    return {
      fragments: this.size,
      namespaces: this.namespaces(),
      embedder: this.embedder.id,
      dimension: this.dimension,
      implementation: this.implementation,
      hnsw: this.vectors?.hnsw ?? null,
      location: this.options.dir ?? this.store.location,
    };
  }

  private async maybeCheckpoint(): Promise<void> {
    const every = this.options.checkpointEvery ?? 10_000;
    if (this.store.written - this.writtenAtCheckpoint >= every) await this.flushNow();
  }

  /**
   * Writes the accesses recorded so far and, when the memory has a directory, the vector
   * index (graph included) to `index-<generation>.bin`, named in the store's meta.
   */
  flush(): Promise<void> {
    return this.serial(() => this.flushNow());
  }

  private async flushNow(): Promise<void> {
    await this.store.flush();
    this.writtenAtCheckpoint = this.store.written;
    const dir = this.options.dir;
    if (dir === undefined || !this.vectors || this.dimension === undefined) return;
    const seq = await this.store.latestSeq();
    const current = this.indexCheckpoint;
    if (
      this.indexSaved &&
      current?.seq === seq &&
      existsSync(this.indexPath(current.generation) as string)
    ) {
      return; // the file on disk is this index
    }
    const generation = Math.max(this.generation, current?.generation ?? 0) + 1;
    await this.vectors.save(this.indexPath(generation) as string);
    this.generation = generation;
    // Named in the meta only once written: a crash before leaves the previous file named.
    this.indexCheckpoint = { generation, seq };
    await this.store.setMeta(this.metaNow());
    this.indexSaved = true;
    for (const name of readdirSync(dir)) {
      if (/^index-\d+\.bin$/.test(name) && name !== `index-${generation}.bin`)
        rmSync(join(dir, name), { force: true });
    }
  }

  /** Flushes and closes; the memory cannot be used afterwards. */
  close(): Promise<void> {
    return this.serial(async () => {
      if (this.closed) return;
      try {
        await this.flushNow();
      } finally {
        this.closed = true;
        await this.store.close();
      }
    });
  }
}

/** Opens (or creates) a memory; see `MemoryOptions`. */
export function openMemory(options: MemoryOptions = {}): Promise<Memory> {
  return Memory.open(options);
}

export type { Metadata, MetadataValue };
