import { openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it, vi } from 'vitest';
import type { MemoryContext } from './context.js';
import type { FragmentStore } from './fragment-store.js';
import { openMemory } from './memory.js';

const KEPT = [
  'the orchard is pruned in late winter',
  'the well is tested for nitrates each spring',
];
const LOST = [
  'the lighthouse keeper logs the tide at dawn',
  'the ferry timetable changes in october',
];

// An add indexes its rows while the database writes them (add.ts): a write that fails
// once the indexing started must leave neither index holding the rows.
describe.each(testImplementations())(
  'an add whose write fails beside its indexing (%s)',
  (impl) => {
    it('leaves no row in either index, and the next add of the texts stores and finds them', async () => {
      const data = await openDataStore({ path: ':memory:', native: impl });
      const memory = await openMemory({ data, native: impl });
      await memory.addMany(KEPT);
      const { store, indexes } = (memory as unknown as { ctx: MemoryContext }).ctx;
      const add = store.add.bind(store);
      const full = new Error('disk full');
      let labelled: number | undefined;
      // The real write, rolled back from inside its transaction once the labels are taken
      // (the indexing has started by then).
      vi.spyOn(store, 'add').mockImplementationOnce((items, options) =>
        add(items, {
          ...options,
          onLabeled: (first) => {
            options.onLabeled?.(first);
            labelled = first;
            throw full;
          },
        } satisfies Parameters<FragmentStore['add']>[1]),
      );
      await expect(memory.addMany(LOST)).rejects.toBe(full);
      expect(labelled).toBeTypeOf('number');
      expect(memory.size).toBe(KEPT.length);
      // Neither index holds a row of the batch.
      expect(indexes.vectorCount).toBe(KEPT.length);
      expect(indexes.lexical.labels()).toHaveLength(KEPT.length);
      expect((await memory.list()).map((f) => f.text).sort()).toEqual([...KEPT].sort());
      for (const mode of ['lexical', 'vector', 'hybrid'] as const) {
        const hits = await memory.search('lighthouse keeper tide ferry timetable', { k: 5, mode });
        expect(hits.map((h) => h.fragment.text)).not.toContain(LOST[0]);
        expect(hits.map((h) => h.fragment.text)).not.toContain(LOST[1]);
      }
      const again = await memory.addMany(LOST);
      expect(again.map((r) => r.status)).toEqual(['added', 'added']);
      for (const mode of ['lexical', 'vector', 'hybrid'] as const) {
        const [hit] = await memory.search('lighthouse keeper logs the tide', { k: 1, mode });
        expect(hit?.fragment.text).toBe(LOST[0]);
      }
      expect(memory.size).toBe(KEPT.length + LOST.length);
      await memory.close();
      await data.close();
    });
  },
);
