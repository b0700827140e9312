import type { HnswParams } from '../types.js';

/**
 * HNSW in TypeScript: the same algorithm, level draw and neighbour heuristic as
 * crates/carma/src/hnsw.rs, inserting sequentially. Graphs written by either
 * implementation load in the other.
 */
export const MAX_LEVEL = 15;
const MASK64 = (1n << 64n) - 1n;

export function splitmix64(input: bigint): bigint {
  let x = (input + 0x9e3779b97f4a7c15n) & MASK64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return x ^ (x >> 31n);
}

export function drawLevel(seed: number, id: number, m: number): number {
  const bits = splitmix64(BigInt(seed) ^ ((BigInt(id) * 0x2545f4914f6cdd1dn) & MASK64));
  const u = (Number(bits >> 11n) + 1) / 2 ** 53;
  const ml = 1 / Math.log(Math.max(m, 2));
  return Math.min(Math.floor(-Math.log(u) * ml), MAX_LEVEL);
}

export function dotAt(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += (a[ao + i] as number) * (b[bo + i] as number);
    s1 += (a[ao + i + 1] as number) * (b[bo + i + 1] as number);
    s2 += (a[ao + i + 2] as number) * (b[bo + i + 2] as number);
    s3 += (a[ao + i + 3] as number) * (b[bo + i + 3] as number);
  }
  for (; i < n; i++) s0 += (a[ao + i] as number) * (b[bo + i] as number);
  return s0 + s1 + (s2 + s3);
}

/** The query's distance to a node (lower is nearer). */
export type Dist = (id: number) => number;

/** Binary heap of (dist, id); `max` puts the largest on top. Ties order by id. */
class Heap {
  readonly dists: number[] = [];
  readonly ids: number[] = [];
  constructor(private readonly max: boolean) {}
  get size(): number {
    return this.ids.length;
  }
  private above(a: number, b: number): boolean {
    const da = this.dists[a] as number;
    const db = this.dists[b] as number;
    const before = da < db || (da === db && (this.ids[a] as number) < (this.ids[b] as number));
    return this.max ? !before && (da !== db || this.ids[a] !== this.ids[b]) : before;
  }
  private swap(a: number, b: number): void {
    const d = this.dists[a] as number;
    this.dists[a] = this.dists[b] as number;
    this.dists[b] = d;
    const i = this.ids[a] as number;
    this.ids[a] = this.ids[b] as number;
    this.ids[b] = i;
  }
  push(dist: number, id: number): void {
    this.dists.push(dist);
    this.ids.push(id);
    let i = this.ids.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.above(i, p)) {
        this.swap(i, p);
        i = p;
      } else break;
    }
  }
  topDist(): number {
    return this.dists[0] as number;
  }
  pop(): [number, number] {
    const top: [number, number] = [this.dists[0] as number, this.ids[0] as number];
    const lastD = this.dists.pop() as number;
    const lastI = this.ids.pop() as number;
    if (this.ids.length > 0) {
      this.dists[0] = lastD;
      this.ids[0] = lastI;
      const n = this.ids.length;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let t = i;
        if (l < n && this.above(l, t)) t = l;
        if (r < n && this.above(r, t)) t = r;
        if (t === i) break;
        this.swap(i, t);
        i = t;
      }
    }
    return top;
  }
}

export interface Cand {
  dist: number;
  id: number;
}

/** Which of the nodes a link's walk ends on `insertRange` hands back, and how many. */
export interface Nearest {
  k: number;
  accept: (id: number) => boolean;
}

export class JsHnsw {
  levels: number[] = [];
  links: number[][][] = [];
  entry = -1;
  entryLevel = 0;
  private marks = new Uint32Array(0);
  private epoch = 0;

  constructor(readonly params: HnswParams) {}

  get size(): number {
    return this.levels.length;
  }

  private maxLinks(level: number): number {
    return level === 0 ? this.params.m * 2 : this.params.m;
  }

  private dist(data: Float32Array, dim: number, q: Float32Array, qo: number, id: number): number {
    return -dotAt(q, qo, data, id * dim, dim);
  }

  /**
   * Adds nodes `start..end`. With `nearest`, returns per node up to `nearest.k` of the
   * nodes its layer-0 walk ended on that `nearest.accept` takes, best first, as
   * (similarity, node) pairs (as the native `link_range`); else an empty list.
   */
  insertRange(
    data: Float32Array,
    dim: number,
    start: number,
    end: number,
    nearest?: Nearest,
  ): Cand[][] {
    for (let id = start; id < end; id++) {
      const level = drawLevel(this.params.seed, id, this.params.m);
      this.levels.push(level);
      this.links.push(Array.from({ length: level + 1 }, () => []));
    }
    const out: Cand[][] = [];
    for (let id = start; id < end; id++) {
      const near = this.insert(data, dim, id, nearest);
      if (nearest) out.push(near);
    }
    return out;
  }

  private greedy(dist: Dist, start: Cand, level: number): Cand {
    const cur = { ...start };
    for (;;) {
      let changed = false;
      for (const n of (this.links[cur.id] as number[][])[level] as number[]) {
        const d = dist(n);
        if (d < cur.dist) {
          cur.dist = d;
          cur.id = n;
          changed = true;
        }
      }
      if (!changed) return cur;
    }
  }

  private searchLayer(
    dist: Dist,
    entries: Cand[],
    ef: number,
    level: number,
    accept: (id: number) => boolean,
  ): Cand[] {
    if (this.marks.length < this.levels.length) {
      this.marks = new Uint32Array(Math.max(this.levels.length, this.marks.length * 2));
      this.epoch = 0;
    }
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.marks.fill(0);
      this.epoch = 1;
    }
    const marks = this.marks;
    const epoch = this.epoch;
    const candidates = new Heap(false);
    const results = new Heap(true);
    for (const e of entries) {
      if (marks[e.id] === epoch) continue;
      marks[e.id] = epoch;
      candidates.push(e.dist, e.id);
      if (accept(e.id)) results.push(e.dist, e.id);
    }
    while (results.size > ef) results.pop();
    while (candidates.size > 0) {
      const [cd, cid] = candidates.pop();
      if (results.size >= ef && cd > results.topDist()) break;
      for (const n of (this.links[cid] as number[][])[level] as number[]) {
        if (marks[n] === epoch) continue;
        marks[n] = epoch;
        const d = dist(n);
        if (results.size < ef || d < results.topDist()) {
          candidates.push(d, n);
          if (accept(n)) {
            results.push(d, n);
            if (results.size > ef) results.pop();
          }
        }
      }
    }
    const out: Cand[] = results.ids.map((id, i) => ({ dist: results.dists[i] as number, id }));
    out.sort((a, b) => a.dist - b.dist || a.id - b.id);
    return out;
  }

  private select(data: Float32Array, dim: number, cands: Cand[], m: number): number[] {
    const kept: Cand[] = [];
    for (const c of cands) {
      if (kept.length >= m) break;
      let good = true;
      for (const k of kept) {
        if (this.dist(data, dim, data, c.id * dim, k.id) < c.dist) {
          good = false;
          break;
        }
      }
      if (good) kept.push(c);
    }
    return kept.map((c) => c.id);
  }

  private insert(data: Float32Array, dim: number, id: number, nearest?: Nearest): Cand[] {
    const level = this.levels[id] as number;
    let near: Cand[] = [];
    if (this.entry < 0) {
      this.entry = id;
      this.entryLevel = level;
      return near;
    }
    const qo = id * dim;
    const dist: Dist = (n) => this.dist(data, dim, data, qo, n);
    const maxLevel = this.entryLevel;
    let cur: Cand = { dist: dist(this.entry), id: this.entry };
    for (let l = maxLevel; l > level; l--) cur = this.greedy(dist, cur, l);
    let eps: Cand[] = [cur];
    for (let l = Math.min(level, maxLevel); l >= 0; l--) {
      const found = this.searchLayer(dist, eps, this.params.efConstruction, l, () => true).filter(
        (c) => c.id !== id,
      );
      if (l === 0 && nearest) {
        near = found
          .filter((c) => nearest.accept(c.id))
          .slice(0, nearest.k)
          .map((c) => ({ dist: -c.dist, id: c.id }));
      }
      const chosen = this.select(data, dim, found, this.params.m);
      (this.links[id] as number[][])[l] = chosen.slice();
      const cap = this.maxLinks(l);
      for (const n of chosen) {
        const list = (this.links[n] as number[][])[l] as number[];
        if (list.includes(id)) continue;
        if (list.length < cap) {
          list.push(id);
        } else {
          const cands: Cand[] = [...list, id].map((x) => ({
            dist: this.dist(data, dim, data, n * dim, x),
            id: x,
          }));
          cands.sort((a, b) => a.dist - b.dist || a.id - b.id);
          (this.links[n] as number[][])[l] = this.select(data, dim, cands, cap);
        }
      }
      if (found.length > 0) eps = found;
    }
    if (level > maxLevel) {
      this.entry = id;
      this.entryLevel = level;
    }
    return near;
  }

  /**
   * The k accepted nodes nearest to the query, best first, by `dist` (the query's distance
   * to a node, lower nearer: minus an inner product), as (similarity, node) pairs.
   */
  search(dist: Dist, k: number, ef: number, accept: (id: number) => boolean): Cand[] {
    if (this.entry < 0) return [];
    let cur: Cand = { dist: dist(this.entry), id: this.entry };
    for (let l = this.entryLevel; l >= 1; l--) cur = this.greedy(dist, cur, l);
    return this.searchLayer(dist, [cur], Math.max(ef, k), 0, accept)
      .slice(0, k)
      .map((c) => ({ dist: -c.dist, id: c.id }));
  }
}
