/**
 * Rows kept beside a vector index read from its file. Natively, adding even one row to
 * such an index copies every row, code and graph link out of the mapping into memory of
 * its own (about 100 ms and 140 MB at 100k fragments, 2.2 GB at 1M). So the few rows a
 * process changes while the file's index serves it (the changes an open replays, a note
 * added at the prompt) go into a small index of their own, searched exactly beside the
 * file's, with the two top-k lists merged (`SearchIndexes`).
 */
import { type Hits, NO_LABEL, type VectorIndex, type VectorSearchOptions } from './engine/index.js';

/**
 * The most rows kept beside an index read from its file: the changes an open replays, and
 * those a process writes after (a server between checkpoints, an ingest of a folder). An
 * exact scan of 2,048 rows of 384 dimensions takes 68 µs natively and 1.1 ms in the js
 * implementation (256: 65 and 206 µs), against the copy of every row that adding to the
 * file's index makes.
 */
export const BESIDE_MAX = 2048;

/** The rows of `labels` in `index`, one after another. */
export function rowsOf(index: VectorIndex, labels: Uint32Array): Float32Array {
  const rows = new Float32Array(labels.length * index.dimension);
  labels.forEach((label, i) => {
    const row = index.get(label);
    if (row) rows.set(row, i * index.dimension);
  });
  return rows;
}

/**
 * Per query of `queries`, the `k` best of two searches' hits (each padded with NO_LABEL,
 * `a.labels.length / queries` and `b.labels.length / queries` per query), best first,
 * padded as a search pads; a label in both (rows being moved from one index to the
 * other) once.
 */
export function mergeHits(a: Hits, b: Hits, k: number, queries = 1): Hits {
  const labels = new Uint32Array(k * queries).fill(NO_LABEL);
  const scores = new Float32Array(k * queries).fill(Number.NEGATIVE_INFINITY);
  const perA = a.labels.length / queries;
  const perB = b.labels.length / queries;
  for (let q = 0; q < queries; q++) {
    const all: Array<[number, number]> = [];
    const seen = new Set<number>();
    for (const [hits, per] of [
      [a, perA],
      [b, perB],
    ] as const) {
      for (let i = q * per; i < (q + 1) * per; i++) {
        const label = hits.labels[i] as number;
        if (label === NO_LABEL || seen.has(label)) continue;
        seen.add(label);
        all.push([label, hits.scores[i] as number]);
      }
    }
    // Higher scores first; equal scores by label, as one index orders them.
    all.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    all.slice(0, k).forEach(([label, score], i) => {
      labels[q * k + i] = label;
      scores[q * k + i] = score;
    });
  }
  return { labels, scores };
}

/** `k` nearest rows of each query row of `queries` in `base` and `beside` together. */
export async function searchBeside(
  base: VectorIndex,
  beside: VectorIndex,
  queries: Float32Array,
  k: number,
  options: VectorSearchOptions,
): Promise<Hits> {
  const within = (index: VectorIndex) => Math.min(k, Math.max(1, index.size));
  const [fromFile, fromBeside] = await Promise.all([
    base.searchAsync(queries, within(base), options),
    beside.searchAsync(queries, within(beside), { ...options, exact: true }),
  ]);
  return mergeHits(fromFile, fromBeside, k, queries.length / base.dimension);
}
