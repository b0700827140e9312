import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import type { Embedder } from './embedder.js';
import { openMemory } from './memory.js';
import { DEFAULT_FUSION, MODEL_LEXICAL_WEIGHT } from './memory-types.js';
import { FULL_LEXICAL_EVIDENCE, queryFusion } from './scoring.js';

describe('BM25 weight per query', () => {
  const adaptive = { ...DEFAULT_FUSION, method: 'adaptive' as const, lexicalWeight: 0.6 };
  it('is fixed for weighted fusion', () => {
    expect(queryFusion({ ...adaptive, method: 'weighted' }, 0, 10)).toEqual({ lexicalWeight: 0.6 });
  });

  it('grows with the share of the query the best lexical hit matches, full from half', () => {
    const at = (top: number, mass = 10) => queryFusion(adaptive, top, mass);
    expect(at(0)).toEqual({ lexicalWeight: 0, coverage: 0, evidence: 0 });
    expect(at(10 * FULL_LEXICAL_EVIDENCE * 0.5)).toEqual({
      lexicalWeight: 0.3,
      coverage: 0.25,
      evidence: 0.5,
    });
    expect(at(5).lexicalWeight).toBe(0.6);
    expect(at(25)).toEqual({ lexicalWeight: 0.6, coverage: 1, evidence: 1 });
    // A query with no token (nothing for BM25 to match) leaves it to the vectors.
    expect(at(3, 0).lexicalWeight).toBe(0);
  });
});

/**
 * A stand-in for an embedding model that knows synonyms: each text becomes the sum of
 * its words' concepts, so "snack" and "peanuts" meet where BM25 sees nothing in common.
 */
const CONCEPTS: Record<string, number> = {
  peanuts: 0,
  snack: 0,
  nuts: 0,
  eat: 0,
  photos: 1,
  pictures: 1,
  backup: 1,
  copied: 1,
  flight: 2,
  plane: 2,
  lisbon: 2,
  portugal: 2,
  rent: 3,
  housing: 3,
  payment: 3,
};
const synonyms: Embedder = {
  id: 'test-synonyms',
  dimension: 8,
  async embed(texts) {
    const out = new Float32Array(texts.length * 8);
    texts.forEach((text, i) => {
      out[i * 8 + 7] = 0.1; // every text a little alike, as real models make them
      for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
        const c = CONCEPTS[word];
        if (c !== undefined) out[i * 8 + c] = (out[i * 8 + c] as number) + 1;
      }
    });
    return out;
  },
};

const NOTES = [
  'Alice cannot eat peanuts, she carries an EpiPen',
  'The backup of the photos runs every Sunday',
  'Our flight to Lisbon leaves on Tuesday',
  'Rent is paid on the first of the month',
  'What a lovely day it was for my friend at the lake',
];

describe.each(testImplementations())('adaptive fusion (%s)', (impl) => {
  it('lets the vectors decide when the words of the query are not in the notes', async () => {
    const memory = await openMemory({ native: impl, embedder: synonyms });
    await memory.addMany(NOTES);
    const query = 'what snack is bad for my friend';
    const [vector] = await memory.search(query, { k: 1, mode: 'vector' });
    const [lexical] = await memory.search(query, { k: 1, mode: 'lexical' });
    expect(vector?.fragment.text).toBe(NOTES[0]);
    expect(lexical?.fragment.text).toBe(NOTES[4]); // "what", "my", "friend": the wrong note
    const [hybrid] = await memory.search(query, { k: 1, explain: true });
    expect(hybrid?.fragment.text).toBe(NOTES[0]);
    const fusion = hybrid?.explain?.fusion;
    expect(fusion?.method).toBe('adaptive');
    expect(fusion?.coverage).toBeLessThan(FULL_LEXICAL_EVIDENCE);
    expect(fusion?.lexicalWeight).toBeCloseTo(MODEL_LEXICAL_WEIGHT * (fusion?.evidence ?? 1), 12);
    // The fixed weight of before lets BM25's best (a 1 after normalisation, however weak) win.
    const [fixed] = await memory.search(query, {
      k: 1,
      fusion: { method: 'weighted', lexicalWeight: 0.7 },
    });
    expect(fixed?.fragment.text).toBe(NOTES[4]);
    await memory.close();
  });

  it('keeps BM25 at its full weight when the query is matched', async () => {
    const memory = await openMemory({ native: impl, embedder: synonyms });
    await memory.addMany(NOTES);
    const [hit] = await memory.search('backup of the photos on Sunday', { k: 1, explain: true });
    expect(hit?.fragment.text).toBe(NOTES[1]);
    expect(hit?.explain?.fusion).toMatchObject({
      lexicalWeight: MODEL_LEXICAL_WEIGHT,
      evidence: 1,
    });
    const e = hit?.explain;
    expect(e?.base).toBeCloseTo(
      MODEL_LEXICAL_WEIGHT * (e?.lexical?.normalized ?? 0) +
        (1 - MODEL_LEXICAL_WEIGHT) * (e?.vector?.normalized ?? 0),
      12,
    );
    await memory.close();
  });

  it('gives the built-in embedder BM25 at 0.7, and takes a weight given', async () => {
    const memory = await openMemory({ native: impl, fusion: { lexicalWeight: 0.4 } });
    await memory.addMany(NOTES);
    const [a] = await memory.search('backup of the photos', { k: 1, explain: true });
    expect(a?.explain?.fusion?.lexicalWeight).toBe(0.4);
    await memory.close();
    const builtin = await openMemory({ native: impl });
    await builtin.addMany(NOTES);
    const [b] = await builtin.search('backup of the photos', { k: 1, explain: true });
    expect(b?.explain?.fusion).toMatchObject({ method: 'adaptive', lexicalWeight: 0.7 });
    const [rrf] = await builtin.search('backup', {
      k: 1,
      explain: true,
      fusion: { method: 'rrf' },
    });
    expect(rrf?.explain?.fusion).toEqual({ method: 'rrf' });
    const [lexical] = await builtin.search('backup', { k: 1, explain: true, mode: 'lexical' });
    expect(lexical?.explain?.fusion).toBeUndefined();
    await builtin.close();
  });
});
