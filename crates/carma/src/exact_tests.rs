//! The exact search through codes returns what the plain `f32` scan returns: same labels,
//! same order, bit-identical scores, on data built to stress the bounds and the tie-break
//! (ties, duplicates, near-duplicates, extreme magnitudes), with deletes, replacements,
//! filters, batches, k beyond the row count, compaction and reloads.

use crate::codes::QueryCode;
use crate::hnsw::splitmix64;
use crate::simd::normalize;
use crate::vector::{ExactPath, Metric, SearchOptions, SearchResults, VectorIndex};

const EXACT: SearchOptions = SearchOptions { exact: true, ef: 0 };

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = splitmix64(self.0);
        self.0
    }
    /// Uniform in [-0.5, 0.5).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Uniform,
    /// Few centres plus small noise: many rows within the codes' error of the k-th score.
    Clustered,
    /// Entries in {-1, 0, 1} and repeated rows: exact score ties everywhere.
    Ties,
    /// Copies of a few rows moved by far less than a code step: identical codes, distinct
    /// exact scores.
    NearDuplicates,
    /// Zero rows, rows from 1e-30 to 1e18 (outside the bounded range too), sparse rows.
    Magnitudes,
}

const KINDS: [Kind; 5] = [
    Kind::Uniform,
    Kind::Clustered,
    Kind::Ties,
    Kind::NearDuplicates,
    Kind::Magnitudes,
];

fn rows(kind: Kind, n: usize, dim: usize, rng: &mut Rng) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n * dim).map(|_| rng.unit()).collect();
    match kind {
        Kind::Uniform => {}
        Kind::Clustered => {
            let centres: Vec<f32> = (0..4 * dim).map(|_| rng.unit()).collect();
            for row in v.chunks_exact_mut(dim) {
                let c = &centres[rng.below(4) * dim..][..dim];
                for (x, c) in row.iter_mut().zip(c) {
                    *x = c + 0.01 * *x;
                }
            }
        }
        Kind::Ties => {
            for x in &mut v {
                *x = (*x * 3.0).round();
            }
            for r in (1..n).step_by(3) {
                let src = rng.below(r);
                v.copy_within(src * dim..(src + 1) * dim, r * dim);
            }
        }
        Kind::NearDuplicates => {
            let base: Vec<f32> = v[..5 * dim].to_vec();
            for row in v.chunks_exact_mut(dim) {
                let b = &base[rng.below(5) * dim..][..dim];
                for (x, b) in row.iter_mut().zip(b) {
                    *x = b + 1e-6 * *x;
                }
            }
        }
        Kind::Magnitudes => {
            const SCALES: [f32; 9] = [0.0, 1e-30, 1e-13, 1e-10, 1e-3, 1.0, 1e10, 1e13, 1e18];
            for row in v.chunks_exact_mut(dim) {
                let s = SCALES[rng.below(SCALES.len())];
                let sparse = rng.below(3) == 0;
                for (i, x) in row.iter_mut().enumerate() {
                    *x = if sparse && i % 4 != 0 { 0.0 } else { *x * s };
                }
            }
        }
    }
    v
}

/// Queries: some stored rows, fresh random ones, and (under dot) extreme magnitudes, a
/// zero query and a one-hot query.
fn queries(data: &[f32], dim: usize, metric: Metric, rng: &mut Rng) -> Vec<f32> {
    let n = data.len() / dim;
    let mut q = Vec::new();
    for _ in 0..3 {
        let r = rng.below(n);
        q.extend_from_slice(&data[r * dim..(r + 1) * dim]);
    }
    for _ in 0..3 {
        q.extend((0..dim).map(|_| rng.unit()));
    }
    let mut one_hot = vec![0.0; dim];
    one_hot[rng.below(dim)] = 1.0;
    q.extend(one_hot);
    if metric == Metric::Dot {
        for s in [1e-20f32, 1e-12, 1e12, 1e15] {
            q.extend((0..dim).map(|_| rng.unit() * s));
        }
        q.extend(std::iter::repeat_n(0.0, dim));
    }
    q
}

fn bits(r: &SearchResults) -> (Vec<u32>, Vec<u32>) {
    (
        r.labels.clone(),
        r.scores.iter().map(|s| s.to_bits()).collect(),
    )
}

/// The queries that have a code (a batch holding any other is scanned in `f32`).
fn encodable(idx: &VectorIndex, queries: &[f32]) -> Vec<f32> {
    queries
        .chunks_exact(idx.dim)
        .filter(|q| {
            let mut q = q.to_vec();
            if idx.metric == Metric::Cosine {
                normalize(&mut q);
            }
            QueryCode::new(&q).is_some()
        })
        .flatten()
        .copied()
        .collect()
}

/// Every query alone and all together (and the encodable ones together), with and
/// without `filter`, through both kernels.
fn assert_same(idx: &VectorIndex, queries: &[f32], k: usize, filter: Option<&[u32]>) {
    let search = |q: &[f32], f: Option<&[u32]>, path| idx.search_with(q, k, f, EXACT, path);
    let coded = encodable(idx, queries);
    assert!(coded.len() >= 2 * idx.dim, "too few encodable queries");
    for f in [None, filter] {
        for batch in [queries, &coded] {
            let want = search(batch, f, ExactPath::Float).unwrap();
            for path in [ExactPath::Codes, ExactPath::Auto] {
                let got = search(batch, f, path).unwrap();
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "batch, {path:?}, filter {}",
                    f.is_some()
                );
            }
        }
        let want = search(queries, f, ExactPath::Float).unwrap();
        for (qi, q) in queries.chunks_exact(idx.dim).enumerate() {
            let got = search(q, f, ExactPath::Codes).unwrap();
            assert_eq!(
                bits(&got),
                (
                    want.labels[qi * k..(qi + 1) * k].to_vec(),
                    want.scores[qi * k..(qi + 1) * k]
                        .iter()
                        .map(|s| s.to_bits())
                        .collect()
                ),
                "query {qi}, filter {}",
                f.is_some()
            );
        }
    }
}

fn build(metric: Metric, dim: usize, data: &[f32], labels: &[u32]) -> VectorIndex {
    let mut idx = VectorIndex::new(dim, metric, None).unwrap();
    idx.add(labels, data).unwrap();
    idx
}

#[test]
fn codes_match_the_f32_scan_on_adversarial_data() {
    let mut rng = Rng(42);
    for metric in [Metric::Dot, Metric::Cosine] {
        for kind in KINDS {
            for (n, dim) in [(500, 1), (700, 5), (400, 33), (200, 384)] {
                let data = rows(kind, n, dim, &mut rng);
                let labels: Vec<u32> = (0..n as u32).map(|i| i * 7 + 3).collect();
                let idx = build(metric, dim, &data, &labels);
                let q = queries(&data, dim, metric, &mut rng);
                let filter: Vec<u32> = (0..n / 3).map(|_| labels[rng.below(n)]).collect();
                for k in [1, 10, n + 5] {
                    assert_same(&idx, &q, k, Some(&filter));
                }
            }
        }
    }
}

#[test]
fn codes_match_after_deletes_replacements_compaction_and_reload() {
    let mut rng = Rng(7);
    for metric in [Metric::Dot, Metric::Cosine] {
        for kind in KINDS {
            let (n, dim) = (3000, 24);
            let data = rows(kind, n, dim, &mut rng);
            let labels: Vec<u32> = (0..n as u32).collect();
            let mut idx = build(metric, dim, &data[..2000 * dim], &labels[..2000]);
            // Replace some labels with other rows, delete others (fewer than half, so the
            // tombstones stay in the matrix), then add the rest.
            let replaced: Vec<u32> = (0..200).map(|i| i * 5).collect();
            idx.add(&replaced, &data[2000 * dim..2200 * dim]).unwrap();
            let deleted: Vec<u32> = (0..300).map(|i| i * 3 + 1).collect();
            idx.remove(&deleted);
            idx.add(&labels[2200..], &data[2200 * dim..]).unwrap();
            assert!(idx.slots() > idx.len());
            let q = queries(&data, dim, metric, &mut rng);
            // Filters naming deleted, replaced, unknown and repeated labels.
            let mut filter: Vec<u32> = deleted[..50].to_vec();
            filter.extend_from_slice(&replaced[..50]);
            filter.extend((0..1500).map(|_| rng.below(n + 100) as u32));
            filter.extend_from_slice(&replaced[..10]);
            for k in [1, 10, 500] {
                assert_same(&idx, &q, k, Some(&filter));
            }
            let got = idx.search(&q, 10, None, EXACT).unwrap();
            assert!(got.labels.iter().all(|l| !deleted.contains(l)));

            let bytes = idx.to_bytes();
            let back = VectorIndex::from_bytes(&bytes).unwrap();
            assert_same(&back, &q, 10, Some(&filter));
            assert_eq!(
                bits(
                    &back
                        .search_with(&q, 10, None, EXACT, ExactPath::Codes)
                        .unwrap()
                ),
                bits(&got)
            );
            idx.compact();
            assert_eq!(idx.slots(), idx.len());
            assert_same(&idx, &q, 10, Some(&filter));
            assert_eq!(
                bits(
                    &idx.search_with(&q, 10, None, EXACT, ExactPath::Codes)
                        .unwrap()
                ),
                bits(&got)
            );
        }
    }
}

#[test]
fn codes_match_across_parallel_chunks_and_batches() {
    // Enough rows for several rayon tasks per query and several batch blocks, enough
    // allowed labels for a parallel filtered scan, and the automatic kernel choice.
    let mut rng = Rng(99);
    for kind in [Kind::Clustered, Kind::Ties, Kind::Magnitudes] {
        let (n, dim) = (12_000, 16);
        let data = rows(kind, n, dim, &mut rng);
        let labels: Vec<u32> = (0..n as u32).rev().collect();
        let idx = build(Metric::Dot, dim, &data, &labels);
        let q = queries(&data, dim, Metric::Dot, &mut rng);
        let filter: Vec<u32> = (0..n as u32).filter(|l| l % 3 != 0).collect();
        for k in [1, 10, 300] {
            assert_same(&idx, &q, k, Some(&filter));
        }
    }
}

#[test]
fn k_beyond_the_rows_pads_like_the_f32_scan() {
    let mut rng = Rng(3);
    let dim = 9;
    let data = rows(Kind::Ties, 40, dim, &mut rng);
    let labels: Vec<u32> = (0..40).collect();
    let mut idx = build(Metric::Dot, dim, &data, &labels);
    idx.remove(&[0, 1, 2]);
    let q = &data[..dim];
    let got = idx
        .search_with(q, 50, None, EXACT, ExactPath::Codes)
        .unwrap();
    assert_eq!(got.labels[37..], [u32::MAX; 13]);
    assert!(got.scores[37..].iter().all(|s| *s == f32::NEG_INFINITY));
    assert_same(&idx, &data, 50, Some(&[5, 6, 7, 0]));
}
