import { describe, expect, it } from 'vitest';
import { LabelTable } from './label-table.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return ((s ^ (s >>> 12)) >>> 0) / 2 ** 32;
  };
}

/** The table against a Map under the same operations. */
function agree(table: LabelTable<string>, model: Map<number, string>): void {
  expect(table.size).toBe(model.size);
  expect(new Map(table)).toEqual(model);
  for (const label of model.keys()) expect(table.get(label)).toBe(model.get(label));
}

describe('LabelTable', () => {
  it('answers like a Map whatever the order and spread of the labels', () => {
    for (const seed of [1, 2, 3, 4]) {
      const random = rng(seed);
      const table = new LabelTable<string>();
      const model = new Map<number, string>();
      // Spreads from dense to far apart: the table moves between its array and its Map.
      const spread = [1_000, 100_000, 2_000_000, 50_000][seed - 1] as number;
      for (let step = 0; step < 20_000; step++) {
        const label = Math.floor(random() * spread);
        const op = random();
        if (op < 0.6) {
          table.set(label, `v${step}`);
          model.set(label, `v${step}`);
        } else if (op < 0.8) {
          expect(table.delete(label)).toBe(model.delete(label));
        } else {
          expect(table.has(label)).toBe(model.has(label));
          expect(table.get(label)).toBe(model.get(label));
        }
        if (step % 5_000 === 0) agree(table, model);
      }
      agree(table, model);
    }
  });

  it('keeps no slot per label once labels are far apart, and moves back when they fill in', () => {
    const table = new LabelTable<number>();
    table.set(0, 0);
    table.set(50_000_000, 1); // a far label: a dense array would hold 50M slots
    expect(table.get(50_000_000)).toBe(1);
    expect(table.get(25_000_000)).toBeUndefined();
    expect(table.size).toBe(2);
    const fresh = new LabelTable<number>();
    fresh.set(200_000, 1); // opened in store order: a high label first
    for (let label = 0; label < 200_000; label++) fresh.set(label, label);
    expect(fresh.size).toBe(200_001);
    expect(fresh.get(200_000)).toBe(1);
    expect([...fresh].map(([label]) => label).slice(0, 3)).toEqual([0, 1, 2]);
  });

  it('does not count a value set twice, nor a label deleted twice', () => {
    const table = new LabelTable<string>();
    table.set(5, 'a');
    table.set(5, 'b');
    expect(table.size).toBe(1);
    expect(table.delete(5)).toBe(true);
    expect(table.delete(5)).toBe(false);
    expect(table.size).toBe(0);
    expect([...table]).toEqual([]);
  });
});
