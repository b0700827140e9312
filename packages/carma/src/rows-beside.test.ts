import { describe, expect, it } from 'vitest';
import { NO_LABEL } from './engine/index.js';
import { mergeHits } from './rows-beside.js';

/** Hits as a search returns them: `labels` and `scores`, padded to `k` with NO_LABEL. */
const hits = (k: number, labels: number[], scores: number[]) => ({
  labels: Uint32Array.from({ length: k }, (_, i) => labels[i] ?? NO_LABEL),
  scores: Float32Array.from({ length: k }, (_, i) => scores[i] ?? Number.NEGATIVE_INFINITY),
});

describe('mergeHits', () => {
  it('keeps the k best of both, best first, padded as a search pads', () => {
    const merged = mergeHits(hits(3, [1, 2], [0.9, 0.5]), hits(1, [7], [0.7]), 4);
    expect([...merged.labels]).toEqual([1, 7, 2, NO_LABEL]);
    expect([...merged.scores]).toEqual(
      [0.9, 0.7, 0.5, Number.NEGATIVE_INFINITY].map((s) => Math.fround(s)),
    );
  });

  it('cuts at k and orders equal scores by label', () => {
    const merged = mergeHits(hits(2, [9, 3], [0.5, 0.4]), hits(1, [4], [0.5]), 2);
    expect([...merged.labels]).toEqual([4, 9]);
  });

  it('keeps a label found in both once', () => {
    const merged = mergeHits(hits(2, [5, 6], [0.8, 0.6]), hits(1, [5], [0.8]), 3);
    expect([...merged.labels]).toEqual([5, 6, NO_LABEL]);
  });

  it('merges each query of a batch with its own hits', () => {
    // Two queries: three hits each from one search, one each from the other.
    const a = hits(6, [1, 2, 3, 4, 5, 6], [0.9, 0.5, 0.1, 0.8, 0.7, 0.6]);
    const b = hits(2, [8, 9], [0.6, 0.95]);
    const merged = mergeHits(a, b, 2, 2);
    expect([...merged.labels]).toEqual([1, 8, 9, 4]);
    expect([...merged.scores]).toEqual([0.9, 0.6, 0.95, 0.8].map((s) => Math.fround(s)));
  });
});
