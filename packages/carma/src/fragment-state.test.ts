import { describe, expect, it } from 'vitest';
import { FragmentState } from './fragment-state.js';
import type { FragmentRecord } from './fragment-store.js';

function fragment(id: string, label: number, namespace: string, contentHash: string) {
  return { id, label, namespace, contentHash, links: [] } as unknown as FragmentRecord;
}

describe('FragmentState', () => {
  // Taken in one by one (the lookups kept up to date), or all at once as an open does
  // (the lookups built at their first use).
  it.each(['one by one', 'on open'])(
    'finds a text by namespace and in every namespace, through removals (%s)',
    (how) => {
      const state = new FragmentState();
      const a = fragment('a', 0, 'work', 'h1');
      const b = fragment('b', 1, 'home', 'h1');
      const c = fragment('c', 2, 'travel', 'h1');
      const d = fragment('d', 3, 'work', 'h2');
      if (how === 'on open') state.rememberAll([a, b, c, d]);
      else for (const f of [a, b, c, d]) state.remember(f);
      expect(state.size).toBe(4);
      expect(state.idWithContent('work', 'h1')).toBe('a');
      expect(state.idWithContent('home', 'h1')).toBe('b');
      expect(state.idWithContent('home', 'h2')).toBeUndefined();
      expect([...state.withHash('h1')].sort()).toEqual(['a', 'b', 'c']);
      expect([...state.withHash('h2')]).toEqual(['d']);
      state.forget(b);
      expect([...state.withHash('h1')].sort()).toEqual(['a', 'c']);
      expect(state.idWithContent('home', 'h1')).toBeUndefined();
      state.forget(a);
      expect([...state.withHash('h1')]).toEqual(['c']);
      state.forget(c);
      expect([...state.withHash('h1')]).toEqual([]);
      expect(state.namespaceCounts()).toEqual({ work: 1 });
      // Remembered twice (an update that kept its text): still one holder.
      state.remember(d);
      expect([...state.withHash('h2')]).toEqual(['d']);
    },
  );

  it('builds its lookups a slice at a time, taking in what changed meanwhile', async () => {
    const state = new FragmentState();
    const count = 200_000;
    const records = Array.from({ length: count }, (_, i) => fragment(`f${i}`, i, 'ns', `h${i}`));
    state.rememberAll(records);
    let turns = 0;
    let building = true;
    const ticking = (async () => {
      while (building) {
        turns++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const built = state.prepareLookups();
    await new Promise((resolve) => setImmediate(resolve));
    // A catch-up takes in a fragment and drops another while the lookups are built.
    state.remember(fragment('late', count, 'ns', 'late-hash'));
    state.forget(records[0] as FragmentRecord);
    await built;
    building = false;
    await ticking;
    // The event loop ran between slices (searches are not held for the whole build).
    expect(turns).toBeGreaterThan(1);
    expect(state.idWithContent('ns', 'late-hash')).toBe('late');
    expect(state.idWithContent('ns', 'h0')).toBeUndefined();
    expect(state.idWithContent('ns', `h${count - 1}`)).toBe(`f${count - 1}`);
    expect([...state.withHash('h7')]).toEqual(['f7']);
  });

  it('keeps the key of a fragment that took a text over when the old holder goes', () => {
    const state = new FragmentState();
    const old = fragment('old', 0, 'notes', 'h');
    const taker = fragment('new', 1, 'notes', 'h');
    state.remember(old);
    state.remember(taker);
    state.forget(old);
    expect(state.idWithContent('notes', 'h')).toBe('new');
    expect([...state.withHash('h')]).toEqual(['new']);
    expect(state.size).toBe(1);
  });
});
