//! Timings of the two exact-scan kernels on embedder vectors of a generated corpus, to
//! choose when codes pay off. Ignored by default; run with
//! `cargo test -p aios-carma --release exact_timings -- --ignored --nocapture`.

use std::time::Instant;

use crate::embed::embed_batch;
use crate::hnsw::splitmix64;
use crate::vector::{ExactPath, Metric, SearchOptions, VectorIndex, MAX_K};

const DIM: usize = 384;
const EXACT: SearchOptions = SearchOptions { exact: true, ef: 0 };

/// Texts over 50 topics with Zipf-like word frequencies, half topical and half common
/// words (the shape of the bench corpus).
pub(crate) fn corpus(count: usize, seed: u64, words: std::ops::Range<usize>) -> Vec<String> {
    const SYLLABLES: [&str; 20] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "do", "pa", "re", "li", "no", "ta", "mu",
        "se", "ga", "fi", "zo", "be",
    ];
    let vocab: Vec<String> = (0..6000usize)
        .map(|i| {
            let (mut w, mut x) = (String::new(), i + 7);
            for j in 0..2 + i % 3 {
                w.push_str(SYLLABLES[x % 20]);
                x = x / 20 + j * 3;
            }
            format!("{w}{}", i % 97)
        })
        .collect();
    let mut s = seed;
    let mut unit = move || {
        s = splitmix64(s);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let zipf = |n: usize, u: f64| ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1);
    (0..count)
        .map(|_| {
            let topic = (unit() * 50.0) as usize;
            let n = words.start + (unit() * words.len() as f64) as usize;
            (0..n)
                .map(|_| {
                    if unit() < 0.5 {
                        vocab[1000 + topic * 100 + zipf(100, unit())].as_str()
                    } else {
                        vocab[zipf(1000, unit())].as_str()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Median milliseconds of `f` over `runs` calls.
fn median_ms(runs: usize, mut f: impl FnMut(usize)) -> f64 {
    let mut t: Vec<f64> = (0..runs)
        .map(|i| {
            let start = Instant::now();
            f(i);
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

#[test]
#[ignore = "timings, not a check"]
fn exact_timings() {
    let nq = 100;
    let data = embed_batch(&corpus(100_000, 1, 8..41), DIM);
    let queries = embed_batch(&corpus(nq, 2, 4..13), DIM);
    for n in [1_000, 2_000, 4_000, 8_000, 16_000, 100_000] {
        let mut idx = VectorIndex::new(DIM, Metric::Dot, None).unwrap();
        let labels: Vec<u32> = (0..n as u32).collect();
        idx.add(&labels, &data[..n * DIM]).unwrap();
        for k in [10, n / 16, (n / 4).min(MAX_K)] {
            let q = |i: usize| &queries[(i % nq) * DIM..(i % nq + 1) * DIM];
            let single = |path| {
                median_ms(300, |i| {
                    idx.search_with(q(i), k, None, EXACT, path).unwrap();
                })
            };
            let batch = |path| {
                median_ms(5, |_| {
                    idx.search_with(&queries, k, None, EXACT, path).unwrap();
                })
            };
            let (f, c) = (single(ExactPath::Float), single(ExactPath::Codes));
            let (bf, bc) = (batch(ExactPath::Float), batch(ExactPath::Codes));
            println!(
                "n {n:>6} k {k:>5}: single f32 {f:.3} ms, codes {c:.3} ms ({:.1}x); \
                 batch{nq} f32 {bf:.2} ms, codes {bc:.2} ms ({:.1}x)",
                f / c,
                bf / bc
            );
        }
    }
}
