import { describe, expect, it } from 'vitest';
import { openTestStore, storeTargets } from './test-support.js';

describe.each(storeTargets())('inTransaction (%s)', (impl) => {
  it('tells calls made inside a transaction of the store from any other', async () => {
    const store = await openTestStore(impl, ':memory:');
    const other = await openTestStore(impl, ':memory:');
    expect(store.inTransaction()).toBe(false);
    const seen: boolean[] = [];
    await store.transaction(async () => {
      seen.push(store.inTransaction(), other.inTransaction());
      await store.meta.set('k', 1);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(store.inTransaction());
    });
    expect(seen).toEqual([true, false, true]);
    expect(store.inTransaction()).toBe(false);
    await store.close();
    await other.close();
  });

  it('counts the transactions that ended without committing', async () => {
    const store = await openTestStore(impl, ':memory:');
    expect(store.rollbacks()).toBe(0);
    await store.transaction(async () => {
      await store.meta.set('kept', 1);
    });
    expect(store.rollbacks()).toBe(0);
    await expect(
      store.transaction(async () => {
        await store.meta.set('taken back', 1);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(store.rollbacks()).toBe(1);
    // A transaction that never began (no call inside) wrote nothing to take back.
    await expect(
      store.transaction(async () => {
        throw new Error('before any write');
      }),
    ).rejects.toThrow('before any write');
    expect(store.rollbacks()).toBe(1);
    expect(await store.meta.get('kept')).toBe(1);
    expect(await store.meta.get('taken back')).toBeUndefined();
    await store.close();
  });
});
