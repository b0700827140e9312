import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataStore, implementation, openDataStore } from './index.js';
import { openTestStore, storeTargets } from './test-support.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-data-numbering-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const numbering = { counter: 'test.next', attribute: 'n' };
const batch = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    text: `${prefix} ${i}`,
    attributes: { kept: i },
  }));

describe.each(storeTargets())('putNumbered (%s)', (impl) => {
  let store: DataStore;
  beforeAll(async () => {
    store = await openTestStore(impl, ':memory:');
  });
  afterAll(() => store.close());

  it('numbers a batch in order from the counter, in the attribute, and advances it', async () => {
    const first = await store.fragments.putNumbered(batch('a', 3), { numbering });
    expect(first).toEqual({ ids: ['a0', 'a1', 'a2'], numbers: [0, 1, 2] });
    expect((await store.fragments.get('a2'))?.attributes).toEqual({ n: 2, kept: 2 });
    // A floor above the counter wins; below it, the counter does.
    const second = await store.fragments.putNumbered(batch('b', 2), {
      numbering: { ...numbering, floor: 10 },
    });
    expect(second.numbers).toEqual([10, 11]);
    const third = await store.fragments.putNumbered(
      [{ id: 'c0', text: 'c', attributes: { n: 99 } }],
      { numbering: { ...numbering, floor: 4 } },
    );
    expect(third.numbers).toEqual([12]);
    expect((await store.fragments.get('c0'))?.attributes).toEqual({ n: 12 });
    expect(await store.meta.get('test.next')).toBe(13);
  });

  it('takes no numbers when the write fails', async () => {
    await expect(
      store.fragments.putNumbered([{ id: 'bad', text: 'x', vector: new Float32Array([1, 2]) }], {
        numbering,
        meta: { 'data.reserved': 1 },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await store.fragments.put([{ id: 'v', text: 'v', vector: new Float32Array(4) }]);
    await expect(
      store.fragments.putNumbered([{ id: 'w', text: 'w', vector: new Float32Array(3) }], {
        numbering,
      }),
    ).rejects.toMatchObject({ code: 'DATA_DIMENSION_MISMATCH' });
    expect(await store.meta.get('test.next')).toBe(13);
    expect((await store.fragments.putNumbered(batch('d', 1), { numbering })).numbers).toEqual([13]);
  });

  it('hands the first number to onNumbered inside the transaction, which its throw rolls back', async () => {
    const firsts: number[] = [];
    const got = await store.fragments.putNumbered(batch('h', 2), {
      numbering,
      onNumbered: (first) => firsts.push(first),
    });
    expect(got.numbers).toEqual([14, 15]);
    expect(firsts).toEqual([14]);
    const refused = new Error('the index refused the rows');
    await expect(
      store.fragments.putNumbered(batch('i', 2), {
        numbering,
        onNumbered: () => {
          throw refused;
        },
      }),
    ).rejects.toBe(refused);
    expect(await store.fragments.get('i0')).toBeUndefined();
    expect(await store.meta.get('test.next')).toBe(16);
    await expect(
      store.fragments.putNumbered(batch('i', 1), { numbering, onNumbered: 7 as never }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('refuses bad numbering options and a counter that is not one', async () => {
    for (const bad of [
      undefined,
      { counter: 'data.x', attribute: 'n' },
      { counter: 'k', attribute: '' },
      { counter: 'k', attribute: 'n', floor: -1 },
      { counter: 'k', attribute: 'n', floor: 1.5 },
    ]) {
      await expect(
        store.fragments.putNumbered(batch('e', 1), { numbering: bad as never }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    await store.meta.set('broken', 'seven');
    await expect(
      store.fragments.putNumbered(batch('e', 1), {
        numbering: { counter: 'broken', attribute: 'n' },
      }),
    ).rejects.toMatchObject({ code: 'DATA_CORRUPT' });
    expect(await store.fragments.get('e0')).toBeUndefined();
  });
});

describe.runIf(
  testImplementations().includes('native') && implementation('auto').implementation === 'native',
)('putNumbered on stores sharing a database file (native)', () => {
  it('reads the counter from the file each time: no number is handed out twice', async () => {
    const path = join(dir, 'shared.db');
    const stores = await Promise.all(
      [0, 1, 2].map(() => openDataStore({ path, native: 'native' })),
    );
    const results = await Promise.all(
      stores.flatMap((s, who) =>
        Array.from({ length: 10 }, (_, round) =>
          s.fragments.putNumbered(batch(`s${who}r${round}-`, 7), { numbering }),
        ),
      ),
    );
    const numbers = results.flatMap((r) => r.numbers).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 210 }, (_, i) => i));
    for (const s of stores) await s.close();
  });
});
