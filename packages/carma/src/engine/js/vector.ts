import { writeFile as fsWriteFile, readFile, rename } from 'node:fs/promises';
import { AiosError, fromNodeIoError, invalidInput } from '@aios/utils';
import {
  type Hits,
  type HnswParams,
  MAX_DIMENSION,
  MAX_K,
  type Metric,
  NO_LABEL,
  type VectorIndex,
  type VectorSearchOptions,
} from '../types.js';
import { dotAt, JsHnsw, MAX_LEVEL } from './hnsw.js';
import { TopK } from './topk.js';

const MAGIC = 'CARMAVI1';
const END = 'CARMAEND';

export function checkHnsw(p: HnswParams): void {
  if (
    !Number.isInteger(p.m) ||
    p.m < 2 ||
    p.m > 256 ||
    !Number.isInteger(p.efConstruction) ||
    p.efConstruction < 1 ||
    p.efConstruction > 100_000 ||
    !Number.isInteger(p.seed) ||
    p.seed < 0 ||
    p.seed > 0xffffffff
  ) {
    throw invalidInput(
      'hnsw',
      `m=${p.m} efConstruction=${p.efConstruction} seed=${p.seed}`,
      'm from 2 to 256, efConstruction from 1 to 100000, seed a u32',
    );
  }
}

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

  constructor(
    readonly dimension: number,
    readonly metric: Metric,
    hnsw: HnswParams | null,
  ) {
    if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
      throw invalidInput('dimension', dimension, `an integer from 1 to ${MAX_DIMENSION}`);
    }
    if (metric !== 'cosine' && metric !== 'dot') {
      throw invalidInput('metric', metric, '"cosine" or "dot"');
    }
    if (hnsw) checkHnsw(hnsw);
    this.data = new Float32Array(64 * dimension);
    this.slotLabels = new Uint32Array(64);
    this.alive = new Uint8Array(64);
    this.graph = hnsw ? new JsHnsw({ ...hnsw }) : null;
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

  private checkVectors(vectors: Float32Array, rows: number, what: string): void {
    if (!(vectors instanceof Float32Array)) throw invalidInput(what, vectors, 'a Float32Array');
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
    if (!(labels instanceof Uint32Array)) throw invalidInput('labels', labels, 'a Uint32Array');
    this.checkVectors(vectors, labels.length, 'vectors');
    const seen = new Set<number>();
    for (const l of labels) {
      if (l === NO_LABEL) throw invalidInput('labels', l, 'labels below 4294967295 (reserved)');
      if (seen.has(l)) throw invalidInput('labels', l, 'distinct labels within one batch');
      seen.add(l);
    }
    const dim = this.dimension;
    const start = this.count;
    this.grow(start + labels.length);
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
    if (this.graph) this.graph.insertRange(this.data, dim, start, this.count);
    else if (this.count > 1024 && this.count > 2 * this.size) this.compact();
  }

  async addAsync(labels: Uint32Array, vectors: Float32Array): Promise<void> {
    this.add(labels, vectors);
  }

  remove(labels: Uint32Array): number {
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
    return this.byLabel.has(label);
  }

  get(label: number): Float32Array | null {
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
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) {
      throw invalidInput('k', k, `an integer from 1 to ${MAX_K}`);
    }
    const dim = this.dimension;
    if (!(queries instanceof Float32Array) || queries.length === 0 || queries.length % dim !== 0) {
      throw new AiosError(
        'DIMENSION_MISMATCH',
        `queries: expected a non-empty multiple of ${dim} floats, got ${queries?.length}`,
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
        const found = graph.search(
          this.data,
          dim,
          q.subarray(qi * dim, (qi + 1) * dim),
          k,
          ef,
          accept,
        );
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
    if (params) checkHnsw(params);
    this.graph = params ? new JsHnsw({ ...params }) : null;
    this.graph?.insertRange(this.data, this.dimension, 0, this.count);
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
    if (this.graph) this.setHnsw(this.graph.params);
  }

  toBytes(): Uint8Array {
    const n = this.count;
    const dim = this.dimension;
    const pad = (4 - (n % 4)) % 4;
    const parts: Uint8Array[] = [];
    const header = new DataView(new ArrayBuffer(28));
    for (let i = 0; i < 8; i++) header.setUint8(i, MAGIC.charCodeAt(i));
    header.setUint32(8, 1, true);
    header.setUint32(12, dim, true);
    header.setUint32(16, this.metric === 'cosine' ? 0 : 1, true);
    header.setUint32(20, n, true);
    header.setUint32(24, this.graph ? 1 : 0, true);
    parts.push(new Uint8Array(header.buffer));
    parts.push(leBytes(this.slotLabels.subarray(0, n)));
    const alive = new Uint8Array(n + pad);
    alive.set(this.alive.subarray(0, n));
    parts.push(alive);
    parts.push(leBytes(this.data.subarray(0, n * dim)));
    if (this.graph) {
      const g = this.graph;
      parts.push(
        leBytes(
          Uint32Array.from([
            g.params.m,
            g.params.efConstruction,
            g.params.seed >>> 0,
            0,
            g.entry < 0 ? NO_LABEL : g.entry,
            g.entry < 0 ? 0 : g.entryLevel,
          ]),
        ),
      );
      const levels = new Uint8Array(n + pad);
      levels.set(g.levels);
      parts.push(levels);
      const words: number[] = [];
      for (const node of g.links) {
        for (const list of node) {
          words.push(list.length, ...list);
        }
      }
      parts.push(leBytes(Uint32Array.from(words)));
    }
    parts.push(new Uint8Array(Buffer.from(END, 'latin1')));
    return Buffer.concat(parts);
  }

  static fromBytes(bytes: Uint8Array): JsVectorIndex {
    const corrupt = (what: string) => new AiosError('INDEX_CORRUPT', `index file: ${what}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = 0;
    const need = (n: number) => {
      if (pos + n > bytes.length) throw corrupt('truncated');
    };
    const u32 = () => {
      need(4);
      const v = view.getUint32(pos, true);
      pos += 4;
      return v;
    };
    need(8);
    if (Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC) {
      throw corrupt('not a CARMA vector index (bad magic)');
    }
    pos = 8;
    const version = u32();
    if (version !== 1) throw corrupt(`unsupported version ${version}`);
    const dim = u32();
    const metricCode = u32();
    const n = u32();
    const flags = u32();
    if (metricCode > 1) throw corrupt(`unknown metric ${metricCode}`);
    if (dim < 1 || dim > MAX_DIMENSION) throw corrupt(`bad dimension ${dim}`);
    const pad = (4 - (n % 4)) % 4;
    const readU32s = (count: number) => {
      need(count * 4);
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint32(pos + i * 4, true);
      pos += count * 4;
      return out;
    };
    const labels = readU32s(n);
    need(n + pad);
    const alive = bytes.slice(pos, pos + n);
    pos += n + pad;
    need(n * dim * 4);
    const data = new Float32Array(n * dim);
    for (let i = 0; i < n * dim; i++) data[i] = view.getFloat32(pos + i * 4, true);
    pos += n * dim * 4;
    let hnsw: HnswParams | null = null;
    let graph: JsHnsw | null = null;
    if (flags & 1) {
      const m = u32();
      const efConstruction = u32();
      const seed = u32();
      const seedHi = u32();
      const entry = u32();
      const entryLevel = u32();
      hnsw = { m, efConstruction, seed };
      try {
        checkHnsw(hnsw);
      } catch {
        throw corrupt('bad graph parameters');
      }
      if (seedHi !== 0) throw corrupt('seed wider than 32 bits is not supported');
      need(n + pad);
      const levels = Array.from(bytes.subarray(pos, pos + n));
      pos += n + pad;
      graph = new JsHnsw(hnsw);
      graph.levels = levels;
      for (const lv of levels) {
        if (lv > MAX_LEVEL) throw corrupt('bad node level');
        const node: number[][] = [];
        for (let l = 0; l <= lv; l++) {
          const list = Array.from(readU32s(u32()));
          if (list.some((id) => id >= n)) throw corrupt('link out of range');
          node.push(list);
        }
        graph.links.push(node);
      }
      if (entry !== NO_LABEL) {
        if (entry >= n) throw corrupt('entry out of range');
        graph.entry = entry;
        graph.entryLevel = entryLevel;
      }
    }
    need(8);
    if (Buffer.from(bytes.subarray(pos, pos + 8)).toString('latin1') !== END) {
      throw corrupt('missing end marker (truncated write?)');
    }
    const index = new JsVectorIndex(dim, metricCode === 0 ? 'cosine' : 'dot', null);
    index.data = data.length > 0 ? data : new Float32Array(dim);
    index.slotLabels = labels.length > 0 ? labels : new Uint32Array(1);
    index.alive = alive.length > 0 ? alive : new Uint8Array(1);
    index.count = n;
    for (let s = 0; s < n; s++) {
      if (!alive[s]) continue;
      const l = labels[s] as number;
      if (index.byLabel.has(l)) throw corrupt(`label ${l} is live twice`);
      index.byLabel.set(l, s);
    }
    index.graph = graph;
    return index;
  }

  async save(path: string): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      await fsWriteFile(tmp, this.toBytes(), { flush: true });
      await rename(tmp, path);
    } catch (error) {
      throw fromNodeIoError(error, path);
    }
  }

  static async load(path: string): Promise<JsVectorIndex> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw fromNodeIoError(error, path);
    }
    return JsVectorIndex.fromBytes(bytes);
  }
}

function leBytes(a: Uint32Array | Float32Array): Uint8Array {
  // Little-endian platforms (every supported target) can copy the memory as is.
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}
