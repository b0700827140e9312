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
});
