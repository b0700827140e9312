/**
 * Rows replayed beside a mapped index file. A memory opened from its checkpoint takes in
 * what changed since the files were written; natively, adding even one row to the file's
 * index copies every row, code and graph link out of the mapping into memory of its own
 * (about 100 ms and 140 MB at 100k fragments). A process that only searches keeps the few
 * changed rows in a small index of their own instead, searched exactly beside the file's.
 */
import { type Hits, NO_LABEL, type VectorIndex, type VectorSearchOptions } from './engine/index.js';

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
 * The `k` best of two searches' hits (each padded with NO_LABEL), best first; a label in
 * both (rows being added from one to the other) once.
 */
export function mergeHits(a: Hits, b: Hits, k: number): Hits {
  const all: Array<[number, number]> = [];
  const seen = new Set<number>();
  for (const hits of [a, b]) {
    hits.labels.forEach((label, i) => {
      if (label === NO_LABEL || seen.has(label)) return;
      seen.add(label);
      all.push([label, hits.scores[i] as number]);
    });
  }
  // Higher scores first; equal scores by label, as one index orders them.
  all.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const labels = new Uint32Array(k).fill(NO_LABEL);
  const scores = new Float32Array(k);
  all.slice(0, k).forEach(([label, score], i) => {
    labels[i] = label;
    scores[i] = score;
  });
  return { labels, scores };
}

/** `k` nearest rows of `query` in `base` and in `replayed` together. */
export async function searchBeside(
  base: VectorIndex,
  replayed: VectorIndex,
  query: Float32Array,
  k: number,
  options: VectorSearchOptions,
): Promise<Hits> {
  const within = (index: VectorIndex) => Math.min(k, Math.max(1, index.size));
  const [fromFile, fromReplay] = await Promise.all([
    base.searchAsync(query, within(base), options),
    replayed.searchAsync(query, within(replayed), { ...options, exact: true }),
  ]);
  return mergeHits(fromFile, fromReplay, k);
}
