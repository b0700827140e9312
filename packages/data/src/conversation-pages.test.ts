import { describe, expect, it } from 'vitest';
import { openTestStore, storeTargets } from './test-support.js';

describe.each(storeTargets())('conversation pages (%s)', (impl) => {
  it('continue after the last one listed, skipping none when others are deleted', async () => {
    const store = await openTestStore(impl, ':memory:');
    // Pairs share an update time, so the order within a time is by id.
    for (let i = 0; i < 20; i++) {
      await store.conversations.create({
        id: `c${String(i).padStart(2, '0')}`,
        createdAt: 1000 + Math.floor(i / 2),
      });
    }
    const all = (await store.conversations.list({ limit: 100 })).map((c) => c.id);
    expect(all.slice(0, 4)).toEqual(['c18', 'c19', 'c16', 'c17']);

    const seen: string[] = [];
    let after: { updatedAt: number; id: string } | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const page = await store.conversations.list({ limit: 3, ...(after ? { after } : {}) });
      if (page.length === 0) break;
      seen.push(...page.map((c) => c.id));
      // Deleting one that was listed moves every later one up: an offset would skip one.
      await store.conversations.delete((page[0] as { id: string }).id);
      const last = page.at(-1) as { updatedAt: number; id: string };
      after = { updatedAt: last.updatedAt, id: last.id };
    }
    expect(seen).toEqual(all);
    await store.close();
  });

  it('refuses a malformed position', async () => {
    const store = await openTestStore(impl, ':memory:');
    await expect(
      store.conversations.list({ after: { updatedAt: 1.5, id: 'x' } }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      store.conversations.list({ after: { updatedAt: 1, id: '' } }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await store.close();
  });
});
