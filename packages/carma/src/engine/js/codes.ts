/**
 * The int8 codes of crates/carma/src/codes.rs, computed alike (the same bytes and the same
 * `f32` arithmetic), so that a graph walk measured by them visits the same nodes in both
 * implementations. Natively the codes are kept beside the rows; here a row's code is made
 * the first time a search measures it.
 */

const ROW_LEVELS = 127;
/** Magnitudes with a bound (see codes.rs): rows outside get no code, queries none. */
const SAFE_MIN = 2 ** -40;
const SAFE_MAX = 2 ** 40;
const I32_MAX = 2 ** 31 - 1;
const I16_MAX = 2 ** 15 - 1;

/** Rust's `f32::round`: halves away from zero. */
function round(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function maxAbs(v: Float32Array, at: number, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(v[at + i] as number);
    if (a > m) m = a;
  }
  return m;
}

/** A query's code and step (`QueryCode` in codes.rs). */
export interface QueryCode {
  readonly codes: Int16Array;
  readonly scale: number;
}

/** The code of the query at `q[at..at + dim]`, or null when its magnitude has no bound. */
export function queryCode(q: Float32Array, at: number, dim: number): QueryCode | null {
  const max = maxAbs(q, at, dim);
  if (dim === 0 || !(max >= SAFE_MIN && max <= SAFE_MAX)) return null;
  const levels = Math.min(Math.floor(I32_MAX / (127 * dim)), I16_MAX);
  if (levels === 0) return null;
  const scale = Math.fround(max / levels);
  const codes = new Int16Array(dim);
  for (let i = 0; i < dim; i++) {
    const p = round(Math.fround((q[at + i] as number) / scale));
    codes[i] = Math.min(Math.max(p, -levels), levels);
  }
  return { codes, scale };
}

/** Row codes by slot, each made on first use; `reset` after the slots are renumbered. */
export class LazyRowCodes {
  private codes = new Int8Array(0);
  private scales = new Float32Array(0);
  private made = new Uint8Array(0);

  constructor(private readonly dim: number) {}

  reset(): void {
    this.made.fill(0);
  }

  /** `QueryCode::estimate` of the row at `slot` of `data`: the walk's inner product. */
  estimate(q: QueryCode, data: Float32Array, slot: number): number {
    const dim = this.dim;
    if (slot >= this.made.length) this.grow(slot + 1);
    if (this.made[slot] !== 1) this.encode(data, slot);
    const at = slot * dim;
    const codes = this.codes;
    const p = q.codes;
    // Integer sums are exact in any order (within 2^53): four at once.
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    let i = 0;
    for (; i + 3 < dim; i += 4) {
      d0 += (p[i] as number) * (codes[at + i] as number);
      d1 += (p[i + 1] as number) * (codes[at + i + 1] as number);
      d2 += (p[i + 2] as number) * (codes[at + i + 2] as number);
      d3 += (p[i + 3] as number) * (codes[at + i + 3] as number);
    }
    for (; i < dim; i++) d0 += (p[i] as number) * (codes[at + i] as number);
    const dot = d0 + d1 + d2 + d3;
    return Math.fround(Math.fround(q.scale * (this.scales[slot] as number)) * Math.fround(dot));
  }

  private grow(slots: number): void {
    const size = Math.max(slots, this.made.length * 2, 64);
    const codes = new Int8Array(size * this.dim);
    codes.set(this.codes);
    const scales = new Float32Array(size);
    scales.set(this.scales);
    const made = new Uint8Array(size);
    made.set(this.made);
    this.codes = codes;
    this.scales = scales;
    this.made = made;
  }

  /** `encode_row` of codes.rs (the code and its scale; the bound terms are not needed). */
  private encode(data: Float32Array, slot: number): void {
    const dim = this.dim;
    const at = slot * dim;
    const max = maxAbs(data, at, dim);
    const bounded = max >= SAFE_MIN && max <= SAFE_MAX;
    const scale = bounded ? Math.fround(max / ROW_LEVELS) : 0;
    for (let i = 0; i < dim; i++) {
      const c = bounded ? round(Math.fround((data[at + i] as number) / scale)) : 0;
      this.codes[at + i] = Math.min(Math.max(c, -ROW_LEVELS), ROW_LEVELS);
    }
    this.scales[slot] = scale;
    this.made[slot] = 1;
  }
}
