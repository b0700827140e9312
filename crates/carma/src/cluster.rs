//! Spherical k-means with k-means++ seeding over unit vectors (similarity = inner
//! product), used by consolidation. Deterministic for a seed; assignment runs in parallel.

use rayon::prelude::*;

use crate::hnsw::splitmix64;
use crate::simd::{dot, normalize};
use aios_error::{AiosError, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    /// `k x dim`, unit length.
    pub centroids: Vec<f32>,
    /// Cluster of each row.
    pub assignments: Vec<u32>,
    /// Sum over rows of `1 - similarity` to their centroid.
    pub inertia: f64,
    pub iterations: u32,
}

struct Rng(u64);

impl Rng {
    /// Uniform in [0, 1).
    fn next(&mut self) -> f64 {
        self.0 = splitmix64(self.0);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn nearest(centroids: &[f32], dim: usize, row: &[f32]) -> (u32, f32) {
    let mut best = (0u32, f32::NEG_INFINITY);
    for (c, centroid) in centroids.chunks_exact(dim).enumerate() {
        let s = dot(row, centroid);
        if s > best.1 {
            best = (c as u32, s);
        }
    }
    best
}

/// Clusters the rows of `data` (`n x dim`) into `k` groups.
pub fn kmeans(data: &[f32], dim: usize, k: usize, max_iter: u32, seed: u64) -> Result<KMeans> {
    if dim == 0 || !data.len().is_multiple_of(dim) {
        return Err(AiosError::new(
            "DIMENSION_MISMATCH",
            format!(
                "data: expected a multiple of {dim} floats, got {}",
                data.len()
            ),
        ));
    }
    let n = data.len() / dim;
    if k == 0 || k > n {
        return Err(AiosError::invalid(format!(
            "k: expected an integer from 1 to the number of rows ({n}), got {k}"
        )));
    }
    if data.iter().any(|v| !v.is_finite()) {
        return Err(AiosError::invalid("data: expected finite numbers"));
    }
    let row = |i: usize| &data[i * dim..(i + 1) * dim];
    // k-means++: each next seed is drawn with probability proportional to its distance.
    let mut rng = Rng(seed);
    let mut centroids = Vec::with_capacity(k * dim);
    let first = ((rng.next() * n as f64) as usize).min(n - 1);
    centroids.extend_from_slice(row(first));
    let mut d2: Vec<f64> = (0..n)
        .map(|i| f64::from((1.0 - dot(row(i), row(first))).max(0.0)))
        .collect();
    while centroids.len() < k * dim {
        let total: f64 = d2.iter().sum();
        let pick = if total > 0.0 {
            let target = rng.next() * total;
            let mut acc = 0.0;
            let mut chosen = n - 1;
            for (i, d) in d2.iter().enumerate() {
                acc += d;
                if acc > target {
                    chosen = i;
                    break;
                }
            }
            chosen
        } else {
            ((rng.next() * n as f64) as usize).min(n - 1)
        };
        let c = row(pick).to_vec();
        for (i, d) in d2.iter_mut().enumerate() {
            let nd = f64::from((1.0 - dot(row(i), &c)).max(0.0));
            if nd < *d {
                *d = nd;
            }
        }
        centroids.extend_from_slice(&c);
    }
    let mut assignments = vec![u32::MAX; n];
    let mut iterations = 0;
    let mut inertia = 0.0;
    for _ in 0..max_iter.max(1) {
        iterations += 1;
        let next: Vec<(u32, f32)> = (0..n)
            .into_par_iter()
            .map(|i| nearest(&centroids, dim, row(i)))
            .collect();
        inertia = next.iter().map(|(_, s)| f64::from(1.0 - s)).sum();
        let changed = next
            .iter()
            .zip(&assignments)
            .filter(|((c, _), a)| c != *a)
            .count();
        for (a, (c, _)) in assignments.iter_mut().zip(&next) {
            *a = *c;
        }
        let mut sums = vec![0f64; k * dim];
        let mut counts = vec![0usize; k];
        for (i, &c) in assignments.iter().enumerate() {
            counts[c as usize] += 1;
            let base = c as usize * dim;
            for (s, v) in sums[base..base + dim].iter_mut().zip(row(i)) {
                *s += f64::from(*v);
            }
        }
        for c in 0..k {
            if counts[c] == 0 {
                continue; // an empty cluster keeps its centroid
            }
            let centroid = &mut centroids[c * dim..(c + 1) * dim];
            for (o, s) in centroid.iter_mut().zip(&sums[c * dim..(c + 1) * dim]) {
                *o = *s as f32;
            }
            normalize(centroid);
        }
        if changed == 0 {
            break;
        }
    }
    Ok(KMeans {
        centroids,
        assignments,
        inertia,
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_clear_groups_deterministically() {
        let dim = 8;
        let mut data = Vec::new();
        for g in 0..3 {
            for i in 0..20 {
                let mut v = vec![0.05f32 * (i % 3) as f32; dim];
                v[g * 2] = 1.0;
                normalize(&mut v);
                data.extend(v);
            }
        }
        let a = kmeans(&data, dim, 3, 50, 9).unwrap();
        assert_eq!(a, kmeans(&data, dim, 3, 50, 9).unwrap());
        for g in 0..3 {
            let first = a.assignments[g * 20];
            assert!(a.assignments[g * 20..(g + 1) * 20]
                .iter()
                .all(|c| *c == first));
        }
        assert_ne!(a.assignments[0], a.assignments[20]);
        assert!(kmeans(&data, dim, 0, 10, 1).is_err());
        assert!(kmeans(&data, dim, 61, 10, 1).is_err());
    }
}
