import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FragmentRecord } from './fragment-store.js';
import { type Memory, openMemory, type SearchOptions } from './memory.js';
import type { FusionOptions, SearchMode } from './memory-types.js';
import { type Candidate, explainScore, finalScore, queryFusion } from './scoring.js';

const fragment = (core: boolean): FragmentRecord =>
  ({ createdAt: 1_000, core, importance: 0.3 }) as FragmentRecord;

describe('finalScore', () => {
  it('is the final score of the explanation, to the last bit', () => {
    const candidates: Candidate[] = [
      { lexical: [7.25, 0] },
      { vector: [0.61, 3] },
      { lexical: [2.5, 9], vector: [0.4, 0] },
      {},
    ];
    const fusions: FusionOptions[] = [
      { method: 'adaptive', lexicalWeight: 0.7, rrfK: 60 },
      { method: 'weighted', lexicalWeight: 0.4, rrfK: 60 },
      { method: 'rrf', lexicalWeight: 0.7, rrfK: 60 },
    ];
    for (const mode of ['hybrid', 'lexical', 'vector'] as SearchMode[])
      for (const fusion of fusions)
        for (const recency of [undefined, { weight: 0.2, halfLifeMs: 5_000 }])
          for (const importance of [undefined, { weight: 0.1 }])
            for (const core of [false, true])
              for (const c of candidates) {
                const options = {
                  mode,
                  fusion,
                  query: queryFusion(fusion, 7.25, 11),
                  recency,
                  importance,
                  now: 9_000,
                };
                const lexical = { max: 7.25, min: 2.5 };
                const vector = { max: 0.61, min: 0.4 };
                const f = fragment(core);
                expect(finalScore(c, f, lexical, vector, options)).toBe(
                  explainScore(c, f, lexical, vector, options).final,
                );
              }
  });
});

describe.each(testImplementations())('search scores with and without explain (%s)', (impl) => {
  let memory: Memory;
  beforeAll(async () => {
    // Recency is scored from the last access against the clock, and a search is an
    // access: with the clock still, the first search of a pair does not move the second.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    memory = await openMemory({ native: impl, dimension: 64 });
    await memory.addMany([
      'Alice prefers green tea in the morning',
      'The backup of the photo library runs every Sunday',
      'Bob plays the cello in a community orchestra',
      'the photo backup failed on Sunday morning',
    ]);
  });
  afterAll(async () => {
    await memory.close();
    vi.useRealTimers();
  });

  it('are the same, and each explanation ends in its score', async () => {
    const asked: SearchOptions[] = [
      { k: 3 },
      { k: 3, fusion: { method: 'rrf' } },
      { k: 2, mode: 'lexical', importance: { weight: 0.2 } },
      { k: 4, recency: { weight: 0.3, halfLifeMs: 60_000 } },
    ];
    for (const options of asked) {
      const plain = await memory.search('photo backup Sunday', options);
      const explained = await memory.search('photo backup Sunday', { ...options, explain: true });
      expect(explained.map((r) => [r.id, r.score])).toEqual(plain.map((r) => [r.id, r.score]));
      for (const r of explained) expect(r.explain?.final).toBe(r.score);
    }
  });
});
