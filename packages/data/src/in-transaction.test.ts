import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { openDataStore } from './index.js';

describe.each(testImplementations())('inTransaction (%s)', (impl) => {
  it('tells calls made inside a transaction of the store from any other', async () => {
    const store = await openDataStore({ path: ':memory:', native: impl });
    const other = await openDataStore({ path: ':memory:', native: impl });
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
