import { checkKMeans } from '../checks.js';
import type { KMeansResult } from '../types.js';
import { dotAt, splitmix64 } from './hnsw.js';

function normalize(v: Float32Array, offset: number, dim: number): void {
  let sq = 0;
  for (let i = 0; i < dim; i++) sq += (v[offset + i] as number) ** 2;
  if (sq > 0) {
    const inv = Math.fround(1 / Math.sqrt(sq));
    for (let i = 0; i < dim; i++) v[offset + i] = (v[offset + i] as number) * inv;
  }
}

/** Spherical k-means with k-means++ seeding: the algorithm of crates/carma/src/cluster.rs. */
export function kmeans(
  data: Float32Array,
  dim: number,
  k: number,
  maxIter: number,
  seed: number,
): KMeansResult {
  const n = checkKMeans(data, dim, k, maxIter, seed);
  let state = BigInt(seed >>> 0);
  const next = () => {
    state = splitmix64(state);
    return Number(state >> 11n) / 2 ** 53;
  };
  const centroids = new Float32Array(k * dim);
  const first = Math.min(Math.floor(next() * n), n - 1);
  centroids.set(data.subarray(first * dim, (first + 1) * dim), 0);
  const d2 = new Float64Array(n);
  for (let i = 0; i < n; i++)
    d2[i] = Math.max(0, Math.fround(1 - dotAt(data, i * dim, data, first * dim, dim)));
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (const d of d2) total += d;
    let pick = n - 1;
    if (total > 0) {
      const target = next() * total;
      let acc = 0;
      for (let i = 0; i < n; i++) {
        acc += d2[i] as number;
        if (acc > target) {
          pick = i;
          break;
        }
      }
    } else {
      pick = Math.min(Math.floor(next() * n), n - 1);
    }
    centroids.set(data.subarray(pick * dim, (pick + 1) * dim), c * dim);
    for (let i = 0; i < n; i++) {
      const nd = Math.max(0, Math.fround(1 - dotAt(data, i * dim, centroids, c * dim, dim)));
      if (nd < (d2[i] as number)) d2[i] = nd;
    }
  }
  const assignments = new Uint32Array(n).fill(0xffffffff);
  let iterations = 0;
  let inertia = 0;
  for (let it = 0; it < Math.max(1, maxIter); it++) {
    iterations++;
    inertia = 0;
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        const s = dotAt(data, i * dim, centroids, c * dim, dim);
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      inertia += 1 - bestScore;
      if (assignments[i] !== best) changed++;
      assignments[i] = best;
    }
    const sums = new Float64Array(k * dim);
    const counts = new Uint32Array(k);
    for (let i = 0; i < n; i++) {
      const c = assignments[i] as number;
      counts[c] = (counts[c] as number) + 1;
      for (let j = 0; j < dim; j++)
        sums[c * dim + j] = (sums[c * dim + j] as number) + (data[i * dim + j] as number);
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      for (let j = 0; j < dim; j++) centroids[c * dim + j] = sums[c * dim + j] as number;
      normalize(centroids, c * dim, dim);
    }
    if (changed === 0) break;
  }
  return { centroids, assignments, inertia, iterations };
}
