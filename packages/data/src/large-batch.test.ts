import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataStore } from './index.js';
import { openTestStore, storeTargets } from './test-support.js';

// Natively a batch this large is written, and its transaction committed, on the libuv
// pool (native-driver.ts): the same results, errors and rollbacks as a small one.
const ROWS = 2_000;
const DIM = 64;
const numbering = { counter: 'test.next', attribute: 'n' };

function batch(prefix: string, rows = ROWS) {
  return Array.from({ length: rows }, (_, i) => {
    const vector = new Float32Array(DIM);
    vector[i % DIM] = 1;
    vector[(i * 7 + 3) % DIM] = 0.5;
    return { id: `${prefix}${i}`, text: `${prefix} note ${i}`, vector, attributes: { i } };
  });
}

describe.each(storeTargets())('a large batch (%s)', (target) => {
  let store: DataStore;
  beforeAll(async () => {
    store = await openTestStore(target, ':memory:');
  });
  afterAll(() => store.close());

  it('is stored whole, numbered, with its vectors and history', async () => {
    const { numbers } = await store.fragments.putNumbered(batch('a'), {
      numbering,
      meta: { 'test.owner': { batches: 1 } },
    });
    expect(numbers).toEqual(Array.from({ length: ROWS }, (_, i) => i));
    const last = await store.fragments.get(`a${ROWS - 1}`);
    expect(last?.attributes).toEqual({ n: ROWS - 1, i: ROWS - 1 });
    expect(Array.from(last?.vector ?? [])).toEqual(
      Array.from((batch('a')[ROWS - 1] as { vector: Float32Array }).vector),
    );
    expect(await store.meta.get('test.owner')).toEqual({ batches: 1 });
    expect(await store.meta.get('test.next')).toBe(ROWS);
    await store.fragments.put(batch('b'));
    expect(await store.fragments.get('b1999')).toMatchObject({ text: 'b note 1999' });
  });

  it('that fails leaves nothing of itself, and the store takes the next write', async () => {
    const bad = batch('c');
    (bad[ROWS - 1] as { vector: Float32Array }).vector[0] = Number.NaN;
    await expect(store.fragments.putNumbered(bad, { numbering })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(await store.fragments.get('c0')).toBeUndefined();
    expect(await store.meta.get('test.next')).toBe(ROWS);
    const { numbers } = await store.fragments.putNumbered(batch('d', 300), { numbering });
    expect(numbers[0]).toBe(ROWS);
    expect(await store.fragments.get('d299')).toMatchObject({ attributes: { n: ROWS + 299 } });
  });
});

describe.runIf(storeTargets().includes('native'))('a large batch on SQLite (native)', () => {
  it('leaves the JS thread free while it is written; calls made meanwhile wait for it', async () => {
    const store = await openTestStore('native', ':memory:');
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    const writing = store.fragments.putNumbered(batch('e', 5_000), { numbering });
    const read = store.fragments.get('e4999');
    await writing;
    // The event loop turned while the batch was written (a synchronous write ends before
    // any callback can run, and its promise settles before the next turn).
    expect(turned).toBe(true);
    expect((await read)?.attributes).toEqual({ n: 4999, i: 4999 });
    await store.close();
  });

  it('two stores of this process on one file write synchronously: neither waits on the other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aios-data-large-'));
    try {
      const path = join(dir, 'shared.db');
      const [a, b] = [await openTestStore('native', path), await openTestStore('native', path)];
      const started = performance.now();
      const [first, second] = await Promise.all([
        a.fragments.putNumbered(batch('f', 3_000), { numbering }),
        b.fragments.putNumbered(batch('g', 3_000), { numbering }),
      ]);
      // Off the JS thread, one store's commit would wait behind the other's busy handler
      // until its timeout, and fail.
      expect(performance.now() - started).toBeLessThan(4_000);
      expect([...first.numbers, ...second.numbers].sort((x, y) => x - y)).toEqual(
        Array.from({ length: 6_000 }, (_, i) => i),
      );
      await a.close();
      // Alone again: the next large write leaves the JS thread free.
      let turned = false;
      setImmediate(() => {
        turned = true;
      });
      await b.fragments.putNumbered(batch('h', 3_000), { numbering });
      expect(turned).toBe(true);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
