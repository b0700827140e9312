import { describe, expect, it } from 'vitest';
import { NO_LABEL } from './engine/index.js';
import { mergeHits } from './rows-beside.js';

const hits = (pairs: Array<[number, number]>, k: number) => {
  const labels = new Uint32Array(k).fill(NO_LABEL);
  const scores = new Float32Array(k);
  pairs.forEach(([label, score], i) => {
    labels[i] = label;
    scores[i] = score;
  });
  return { labels, scores };
};

describe('mergeHits', () => {
  it('keeps the k best of both, best first, padded with NO_LABEL', () => {
    const merged = mergeHits(
      hits(
        [
          [1, 0.9],
          [2, 0.5],
        ],
        3,
      ),
      hits([[7, 0.7]], 1),
      4,
    );
    expect([...merged.labels]).toEqual([1, 7, 2, NO_LABEL]);
    expect([...merged.scores]).toEqual(
      [0.9, 0.7, 0.5, Number.NEGATIVE_INFINITY].map((s) => Math.fround(s)),
    );
  });

  it('cuts at k and orders equal scores by label', () => {
    const merged = mergeHits(
      hits(
        [
          [9, 0.5],
          [3, 0.4],
        ],
        2,
      ),
      hits([[4, 0.5]], 1),
      2,
    );
    expect([...merged.labels]).toEqual([4, 9]);
  });

  it('keeps a label found in both once', () => {
    const merged = mergeHits(
      hits(
        [
          [5, 0.8],
          [6, 0.6],
        ],
        2,
      ),
      hits([[5, 0.8]], 1),
      3,
    );
    expect([...merged.labels]).toEqual([5, 6, NO_LABEL]);
  });

  it('merges each query of a batch with its own hits', () => {
    // Two queries: three hits each from one search, one each from the other.
    const a = hits(
      [
        [1, 0.9],
        [2, 0.5],
        [3, 0.1],
        [4, 0.8],
        [5, 0.7],
        [6, 0.6],
      ],
      6,
    );
    const b = hits(
      [
        [8, 0.6],
        [9, 0.95],
      ],
      2,
    );
    const merged = mergeHits(a, b, 2, 2);
    expect([...merged.labels]).toEqual([1, 8, 9, 4]);
  });
});
