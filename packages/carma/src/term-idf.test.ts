import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Memory, openMemory } from './memory.js';

describe.each(testImplementations())('termIdf (%s)', (impl) => {
  let memory: Memory;
  beforeAll(async () => {
    memory = await openMemory({ native: impl });
    await memory.addMany([
      'Grandma is allergic to cats',
      { text: 'Maya is allergic to peanuts', namespace: 'family' },
      'The boiler is serviced every autumn',
    ]);
  });
  afterAll(() => memory.close());

  it("is BM25's IDF over every namespace: rarer words weigh more, unknown words most", async () => {
    const idf = await memory.termIdf(['allergic', 'cats', 'teacher', 'is']);
    const lucene = (df: number) => Math.log(1 + (3 - df + 0.5) / (df + 0.5));
    expect([...idf].map((v) => Number(v.toFixed(6)))).toEqual(
      [lucene(2), lucene(1), lucene(0), lucene(3)].map((v) => Number(v.toFixed(6))),
    );
  });

  it('follows deletes', async () => {
    const [cats] = (await memory.list()).filter((f) => f.text.includes('cats'));
    await memory.delete(cats?.id as string);
    const [idf] = await memory.termIdf(['cats']);
    expect(idf).toBeCloseTo(Math.log(1 + 2.5 / 0.5), 6);
  });

  it('refuses what is not a list of words', async () => {
    await expect(memory.termIdf('cats' as unknown as string[])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});
