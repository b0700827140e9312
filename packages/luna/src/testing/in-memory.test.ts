import { describe, expect, it } from 'vitest';
import { InMemoryConversationStore } from './conversation-store.js';
import { InMemoryMemory } from './memory.js';

describe('InMemoryMemory (the in-process MemoryProvider)', () => {
  const memory = () => {
    const m = new InMemoryMemory();
    m.add('Paris is the capital of France.', { id: 'paris' });
    m.add('Berlin is the capital of Germany. Berlin has many museums.', { id: 'berlin' });
    m.add('The cat sleeps on the sofa.', { id: 'cat', metadata: { source: 'diary' } });
    for (let i = 0; i < 50; i++) m.add(`Unrelated note number ${i} about weather and rain.`);
    return m;
  };

  it('ranks by BM25, best first, at most k', async () => {
    const m = memory();
    const found = await m.search('What is the capital of Germany?', { k: 2 });
    expect(found.map((f) => f.id)).toEqual(['berlin', 'paris']);
    expect(found[0]?.score).toBeGreaterThan(found[1]?.score ?? Infinity);
    expect(await m.search('sofa', { k: 5 })).toEqual([
      {
        id: 'cat',
        text: 'The cat sleeps on the sofa.',
        score: expect.any(Number),
        metadata: { source: 'diary' },
      },
    ]);
    expect(await m.search('zebra', { k: 5 })).toEqual([]);
    expect((await m.search('rain', { k: 100 })).length).toBe(50);
  });

  it('moves reinforced fragments up and weakened ones down, reversibly', async () => {
    const m = memory();
    const before = await m.search('capital', { k: 2 });
    const second = before[1]?.id ?? '';
    await m.reinforce([second], 3);
    expect((await m.search('capital', { k: 2 }))[0]?.id).toBe(second);
    await m.reinforce([second], -3);
    expect(await m.search('capital', { k: 2 })).toEqual(before);
    expect(m.reinforcement(second)).toBe(0);
  });

  it('rejects bad input', async () => {
    const m = memory();
    expect(() => m.add('   ')).toThrow(/text: expected a non-empty string/);
    expect(() => m.add('again', { id: 'paris' })).toThrow(/id: expected an id not already/);
    await expect(m.search('x', { k: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(m.reinforce(['paris'], Number.NaN)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});

describe('InMemoryConversationStore', () => {
  it('copies records in and out, and reports unknown feedback with a code', async () => {
    const store = new InMemoryConversationStore();
    expect(await store.loadPersonality()).toBeUndefined();
    expect(await store.recentExchanges('c', 5)).toEqual([]);
    await expect(
      store.undoFeedback('nope', new Date().toISOString(), {
        traits: {
          openness: 0.5,
          conscientiousness: 0.5,
          extraversion: 0.5,
          agreeableness: 0.5,
          neuroticism: 0.5,
        },
        change: { id: 'x', at: '', cause: 'undo', before: {} as never, after: {} as never },
      }),
    ).rejects.toMatchObject({ code: 'LUNA_NOT_FOUND' });
    expect(await store.personalityHistory()).toEqual([]);
  });
});
