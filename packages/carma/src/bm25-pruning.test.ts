import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { createEngine, DEFAULT_BM25 } from './engine/index.js';

/** Documents over Zipf-like words: a few words in most documents, many rare ones. */
function corpus(count: number, seed: number): string[] {
  let s = seed >>> 0;
  const next = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + next(30) }, () => {
      const w = next(400);
      return `w${Math.floor((w * w) / 400)}`;
    }).join(' '),
  );
}

/**
 * A scorer of every matching document, term by term in query order, best first, as a
 * scan without pruning does.
 */
function bruteForce(
  docs: Map<number, string[]>,
): (query: string[], filter?: Set<number>) => Array<[score: number, label: number]> {
  const { k1, b } = DEFAULT_BM25;
  const n = docs.size;
  let total = 0;
  const df = new Map<string, number>();
  for (const tokens of docs.values()) {
    total += tokens.length;
    for (const t of new Set(tokens)) df.set(t, (df.get(t) ?? 0) + 1);
  }
  const avgdl = total / n;
  return (query, filter) => {
    const scored: Array<[number, number]> = [];
    for (const [label, tokens] of docs) {
      let score = 0;
      let matched = false;
      for (const term of query) {
        const tf = tokens.filter((t) => t === term).length;
        if (tf === 0) continue;
        matched = true;
        const d = df.get(term) as number;
        const idf = Math.log(1 + (n - d + 0.5) / (d + 0.5));
        const norm = k1 * (1 - b + (b * tokens.length) / avgdl);
        score += (idf * tf * (k1 + 1)) / (tf + norm);
      }
      if (matched && (!filter || filter.has(label))) scored.push([Math.fround(score), label]);
    }
    return scored.sort((x, y) => y[0] - x[0] || x[1] - y[1]);
  };
}

describe.each(testImplementations())('BM25 top-k with pruning (%s)', (impl) => {
  it('returns what scoring every document returns, after deletes and replacements', () => {
    const engine = createEngine({ native: impl });
    const lex = engine.createLexicalIndex();
    const texts = corpus(2000, 3);
    const labels = Uint32Array.from(texts, (_, i) => 2 * i + 1);
    lex.add(labels, texts);
    const docs = new Map<number, string[]>();
    texts.forEach((t, i) => {
      docs.set(2 * i + 1, t.split(' '));
    });
    // Deleted and replaced documents leave stale term bounds behind.
    const gone = labels.filter((l) => l % 7 === 0);
    lex.remove(gone);
    for (const l of gone) docs.delete(l);
    lex.add(Uint32Array.of(1, 3), ['w0 w0 w0', 'w0']);
    docs.set(1, ['w0', 'w0', 'w0']);
    docs.set(3, ['w0']);
    const filter = labels.filter((l) => l % 3 !== 0);
    const allowed = new Set(filter);
    const rank = bruteForce(docs);
    const words = corpus(200, 11);
    words.forEach((q, i) => {
      const query = q.split(' ').slice(0, 1 + (i % 5));
      if (i % 10 === 0) query.push(query[0] as string);
      const f = i % 4 === 0 ? filter : undefined;
      const ranked = rank(query, f ? allowed : undefined);
      for (const k of [1, 8, 100, 3000]) {
        const got = lex.search(query.join(' '), k, f);
        const want = ranked.slice(0, k);
        expect(Array.from(got.labels)).toEqual(want.map((h) => h[1]));
        if (impl === 'js') expect(Array.from(got.scores)).toEqual(want.map((h) => h[0]));
        else
          got.scores.forEach((s, j) => {
            expect(s).toBeCloseTo(want[j]?.[0] as number, 5);
          });
      }
    });
  });
});
