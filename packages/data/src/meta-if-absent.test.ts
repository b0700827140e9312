import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTestStore, storeTargets } from './test-support.js';

const dir = mkdtempSync(join(tmpdir(), 'aios-meta-if-absent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(storeTargets())('meta.setIfAbsent (%s)', (target) => {
  it('sets a key once: a second call leaves the first value', async () => {
    const store = await openTestStore(target, join(dir, `${target}-once.db`));
    try {
      expect(await store.meta.setIfAbsent('owner', { dimension: 384 })).toBe(true);
      expect(await store.meta.setIfAbsent('owner', { dimension: 256 })).toBe(false);
      expect(await store.meta.get('owner')).toEqual({ dimension: 384 });
    } finally {
      await store.close();
    }
  });

  it.runIf(target === 'postgres')('lets one of two processes racing for a key win', async () => {
    const path = join(dir, 'race.db');
    const a = await openTestStore(target, path);
    const b = await openTestStore(target, path);
    try {
      const won = await Promise.all([
        a.meta.setIfAbsent('owner', { dimension: 384 }),
        b.meta.setIfAbsent('owner', { dimension: 256 }),
      ]);
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await b.meta.get('owner')).toEqual({ dimension: won[0] ? 384 : 256 });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
