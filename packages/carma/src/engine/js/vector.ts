import { setImmediate as nextTurn } from 'node:timers/promises';
import { AiosError, type Hashing, invalidInput } from '@aios/utils';
import {
  checkAddOptions,
  checkDimension,
  checkFloats,
  checkHnsw,
  checkK,
  checkLabel,
  checkLabels,
  checkMetric,
  checkVectorSearch,
} from '../checks.js';
import {
  type AddOptions,
  type Hits,
  type HnswParams,
  type LoadOptions,
  type Metric,
  NO_LABEL,
  type VectorIndex,
  type VectorSearchOptions,
} from '../types.js';
import { LazyRowCodes, queryCode } from './codes.js';
import { type Cand, dotAt, JsHnsw, type Nearest } from './hnsw.js';
import {
  decodeIndexFile,
  encodeIndexFile,
  type IndexFileContents,
  loadIndexFile,
  saveIndexFile,
} from './index-file.js';
import { TopK } from './topk.js';

/** Where `link` reports the walks of a batch's rows (see `addAsync`). */
interface NearSink {
  from: number;
  nearest: Nearest;
  found: Cand[][];
}

/** Rows `compactAsync` copies per slice. */
const COMPACT_COPY_ROWS = 2048;
/** The time `compactAsync` and `addAsync` give graph nodes per slice of the event loop. */
const SLICE_MS = 1;
/** How long a slice of an async search's queries runs before the thread is let go. */
const SEARCH_SLICE_MS = 4;

function normalizeRow(v: Float32Array, offset: number, dim: number): void {
  let sq = 0;
  for (let i = 0; i < dim; i++) sq += (v[offset + i] as number) * (v[offset + i] as number);
  if (sq > 0) {
    const inv = Math.fround(1 / Math.sqrt(sq));
    for (let i = 0; i < dim; i++) v[offset + i] = (v[offset + i] as number) * inv;
  }
}

/** The vector index in TypeScript (exact scan + `JsHnsw`), same file format as native. */
export class JsVectorIndex implements VectorIndex {
  private data: Float32Array;
  private slotLabels: Uint32Array;
  private alive: Uint8Array;
  private count = 0;
  private byLabel = new Map<number, number>();
  private graph: JsHnsw | null;
  /** Bumped by `compact` and `setHnsw`: a `compactAsync` that began before is dropped. */
  private generation = 0;
  /** The rows' codes for graph walks, made as searches need them, of `codesGeneration`. */
  private readonly codes: LazyRowCodes;
  private codesGeneration = 0;

  constructor(
    readonly dimension: number,
    readonly metric: Metric,
    hnsw: HnswParams | null,
  ) {
    checkDimension(dimension);
    checkMetric(metric);
    if (hnsw !== null) checkHnsw(hnsw);
    this.data = new Float32Array(64 * dimension);
    this.slotLabels = new Uint32Array(64);
    this.alive = new Uint8Array(64);
    this.graph = hnsw ? new JsHnsw({ ...hnsw }) : null;
    this.codes = new LazyRowCodes(dimension);
  }

  get size(): number {
    return this.byLabel.size;
  }
  get slots(): number {
    return this.count;
  }
  get hnsw(): HnswParams | null {
    return this.graph ? { ...this.graph.params } : null;
  }

  /** The contents of a batch of rows (their type was checked by `checkFloats`). */
  private checkVectors(vectors: Float32Array, rows: number, what: string): void {
    if (vectors.length !== rows * this.dimension) {
      throw new AiosError(
        'DIMENSION_MISMATCH',
        `${what}: expected ${rows} x ${this.dimension} = ${rows * this.dimension} floats, got ${vectors.length}`,
      );
    }
    for (let i = 0; i < vectors.length; i++) {
      if (!Number.isFinite(vectors[i])) {
        throw new AiosError(
          'INVALID_INPUT',
          `${what}: expected finite numbers, got ${vectors[i]} at row ${Math.floor(i / this.dimension)} column ${i % this.dimension}`,
        );
      }
    }
  }

  private grow(need: number): void {
    if (need <= this.slotLabels.length) return;
    const cap = Math.max(need, this.slotLabels.length * 2);
    const data = new Float32Array(cap * this.dimension);
    data.set(this.data.subarray(0, this.count * this.dimension));
    this.data = data;
    const labels = new Uint32Array(cap);
    labels.set(this.slotLabels.subarray(0, this.count));
    this.slotLabels = labels;
    const alive = new Uint8Array(cap);
    alive.set(this.alive.subarray(0, this.count));
    this.alive = alive;
  }

  add(labels: Uint32Array, vectors: Float32Array): void {
    this.append(labels, vectors);
    this.link(Number.POSITIVE_INFINITY);
  }

  /**
   * Stores rows (an exact scan finds them at once) without their graph nodes, which
   * `link` gives them; without a graph, drops the deleted rows once they are the most.
   */
  private append(labels: Uint32Array, vectors: Float32Array): void {
    checkLabels(labels);
    checkFloats(vectors, 'vectors');
    this.checkVectors(vectors, labels.length, 'vectors');
    const seen = new Set<number>();
    for (const l of labels) {
      if (l === NO_LABEL) throw invalidInput('labels', l, 'labels below 4294967295 (reserved)');
      if (seen.has(l)) throw invalidInput('labels', l, 'distinct labels within one batch');
      seen.add(l);
    }
    const dim = this.dimension;
    this.grow(this.count + labels.length);
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i] as number;
      const old = this.byLabel.get(label);
      if (old !== undefined) this.alive[old] = 0;
      const slot = this.count++;
      this.data.set(vectors.subarray(i * dim, (i + 1) * dim), slot * dim);
      if (this.metric === 'cosine') normalizeRow(this.data, slot * dim, dim);
      this.slotLabels[slot] = label;
      this.alive[slot] = 1;
      this.byLabel.set(label, slot);
    }
    if (!this.graph && this.count > 1024 && this.count > 2 * this.size) this.compact();
  }

  /**
   * Gives the rows after the graph's last node their nodes, in order, until `until` (ms).
   * With `near`, the walks of the rows from `near.from` on report what `near.nearest` asks
   * into `near.found` (one list per row, in order).
   */
  private link(until: number, near?: NearSink): void {
    const graph = this.graph;
    if (!graph) return;
    while (graph.size < this.count && performance.now() < until) {
      const id = graph.size;
      const [found] = graph.insertRange(
        this.data,
        this.dimension,
        id,
        id + 1,
        near && id >= near.from ? near.nearest : undefined,
      );
      if (near && id >= near.from) near.found.push(found ?? []);
    }
  }

  /**
   * `add` whose graph nodes are made a slice of the event loop at a time, as the native
   * add links under a read lock: searches are answered meanwhile (they find these rows by
   * exact scan at once, through the graph once linked). A renumbering meanwhile (`compact`,
   * `setHnsw`, the swap of `compactAsync`) builds a graph over every row, these included.
   */
  async addAsync(
    labels: Uint32Array,
    vectors: Float32Array,
    options: AddOptions = {},
  ): Promise<Hits | null> {
    const k = checkAddOptions(options);
    this.append(labels, vectors);
    const end = this.count;
    const start = end - labels.length;
    const generation = this.generation;
    const alive = () => this.alive;
    const near: NearSink | undefined =
      k > 0
        ? {
            from: start,
            nearest: { k, accept: (slot) => slot < start && alive()[slot] === 1 },
            found: [],
          }
        : undefined;
    for (;;) {
      this.link(performance.now() + SLICE_MS, near);
      if (generation !== this.generation || !this.graph) return null;
      if (this.graph.size >= end) break;
      await nextTurn();
    }
    if (!near || near.found.length !== labels.length) return null;
    const out: Hits = {
      labels: new Uint32Array(labels.length * k).fill(NO_LABEL),
      scores: new Float32Array(labels.length * k).fill(Number.NEGATIVE_INFINITY),
    };
    near.found.forEach((found, i) => {
      found.forEach((c, j) => {
        out.labels[i * k + j] = this.slotLabels[c.id] as number;
        out.scores[i * k + j] = c.dist;
      });
    });
    return out;
  }

  /**
   * One thread here: the queries are searched a slice of time at a time, the thread let go
   * in between, so that thousands of them (an add's near-duplicate checks, exact before
   * the index has a graph: 7.9 s for 5,000 at 10,000 rows) do not hold other work.
   */
  async searchAsync(queries: Float32Array, k: number, options: VectorSearchOptions = {}) {
    const dim = this.dimension;
    const nq = queries.length / dim;
    if (!Number.isInteger(nq) || nq <= 1) return this.search(queries, k, options);
    const out: Hits = { labels: new Uint32Array(nq * k), scores: new Float32Array(nq * k) };
    let step = 1;
    for (let i = 0; i < nq; ) {
      const end = Math.min(nq, i + step);
      const started = performance.now();
      const hits = this.search(queries.subarray(i * dim, end * dim), k, options);
      out.labels.set(hits.labels, i * k);
      out.scores.set(hits.scores, i * k);
      i = end;
      // As many queries next time as fit in the slice, judged by these.
      const each = (performance.now() - started) / step;
      step = Math.max(1, Math.min(4 * step, Math.floor(SEARCH_SLICE_MS / Math.max(each, 1e-3))));
      if (i < nq) await nextTurn();
    }
    return out;
  }

  remove(labels: Uint32Array): number {
    checkLabels(labels);
    let removed = 0;
    for (const l of labels) {
      const slot = this.byLabel.get(l);
      if (slot === undefined) continue;
      this.byLabel.delete(l);
      this.alive[slot] = 0;
      removed++;
    }
    if (!this.graph && this.count > 1024 && this.count > 2 * this.size) this.compact();
    return removed;
  }

  has(label: number): boolean {
    return this.byLabel.has(checkLabel(label));
  }

  get(label: number): Float32Array | null {
    checkLabel(label);
    const slot = this.byLabel.get(label);
    if (slot === undefined) return null;
    return this.data.slice(slot * this.dimension, (slot + 1) * this.dimension);
  }

  labels(): Uint32Array {
    const out: number[] = [];
    for (let s = 0; s < this.count; s++) if (this.alive[s]) out.push(this.slotLabels[s] as number);
    return Uint32Array.from(out);
  }

  search(queries: Float32Array, k: number, options: VectorSearchOptions = {}): Hits {
    checkK(k);
    checkFloats(queries, 'queries');
    checkVectorSearch(options);
    const dim = this.dimension;
    if (queries.length === 0 || queries.length % dim !== 0) {
      throw new AiosError(
        'DIMENSION_MISMATCH',
        `queries: expected a non-empty multiple of ${dim} floats, got ${queries.length}`,
      );
    }
    const nq = queries.length / dim;
    this.checkVectors(queries, nq, 'queries');
    const q = this.metric === 'cosine' ? queries.slice() : queries;
    if (this.metric === 'cosine') for (let i = 0; i < nq; i++) normalizeRow(q, i * dim, dim);
    let allowedSlots: number[] | undefined;
    let mask: Uint8Array | undefined;
    if (options.filter) {
      mask = new Uint8Array(this.count);
      allowedSlots = [];
      for (const l of options.filter) {
        const s = this.byLabel.get(l);
        if (s !== undefined && !mask[s]) {
          mask[s] = 1;
          allowedSlots.push(s);
        }
      }
      allowedSlots.sort((a, b) => a - b);
    }
    const graph =
      this.graph &&
      !options.exact &&
      this.graph.size > 0 &&
      (!allowedSlots || (allowedSlots.length * 10 >= this.size && allowedSlots.length > 2000))
        ? this.graph
        : null;
    const labels = new Uint32Array(nq * k).fill(NO_LABEL);
    const scores = new Float32Array(nq * k).fill(Number.NEGATIVE_INFINITY);
    const ef = Math.max(options.ef ?? 64, k);
    for (let qi = 0; qi < nq; qi++) {
      let ids: number[];
      let ss: number[];
      if (graph) {
        const accept = mask
          ? (slot: number) => mask[slot] === 1
          : (slot: number) => this.alive[slot] === 1;
        const found = this.graphSearch(graph, q, qi * dim, k, ef, accept);
        ids = found.map((c) => this.slotLabels[c.id] as number);
        ss = found.map((c) => c.dist);
      } else {
        const top = new TopK(k);
        const qo = qi * dim;
        const visit = (slot: number) => {
          const score = Math.fround(dotAt(q, qo, this.data, slot * dim, dim));
          if (score >= top.threshold()) top.push(score, this.slotLabels[slot] as number);
        };
        if (allowedSlots) for (const s of allowedSlots) visit(s);
        else for (let s = 0; s < this.count; s++) if (this.alive[s]) visit(s);
        const sorted = top.sorted();
        ids = sorted.ids;
        ss = sorted.scores;
      }
      labels.set(ids, qi * k);
      scores.set(ss, qi * k);
    }
    return { labels, scores };
  }

  setHnsw(params: HnswParams | null): void {
    if (params !== null) checkHnsw(params);
    this.generation++;
    this.graph = params ? new JsHnsw({ ...params }) : null;
    this.graph?.insertRange(this.data, this.dimension, 0, this.count);
  }

  /**
   * The `k` accepted slots nearest the query at `q[qo..]` by a walk of `graph` with
   * breadth `ef`, best first, as (score, slot): the walk measures rows by their int8 codes,
   * as natively, and the `ef` slots it ends on are rescored with the rows. A query without
   * a code walks the rows.
   */
  private graphSearch(
    graph: JsHnsw,
    q: Float32Array,
    qo: number,
    k: number,
    ef: number,
    accept: (slot: number) => boolean,
  ): Cand[] {
    const dim = this.dimension;
    const data = this.data;
    const code = queryCode(q, qo, dim);
    if (!code) return graph.search((n) => -dotAt(q, qo, data, n * dim, dim), k, ef, accept);
    if (this.codesGeneration !== this.generation) {
      this.codes.reset();
      this.codesGeneration = this.generation;
    }
    const codes = this.codes;
    const found = graph.search((n) => -codes.estimate(code, data, n), ef, ef, accept);
    const rescored = found.map((c) => ({
      dist: Math.fround(dotAt(q, qo, data, c.id * dim, dim)),
      id: c.id,
    }));
    rescored.sort((a, b) => b.dist - a.dist || a.id - b.id);
    return rescored.slice(0, k);
  }

  compact(): void {
    if (this.count === this.size) return;
    const dim = this.dimension;
    const live: number[] = [];
    for (let s = 0; s < this.count; s++) if (this.alive[s]) live.push(s);
    const data = new Float32Array(Math.max(live.length, 64) * dim);
    const labels = new Uint32Array(Math.max(live.length, 64));
    live.forEach((s, i) => {
      data.set(this.data.subarray(s * dim, (s + 1) * dim), i * dim);
      labels[i] = this.slotLabels[s] as number;
    });
    this.data = data;
    this.slotLabels = labels;
    this.alive = new Uint8Array(labels.length);
    this.alive.fill(1, 0, live.length);
    this.count = live.length;
    this.byLabel = new Map(live.map((_, i) => [labels[i] as number, i]));
    this.generation++;
    if (this.graph) this.setHnsw(this.graph.params);
  }

  /**
   * The native `CompactTask` on one thread: the live rows are copied, then given graph
   * nodes, in slices of about `COMPACT_SLICE_MS` with the event loop running between
   * them; the last step (rows written since, tombstones set since, the swap) is one slice.
   */
  async compactAsync(options: { signal?: AbortSignal; hnsw?: HnswParams } = {}): Promise<boolean> {
    const { signal } = options;
    const params = options.hnsw === undefined ? this.graph?.params : checkHnsw(options.hnsw);
    if (signal?.aborted) return false;
    const generation = this.generation;
    const dim = this.dimension;
    const next = new JsVectorIndex(dim, this.metric, null);
    const graph = params ? new JsHnsw({ ...params }) : null;
    const from: number[] = [];
    let copied = 0;
    let indexed = 0;
    const copy = (until: number) => {
      const end = Math.min(this.count, until);
      next.grow(next.count + (end - copied));
      for (; copied < end; copied++) {
        if (!this.alive[copied]) continue;
        const label = this.slotLabels[copied] as number;
        const at = next.count++;
        // A label replaced after its first row was copied: the newer row wins.
        const old = next.byLabel.get(label);
        if (old !== undefined) next.alive[old] = 0;
        next.byLabel.set(label, at);
        next.data.set(this.data.subarray(copied * dim, (copied + 1) * dim), at * dim);
        next.slotLabels[at] = label;
        next.alive[at] = 1;
        from.push(copied);
      }
    };
    const index = (until: number) => {
      for (; indexed < next.count && performance.now() < until; indexed++) {
        graph?.insertRange(next.data, dim, indexed, indexed + 1);
      }
    };
    const current = () => generation === this.generation && !signal?.aborted;
    while (copied < this.count || indexed < next.count) {
      const until = performance.now() + SLICE_MS;
      if (copied < this.count) copy(copied + COMPACT_COPY_ROWS);
      else index(until);
      await nextTurn();
      if (!current()) return false;
    }
    copy(this.count);
    for (let row = 0; row < from.length; row++) {
      if (next.alive[row] && !this.alive[from[row] as number]) {
        next.alive[row] = 0;
        next.byLabel.delete(next.slotLabels[row] as number);
      }
    }
    index(Number.POSITIVE_INFINITY);
    this.data = next.data;
    this.slotLabels = next.slotLabels;
    this.alive = next.alive;
    this.count = next.count;
    this.byLabel = next.byLabel;
    this.graph = graph;
    this.generation++;
    return true;
  }

  /** Reads `bytes` (an index file); `INDEX_CORRUPT` when they cannot be trusted. */
  static fromBytes(bytes: Uint8Array, blake3: Hashing): JsVectorIndex {
    return JsVectorIndex.fromContents(decodeIndexFile(bytes, blake3));
  }

  private static fromContents(c: IndexFileContents): JsVectorIndex {
    const index = new JsVectorIndex(c.dim, c.metric, null);
    index.data = c.data.length > 0 ? c.data : new Float32Array(c.dim);
    index.slotLabels = c.labels.length > 0 ? c.labels : new Uint32Array(1);
    index.alive = c.alive.length > 0 ? c.alive : new Uint8Array(1);
    index.count = c.count;
    for (let s = 0; s < c.count; s++) {
      if (c.alive[s]) index.byLabel.set(c.labels[s] as number, s);
    }
    index.graph = c.graph;
    return index;
  }

  toBytes(blake3: Hashing): Uint8Array {
    // A file holds no row that its graph does not reach.
    this.link(Number.POSITIVE_INFINITY);
    return encodeIndexFile(
      {
        dim: this.dimension,
        metric: this.metric,
        count: this.count,
        labels: this.slotLabels,
        alive: this.alive,
        data: this.data,
        graph: this.graph,
      },
      blake3,
    );
  }

  async save(path: string): Promise<void> {
    await saveIndexFile(path, (blake3) => this.toBytes(blake3));
  }

  static async load(path: string, options: LoadOptions = {}): Promise<JsVectorIndex> {
    // The file's bytes are this index's alone: its rows stay where they were read.
    return loadIndexFile(path, (bytes, blake3) =>
      JsVectorIndex.fromContents(
        decodeIndexFile(bytes, blake3, { owned: true, verified: options.verified }),
      ),
    );
  }
}
