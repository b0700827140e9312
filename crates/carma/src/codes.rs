//! Compact codes of the stored rows, and the interval that brackets a row's exact score
//! from its code. Exact search scans these codes (a quarter of the bytes of the `f32`
//! matrix) and rescores only the rows the intervals cannot rule out (see `code_scan`).
//!
//! Row `x` (as stored, `f32`) is kept as `x̂ = s·c`: `c` in `i8` (−127..=127), `s` the row's
//! largest magnitude / 127. The query `q` (as searched, `f32`) becomes `q̂ = t·p` with
//! `p` in `i16` and as fine a step `t` as an exact `i32` sum allows. `I = p·c` is exact
//! (integer arithmetic), so `Â = t·s·I = q̂·x̂` is known up to the rounding of two products.
//!
//! Why the interval holds. Let `S` be the score the `f32` kernel computes for the row
//! (what the plain scan ranks by) and `T = q·x` in real arithmetic. Then
//!
//! - `T − Â = q·(x − x̂) + (q − q̂)·x̂`, so by Cauchy–Schwarz
//!   `|T − Â| ≤ ‖q‖·‖x − x̂‖ + ‖q − q̂‖·‖x̂‖`;
//! - `|S − T| ≤ γ·Σ|qᵢxᵢ| ≤ γ·‖q‖·‖x‖` for any summation order, `γ = dim·u/(1 − dim·u)`,
//!   `u = 2⁻²⁴` (plus an absolute `dim·2⁻¹⁵⁰` when products fall into the subnormals);
//! - the computed `A = fl(fl(t·s)·fl(I))` is within `3.01u·|Â| ≤ 3.01u·‖q̂‖·‖x̂‖` of `Â`.
//!
//! With `e = ‖x − x̂‖`, `n ≥ max(‖x‖, ‖x̂‖)` stored per row (both rounded up), and
//! `ē = ‖q − q̂‖`, `m ≥ max(‖q‖, ‖q̂‖)` per query:
//! `|S − A| ≤ m·e + (ē + ε·m)·n` with `ε = 2·(dim + 16)·u`, which exceeds `γ + 3.01u` by
//! more than the rounding of `A ± slack` itself (≤ `u·(|A| + slack)` ≤ `3.2u·m·n`). The
//! per-query factors are inflated by `2⁻¹²` to cover the rounding of the slack's own
//! products and sum, and `ABS_SLACK = 2⁻¹⁰⁰` covers every subnormal effect
//! (≤ `2⁻¹³²` in total). Hence `A − slack ≤ S ≤ A + slack`.
//!
//! Magnitudes are kept where none of this under- or overflows: rows and queries whose
//! largest magnitude is outside `[2⁻⁴⁰, 2⁴⁰]` get no bound (rows: an infinite slack, so
//! they are always rescored; queries: the search uses the `f32` scan). Zero rows score
//! exactly zero, which their zero code and zero bounds express.

use rayon::prelude::*;

use crate::vector::MappedCodes;

/// Smallest and largest row/query magnitudes with a bound: all products, norms and
/// slacks then stay normal and finite in `f32` (`2⁸⁰·dim` at most).
const SAFE_MIN: f32 = 1.0 / (1u64 << 40) as f32;
const SAFE_MAX: f32 = (1u64 << 40) as f32;
/// Covers subnormal rounding in the kernels and in the slack (see the module docs).
const ABS_SLACK: f32 = 1.0 / (1u128 << 100) as f32;
const ROW_LEVELS: f32 = 127.0;
/// Rows encoded per rayon task when many are encoded at once.
const ENCODE_CHUNK: usize = 1024;

/// Per-row scale and bound terms (12 bytes next to the row's `dim` code bytes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowBound {
    /// `x̂ = scale · code`.
    pub scale: f32,
    /// `≥ ‖x − x̂‖` (infinite when the row has no bound).
    pub err: f32,
    /// `≥ max(‖x‖, ‖x̂‖)`.
    pub norm: f32,
}

/// The smallest `f32` not below `v`.
fn f32_up(v: f64) -> f32 {
    let f = v as f32;
    if f64::from(f) < v {
        f.next_up()
    } else {
        f
    }
}

/// Relative inflation covering the `f64` evaluation of a norm over at most 2^16 terms
/// (each step within 2⁻⁵³, far below 2⁻³⁰ in total).
const F64_SLACK: f64 = 1.0 + 1.0 / (1u64 << 30) as f64;

/// Independent accumulators of the row loops below: kept in vector registers, where one
/// running sum would make every step wait for the one before (and stay scalar).
const LANES: usize = 8;
/// `1.5 · 2²³`: added to an `f32` `x` of magnitude below `2²²`, it leaves `round(x)`
/// (ties to even) in the low bits of the sum, `ROUNDING_BITS` above its own: rounding
/// and conversion in integer vector steps, not a call and a checked conversion per element.
const ROUNDING: f32 = 12_582_912.0;
const ROUNDING_BITS: i32 = 0x4B40_0000;

#[inline(always)]
fn max_abs(v: &[f32]) -> f32 {
    let mut lanes = [0f32; LANES];
    let mut chunks = v.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (m, x) in lanes.iter_mut().zip(chunk) {
            *m = m.max(x.abs());
        }
    }
    let rest = chunks.remainder().iter().fold(0f32, |m, x| m.max(x.abs()));
    lanes.iter().fold(rest, |m, &x| m.max(x))
}

/// The code of `v` at `scale`, and `(v − scale·q)²` and `v²` in `f64` (`scale · q` is
/// exact in `f64`: 24-bit by 8-bit significands).
#[inline(always)]
fn quantize(v: f32, scale: f32) -> (i8, f64, f64) {
    // `|v / scale| ≤ 127` (scale is the row's largest magnitude / 127), up to rounding;
    // whatever else comes out (a NaN) is clamped like any other code.
    let q = ((v / scale + ROUNDING).to_bits() as i32 - ROUNDING_BITS).clamp(-127, 127);
    let e = f64::from(v) - f64::from(scale) * f64::from(q);
    (q as i8, e * e, f64::from(v) * f64::from(v))
}

/// Encodes `row` into `code` (same length) and returns its bound terms.
#[inline(always)]
fn encode_row(row: &[f32], code: &mut [i8]) -> RowBound {
    let max = max_abs(row);
    if max == 0.0 {
        code.fill(0);
        return RowBound {
            scale: 0.0,
            err: 0.0,
            norm: 0.0,
        };
    }
    if !(SAFE_MIN..=SAFE_MAX).contains(&max) {
        code.fill(0);
        return RowBound {
            scale: 0.0,
            err: f32::INFINITY,
            norm: f32::INFINITY,
        };
    }
    let scale = max / ROW_LEVELS;
    // Summed in lanes: any order of the terms is within `F64_SLACK`.
    let (mut err2, mut norm2) = ([0f64; LANES], [0f64; LANES]);
    let mut values = row.chunks_exact(LANES);
    let mut codes = code.chunks_exact_mut(LANES);
    for (vs, cs) in (&mut values).zip(&mut codes) {
        for i in 0..LANES {
            let (c, e2, n2) = quantize(vs[i], scale);
            cs[i] = c;
            err2[i] += e2;
            norm2[i] += n2;
        }
    }
    for (c, &v) in codes.into_remainder().iter_mut().zip(values.remainder()) {
        let (q, e2, n2) = quantize(v, scale);
        *c = q;
        err2[0] += e2;
        norm2[0] += n2;
    }
    let (err2, norm2): (f64, f64) = (err2.iter().sum(), norm2.iter().sum());
    let err = err2.sqrt() * F64_SLACK;
    RowBound {
        scale,
        err: f32_up(err),
        norm: f32_up((norm2.sqrt() * F64_SLACK + err) * F64_SLACK),
    }
}

/// Encodes rows of `dim` into `codes` and `bounds` (as many rows as `bounds` holds).
#[inline(always)]
fn encode_rows_with(rows: &[f32], dim: usize, codes: &mut [i8], bounds: &mut [RowBound]) {
    for ((row, code), bound) in rows
        .chunks_exact(dim)
        .zip(codes.chunks_exact_mut(dim))
        .zip(bounds.iter_mut())
    {
        *bound = encode_row(row, code);
    }
}

/// The same loop compiled for AVX2: twice the lanes of the baseline's SSE2. (No fused
/// multiply-adds: Rust never contracts `a * b + c`, so the codes and bounds are the same.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn encode_rows_avx2(rows: &[f32], dim: usize, codes: &mut [i8], bounds: &mut [RowBound]) {
    encode_rows_with(rows, dim, codes, bounds);
}

type EncodeRowsFn = fn(&[f32], usize, &mut [i8], &mut [RowBound]);

/// The row encoder for this CPU.
fn encode_rows_fn() -> EncodeRowsFn {
    static CHOSEN: std::sync::OnceLock<EncodeRowsFn> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports the feature the function was compiled for.
                return |rows, dim, codes, bounds| unsafe {
                    encode_rows_avx2(rows, dim, codes, bounds)
                };
            }
        }
        encode_rows_with
    })
}

/// Codes and bound terms of every stored row, by slot (tombstoned slots included):
/// `dim + 12` bytes a row, +25.8% over the `f32` matrix at 384 dimensions.
pub struct RowCodes {
    dim: usize,
    codes: CodeBytes,
    bounds: Vec<RowBound>,
}

/// The codes: memory of their own, or the codes section of the index file they were
/// loaded from, mapped read-only, so that a process holds only the codes its searches
/// read (a graph search, those of the nodes it visits). The first change copies them.
enum CodeBytes {
    Owned(Vec<i8>),
    Mapped(MappedCodes),
}

impl CodeBytes {
    /// The codes as memory of their own, copied out of the file on the first call.
    fn owned(&mut self) -> &mut Vec<i8> {
        if let Self::Mapped(m) = self {
            *self = Self::Owned(m.copy());
        }
        match self {
            Self::Owned(v) => v,
            Self::Mapped(_) => unreachable!("copied above"),
        }
    }
}

impl RowCodes {
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            codes: CodeBytes::Owned(Vec::new()),
            bounds: Vec::new(),
        }
    }

    /// Codes and bounds as an index file holds them (rows of `dim`, one bound each).
    pub fn from_parts(dim: usize, codes: Vec<i8>, bounds: Vec<RowBound>) -> Option<Self> {
        (codes.len() == bounds.len() * dim).then_some(Self {
            dim,
            codes: CodeBytes::Owned(codes),
            bounds,
        })
    }

    /// Codes read from a mapped index file, and their bounds.
    pub fn from_mapped(dim: usize, codes: MappedCodes, bounds: Vec<RowBound>) -> Option<Self> {
        (codes.values().len() == bounds.len() * dim).then_some(Self {
            dim,
            codes: CodeBytes::Mapped(codes),
            bounds,
        })
    }

    /// The mapping the codes are read from, if they are mapped.
    pub fn mapped(&self) -> Option<MappedCodes> {
        match &self.codes {
            CodeBytes::Mapped(m) => Some(m.clone()),
            CodeBytes::Owned(_) => None,
        }
    }

    /// Takes `copy` (made from `from` with no lock held) as the codes if they are still
    /// mapped from `from`.
    pub fn adopt(&mut self, from: &MappedCodes, copy: Vec<i8>) {
        if matches!(&self.codes, CodeBytes::Mapped(m) if m.same(from)) {
            self.codes = CodeBytes::Owned(copy);
        }
    }

    /// Codes of every row of `data` (rows of `dim`).
    pub fn build(data: &[f32], dim: usize) -> Self {
        let mut codes = Self::new(dim);
        codes.extend(data);
        codes
    }

    /// Makes room for `rows` more rows at once (a load knows how many it reads), so that
    /// the codes are one allocation, not a series of copies as they grow.
    pub fn reserve(&mut self, rows: usize) {
        self.codes.owned().reserve(rows * self.dim);
        self.bounds.reserve(rows);
    }

    /// Appends the codes of `rows` (rows of `dim`), in parallel when there are many.
    pub fn extend(&mut self, rows: &[f32]) {
        let dim = self.dim;
        let n = rows.len() / dim;
        let from = self.bounds.len();
        let own = self.codes.owned();
        own.resize((from + n) * dim, 0);
        self.bounds.resize(
            from + n,
            RowBound {
                scale: 0.0,
                err: 0.0,
                norm: 0.0,
            },
        );
        let codes = &mut own[from * dim..];
        let bounds = &mut self.bounds[from..];
        let encode_rows = encode_rows_fn();
        let encode = |(rows, (codes, bounds)): (&[f32], (&mut [i8], &mut [RowBound]))| {
            encode_rows(rows, dim, codes, bounds);
        };
        if n > ENCODE_CHUNK {
            rows.par_chunks(ENCODE_CHUNK * dim)
                .zip(
                    codes
                        .par_chunks_mut(ENCODE_CHUNK * dim)
                        .zip(bounds.par_chunks_mut(ENCODE_CHUNK)),
                )
                .for_each(encode);
        } else {
            encode((rows, (codes, bounds)));
        }
    }

    /// Keeps the rows whose `keep` flag is set, in order (what `compact` does to the rows).
    pub fn retain(&mut self, keep: &[bool]) {
        let dim = self.dim;
        let codes = self.codes.owned();
        let mut to = 0;
        for (from, &k) in keep.iter().enumerate() {
            if k {
                if from != to {
                    codes.copy_within(from * dim..(from + 1) * dim, to * dim);
                    self.bounds[to] = self.bounds[from];
                }
                to += 1;
            }
        }
        codes.truncate(to * dim);
        self.bounds.truncate(to);
    }

    pub fn codes(&self) -> &[i8] {
        match &self.codes {
            CodeBytes::Owned(v) => v,
            CodeBytes::Mapped(m) => m.values(),
        }
    }

    pub fn bounds(&self) -> &[RowBound] {
        &self.bounds
    }

    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }
}

/// A query's code and the factors of its score intervals.
pub struct QueryCode {
    pub codes: Vec<i16>,
    scale: f32,
    /// Slack = `alpha · row.err + beta · row.norm + ABS_SLACK` (see the module docs).
    alpha: f32,
    beta: f32,
}

impl QueryCode {
    /// The code of `q`, or `None` when its magnitude has no bound (zero, or outside
    /// `[2⁻⁴⁰, 2⁴⁰]`): such queries use the `f32` scan.
    pub fn new(q: &[f32]) -> Option<Self> {
        let dim = q.len();
        let max = max_abs(q);
        if dim == 0 || !(SAFE_MIN..=SAFE_MAX).contains(&max) {
            return None;
        }
        // The finest step that keeps every partial integer sum within i32.
        let levels = (i32::MAX as usize / (127 * dim)).min(i16::MAX as usize);
        if levels == 0 {
            return None;
        }
        let levels = levels as f32;
        let scale = max / levels;
        let (mut err2, mut norm2) = (0f64, 0f64);
        let codes = q
            .iter()
            .map(|&v| {
                let p = (v / scale).round().clamp(-levels, levels);
                let e = f64::from(v) - f64::from(scale) * f64::from(p);
                err2 += e * e;
                norm2 += f64::from(v) * f64::from(v);
                p as i16
            })
            .collect();
        let err = err2.sqrt() * F64_SLACK;
        let norm = (norm2.sqrt() * F64_SLACK + err) * F64_SLACK;
        let u = 1.0 / (1u64 << 24) as f64;
        let eps = 2.0 * (dim as f64 + 16.0) * u;
        let inflate = 1.0 + 1.0 / 4096.0;
        Some(Self {
            codes,
            scale,
            alpha: f32_up(norm * inflate),
            beta: f32_up((err + eps * norm) * inflate),
        })
    }

    /// The estimate of the row's score from its integer inner product `dot` (the middle
    /// of `interval`).
    #[inline]
    pub fn estimate(&self, dot: i32, row: &RowBound) -> f32 {
        (self.scale * row.scale) * dot as f32
    }

    /// `(lower, upper)` around the `f32` kernel's score of the row with integer inner
    /// product `dot` and bound terms `row`.
    #[inline]
    pub fn interval(&self, dot: i32, row: &RowBound) -> (f32, f32) {
        let approx = self.estimate(dot, row);
        let slack = self.alpha * row.err + self.beta * row.norm + ABS_SLACK;
        (approx - slack, approx + slack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hnsw::splitmix64;
    use crate::simd::dot;
    use crate::simd_int::dots;

    fn uniform(seed: &mut u64) -> f32 {
        *seed = splitmix64(*seed);
        (*seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }

    /// Checks `lower <= f32 score <= upper` for every (query, row) pair.
    fn check(rows: &[f32], queries: &[f32], dim: usize) -> usize {
        let codes = RowCodes::build(rows, dim);
        let mut checked = 0;
        for q in queries.chunks_exact(dim) {
            let Some(qc) = QueryCode::new(q) else {
                continue;
            };
            let n = rows.len() / dim;
            let mut out = vec![0i32; n];
            dots(&qc.codes, codes.codes(), &mut out);
            for (r, row) in rows.chunks_exact(dim).enumerate() {
                let s = dot(q, row);
                let (lo, hi) = qc.interval(out[r], &codes.bounds()[r]);
                assert!(lo <= s && s <= hi, "row {r}: {lo} <= {s} <= {hi}");
                checked += 1;
            }
        }
        checked
    }

    #[test]
    fn intervals_hold_for_random_and_adversarial_rows() {
        let mut seed = 5u64;
        for dim in [1usize, 3, 16, 37, 384] {
            let mut rows: Vec<f32> = (0..200 * dim).map(|_| uniform(&mut seed)).collect();
            // Magnitudes from tiny to huge, sparse rows, zero rows, constant rows.
            for (r, row) in rows.chunks_exact_mut(dim).enumerate() {
                let m = [1e-30, 1e-12, 1e-6, 1.0, 1e6, 1e12, 1e20][r % 7];
                row.iter_mut().for_each(|v| *v *= m);
                if r % 11 == 0 {
                    row.iter_mut().step_by(2).for_each(|v| *v = 0.0);
                }
                if r % 13 == 0 {
                    row.fill(0.0);
                }
                if r % 17 == 0 {
                    row.fill(0.3);
                }
            }
            let mut queries: Vec<f32> = rows[..40 * dim].to_vec();
            // Queries aligned with a row's quantisation error: Cauchy–Schwarz is tight.
            let codes = RowCodes::build(&rows, dim);
            for r in 0..20 {
                let b = codes.bounds()[r];
                queries.extend((0..dim).map(|i| {
                    let e = rows[r * dim + i] - b.scale * f32::from(codes.codes()[r * dim + i]);
                    if b.scale > 0.0 {
                        e / b.scale
                    } else {
                        0.0
                    }
                }));
            }
            assert!(check(&rows, &queries, dim) > 0);
        }
    }

    #[test]
    fn rows_without_a_bound_are_always_kept() {
        let rows = [1e-20f32, 0.0, 3e15, -1.0];
        let codes = RowCodes::build(&rows, 2);
        for b in codes.bounds() {
            assert_eq!(b.err, f32::INFINITY);
        }
        let qc = QueryCode::new(&[1.0, 2.0]).unwrap();
        let (lo, hi) = qc.interval(0, &codes.bounds()[0]);
        assert!(lo == f32::NEG_INFINITY && hi == f32::INFINITY);
        assert!(QueryCode::new(&[0.0, 0.0]).is_none());
        assert!(QueryCode::new(&[1e13, 0.0]).is_none());
        assert!(QueryCode::new(&[1e-13, 0.0]).is_none());
    }

    #[test]
    fn retain_keeps_rows_in_order() {
        let rows: Vec<f32> = (0..12).map(|i| i as f32 - 5.0).collect();
        let mut codes = RowCodes::build(&rows, 3);
        codes.retain(&[true, false, false, true]);
        let want = RowCodes::build(&[rows[..3].to_vec(), rows[9..].to_vec()].concat(), 3);
        assert_eq!(codes.codes(), want.codes());
        assert_eq!(codes.bounds(), want.bounds());
        assert_eq!(codes.len(), 2);
    }
}
