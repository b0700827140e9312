//! Exact top-k through the compact row codes. A first pass scores every row from its
//! `i8` code (a quarter of the bytes of the `f32` matrix, which is what bounds a scan's
//! speed) and brackets the `f32` score with the interval of `codes`. With `τ` the k-th
//! best lower bound, a row whose upper bound is below `τ` has k rows scoring strictly
//! more, so it cannot be in the top-k; every other row is rescored with the `f32` kernel.
//! The survivors hold the exact top-k, and ranking them with the same kernel and the same
//! tie-break (`topk`) gives bit for bit what the plain `f32` scan returns.

use std::ops::Range;

use rayon::prelude::*;

use crate::codes::{QueryCode, RowCodes};
use crate::simd::dot_fn;
use crate::simd_int::{dots, dots_at};
use crate::topk::{Hit, TopK};

/// Rows per kernel call: their integer scores sit in a small stack buffer.
const SUB_ROWS: usize = 256;
/// Rows per rayon task in a single-query scan (1.5 MB of codes at 384 dimensions).
const CHUNK_ROWS: usize = 4096;
/// Rows whose codes stay in cache while every query of a batch is scored against them.
const BATCH_ROWS: usize = 1024;

/// The index's rows as the scan needs them, all addressed by slot.
pub struct ScanRows<'a> {
    pub dim: usize,
    pub data: &'a [f32],
    pub labels: &'a [u32],
    pub alive: &'a [bool],
    pub codes: &'a RowCodes,
}

impl ScanRows<'_> {
    #[inline]
    fn row(&self, slot: usize) -> &[f32] {
        &self.data[slot * self.dim..(slot + 1) * self.dim]
    }
}

#[derive(Clone, Copy)]
struct Survivor {
    slot: u32,
    upper: f32,
}

/// One query's first pass over some rows: the k best lower bounds, and the rows whose
/// upper bound reached the k-th of them when they were seen (`τ` only rises, so the rows
/// dropped on the way would fail against the final `τ` too).
struct Sieve {
    lower: TopK,
    survivors: Vec<Survivor>,
}

impl Sieve {
    fn new(k: usize) -> Self {
        Self {
            lower: TopK::new(k),
            survivors: Vec::new(),
        }
    }

    #[inline]
    fn offer(&mut self, slot: u32, lower: f32, upper: f32) {
        let tau = self.lower.threshold().map(|t| t.score);
        if tau.is_some_and(|t| upper < t) {
            return;
        }
        self.survivors.push(Survivor { slot, upper });
        if tau.is_none_or(|t| lower > t) {
            self.lower.push(Hit {
                score: lower,
                id: slot,
            });
        }
    }

    fn scan_range(&mut self, rows: &ScanRows<'_>, query: &QueryCode, range: Range<usize>) {
        let (dim, codes, bounds) = (rows.dim, rows.codes.codes(), rows.codes.bounds());
        let mut scores = [0i32; SUB_ROWS];
        let mut start = range.start;
        while start < range.end {
            let end = (start + SUB_ROWS).min(range.end);
            let out = &mut scores[..end - start];
            dots(&query.codes, &codes[start * dim..end * dim], out);
            for (slot, &d) in (start..end).zip(out.iter()) {
                if rows.alive[slot] {
                    let (lo, hi) = query.interval(d, &bounds[slot]);
                    self.offer(slot as u32, lo, hi);
                }
            }
            start = end;
        }
    }

    /// `slots` are live.
    fn scan_slots(&mut self, rows: &ScanRows<'_>, query: &QueryCode, slots: &[u32]) {
        let bounds = rows.codes.bounds();
        let mut scores = [0i32; SUB_ROWS];
        for part in slots.chunks(SUB_ROWS) {
            let out = &mut scores[..part.len()];
            dots_at(&query.codes, rows.codes.codes(), part, out);
            for (&slot, &d) in part.iter().zip(out.iter()) {
                let (lo, hi) = query.interval(d, &bounds[slot as usize]);
                self.offer(slot, lo, hi);
            }
        }
    }

    fn merge(mut self, other: Sieve) -> Sieve {
        self.lower = self.lower.merge(other.lower);
        self.survivors.extend(other.survivors);
        self.prune();
        self
    }

    fn prune(&mut self) {
        if let Some(t) = self.lower.threshold() {
            self.survivors.retain(|s| s.upper >= t.score);
        }
    }

    /// The exact top-k: survivors rescored with the `f32` kernel, highest upper bound
    /// first so that the rest can be skipped once none can enter any more.
    fn rescore(mut self, rows: &ScanRows<'_>, q: &[f32], k: usize) -> TopK {
        self.prune();
        self.survivors
            .sort_unstable_by(|a, b| b.upper.total_cmp(&a.upper));
        let dot = dot_fn();
        let mut top = TopK::new(k);
        for s in self.survivors {
            if top.threshold().is_some_and(|t| s.upper < t.score) {
                break;
            }
            let slot = s.slot as usize;
            top.push(Hit {
                score: dot(q, rows.row(slot)),
                id: rows.labels[slot],
            });
        }
        top
    }
}

/// Exact top-k of `q` (encoded as `code`) over every live row.
pub fn top_k_all(
    rows: &ScanRows<'_>,
    q: &[f32],
    code: &QueryCode,
    k: usize,
    parallel: bool,
) -> TopK {
    let n = rows.alive.len();
    let sieve = |range: Range<usize>| {
        let mut s = Sieve::new(k);
        s.scan_range(rows, code, range);
        s
    };
    let sieve = if parallel && n > CHUNK_ROWS {
        (0..n.div_ceil(CHUNK_ROWS))
            .into_par_iter()
            .map(|c| sieve(c * CHUNK_ROWS..((c + 1) * CHUNK_ROWS).min(n)))
            .reduce(|| Sieve::new(k), Sieve::merge)
    } else {
        sieve(0..n)
    };
    sieve.rescore(rows, q, k)
}

/// Exact top-k of `q` over the live rows `slots`.
pub fn top_k_slots(
    rows: &ScanRows<'_>,
    q: &[f32],
    code: &QueryCode,
    k: usize,
    slots: &[u32],
    parallel: bool,
) -> TopK {
    let sieve = |part: &[u32]| {
        let mut s = Sieve::new(k);
        s.scan_slots(rows, code, part);
        s
    };
    let sieve = if parallel && slots.len() > CHUNK_ROWS {
        slots
            .par_chunks(CHUNK_ROWS)
            .map(sieve)
            .reduce(|| Sieve::new(k), Sieve::merge)
    } else {
        sieve(slots)
    };
    sieve.rescore(rows, q, k)
}

/// Exact top-k of each query (rows of `dim`, encoded as `codes`) over every live row:
/// rows are taken in blocks whose codes stay in cache while every query is scored
/// against them (blocks in parallel), then each query's survivors are rescored.
pub fn top_k_batch(
    rows: &ScanRows<'_>,
    queries: &[f32],
    codes: &[QueryCode],
    k: usize,
) -> Vec<TopK> {
    let n = rows.alive.len();
    let fresh = || codes.iter().map(|_| Sieve::new(k)).collect::<Vec<_>>();
    let sieves = (0..n.div_ceil(BATCH_ROWS))
        .into_par_iter()
        .fold(fresh, |mut sieves, b| {
            let range = b * BATCH_ROWS..((b + 1) * BATCH_ROWS).min(n);
            for (sieve, code) in sieves.iter_mut().zip(codes) {
                sieve.scan_range(rows, code, range.clone());
            }
            sieves
        })
        .reduce(fresh, |a, b| {
            a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect()
        });
    sieves
        .into_par_iter()
        .zip(queries.par_chunks(rows.dim))
        .map(|(sieve, q)| sieve.rescore(rows, q, k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::embed_batch;
    use crate::exact_timings::corpus;

    #[test]
    fn few_rows_survive_on_embedder_vectors() {
        let (n, dim, k) = (10_000, 384, 10);
        let data = embed_batch(&corpus(n, 1, 8..41), dim);
        let queries = embed_batch(&corpus(10, 2, 4..13), dim);
        let codes = RowCodes::build(&data, dim);
        let labels: Vec<u32> = (0..n as u32).collect();
        let alive = vec![true; n];
        let rows = ScanRows {
            dim,
            data: &data,
            labels: &labels,
            alive: &alive,
            codes: &codes,
        };
        let mut survivors = 0;
        for q in queries.chunks_exact(dim) {
            let code = QueryCode::new(q).unwrap();
            let mut sieve = Sieve::new(k);
            sieve.scan_range(&rows, &code, 0..n);
            sieve.prune();
            survivors += sieve.survivors.len();
        }
        // About 2·k per query on this corpus (17 at k = 10); a loose bound would let
        // thousands through.
        assert!(
            survivors <= 10 * 10 * k,
            "{survivors} survivors for 10 queries"
        );
    }
}
