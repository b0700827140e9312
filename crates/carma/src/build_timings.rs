//! Timings of the graph build on embedder vectors of a generated corpus (batches of 5,000
//! appended and linked, as a memory's adds do), with the recall of the graph it builds.
//! Ignored by default; run with
//! `cargo test -p aios-carma --release build_timings -- --ignored --nocapture`.

use std::time::Instant;

use crate::embed::embed_batch;
use crate::exact_timings::corpus;
use crate::hnsw::HnswParams;
use crate::vector::{Metric, SearchOptions, VectorIndex};

const DIM: usize = 384;

#[test]
#[ignore = "timings, not a check"]
fn build_timings() {
    let n = 100_000;
    let data = embed_batch(&corpus(n, 1, 8..41), DIM);
    let queries = embed_batch(&corpus(200, 2, 4..13), DIM);
    let params = HnswParams {
        m: 16,
        ef_construction: std::env::var("EFC").map_or(100, |v| v.parse().unwrap()),
        seed: 42,
    };
    let mut idx = VectorIndex::new(DIM, Metric::Dot, Some(params)).unwrap();
    let start = Instant::now();
    for at in (0..n).step_by(5_000) {
        let labels: Vec<u32> = (at as u32..(at + 5_000) as u32).collect();
        let pending = idx
            .append(&labels, &data[at * DIM..(at + 5_000) * DIM])
            .unwrap()
            .unwrap();
        idx.link(&pending, 4);
    }
    let secs = start.elapsed().as_secs_f64();
    let mut hits = 0;
    for qi in 0..200 {
        let q = &queries[qi * DIM..(qi + 1) * DIM];
        let exact = idx
            .search(q, 10, None, SearchOptions { exact: true, ef: 0 })
            .unwrap();
        let approx = idx
            .search(
                q,
                10,
                None,
                SearchOptions {
                    exact: false,
                    ef: 64,
                },
            )
            .unwrap();
        hits += approx
            .labels
            .iter()
            .filter(|l| exact.labels.contains(l))
            .count();
    }
    println!(
        "efC {}: {n} rows in {secs:.2} s ({:.0}/s), recall@10 at ef 64 {:.3}",
        params.ef_construction,
        n as f64 / secs,
        hits as f64 / 2000.0
    );
}
