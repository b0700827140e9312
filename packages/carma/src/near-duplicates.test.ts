import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { createEngine } from './engine/index.js';
import { type Memory, openMemory } from './memory.js';
import type { AddResult } from './memory-types.js';

const SUBJECTS = ['Alice', 'Bob', 'Carol', 'Dan', 'Erin', 'Frank', 'Grace', 'Heidi'];
const ACTS = ['repairs', 'paints', 'sells', 'photographs', 'collects', 'restores'];
const THINGS = ['old bicycles', 'harbour boats', 'mountain huts', 'pocket watches', 'tin toys'];
const PLACES = ['in Lyon', 'near the station', 'every spring', 'for the museum', 'at night'];

/** Distinct sentences, and a near-duplicate of every fifth (one word more). */
function corpus(): { texts: string[]; variants: Map<string, string> } {
  const texts: string[] = [];
  for (const s of SUBJECTS)
    for (const a of ACTS)
      for (const t of THINGS) texts.push(`${s} ${a} ${t} ${PLACES[texts.length % 5]}`);
  const variants = new Map<string, string>();
  texts.forEach((t, i) => {
    if (i % 5 === 0) variants.set(`${t} again`, t);
  });
  return { texts, variants };
}

/** The texts each added variant was reported a near-duplicate of. */
async function reported(memory: Memory, results: AddResult[]): Promise<string[][]> {
  return Promise.all(
    results.map(async (r) =>
      Promise.all(r.nearDuplicates.map(async (n) => (await memory.get(n.id))?.text ?? '?')),
    ),
  );
}

describe.each(testImplementations())('near-duplicates on add (%s)', (impl) => {
  it('are those of an exact search when the graph links the rows, and never the batch itself', async () => {
    const { texts, variants } = corpus();
    const asked = [...variants.keys()];
    const outcomes: string[][][] = [];
    for (const hnsw of [false, true]) {
      const memory = await openMemory({ native: impl, hnsw, nearDuplicateThreshold: 0.9 });
      await memory.addMany(texts);
      expect(memory.stats().hnsw !== null).toBe(hnsw);
      const results = await memory.addMany(asked);
      expect(results.every((r) => r.status === 'added')).toBe(true);
      outcomes.push(await reported(memory, results));
      await memory.close();
    }
    const [exact, linked] = outcomes as [string[][], string[][]];
    expect(linked).toEqual(exact);
    // Every variant finds the sentence it was made from, and no other variant of its batch.
    asked.forEach((variant, i) => {
      expect(exact[i]).toContain(variants.get(variant));
      expect(exact[i]?.some((t) => variants.has(t))).toBe(false);
    });
  });

  it('stay in the namespace and report the exact similarity', async () => {
    const memory = await openMemory({ native: impl, hnsw: true });
    const [first] = await memory.addMany([
      'The blue kettle sits on the left shelf of the kitchen',
      'Quarterly taxes are due on the fifteenth',
    ]);
    const [near, elsewhere] = await memory.addMany([
      { text: 'The blue kettle sits on the left shelf of the kitchen.' },
      { text: 'The blue kettle sits on the left shelf of the kitchen!', namespace: 'other' },
    ]);
    expect(near?.nearDuplicates.map((n) => n.id)).toEqual([first?.fragment.id]);
    const engine = createEngine({ native: impl });
    const [a, b] = [first, near].map((r) => engine.embed([r?.fragment.text as string], 384));
    let [dot, aa, bb] = [0, 0, 0];
    for (let i = 0; i < 384; i++) {
      const [x, y] = [a?.[i] as number, b?.[i] as number];
      [dot, aa, bb] = [dot + x * y, aa + x * x, bb + y * y];
    }
    expect(near?.nearDuplicates[0]?.similarity).toBeCloseTo(dot / Math.sqrt(aa * bb), 5);
    expect(elsewhere?.nearDuplicates).toEqual([]);
    await memory.close();
  });
});
