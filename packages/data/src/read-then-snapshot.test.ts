import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { openDataStore } from './index.js';

describe.each(testImplementations())('a snapshot after reading fragments (%s)', (impl) => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is taken, and the store compacts, right after a fragment was read by id', async () => {
    dir = mkdtempSync(join(tmpdir(), 'aios-data-read-'));
    const store = await openDataStore({ path: join(dir, 'a.db'), native: impl });
    await store.fragments.put([
      { id: 'a', text: 'first', vector: new Float32Array(4) },
      { id: 'b', text: 'second' },
    ]);
    expect((await store.fragments.get('a'))?.text).toBe('first');
    await store.snapshotTo(join(dir, 'one.db'));
    expect((await store.fragments.getMany(['b', 'a'])).map((f) => f.id)).toEqual(['b', 'a']);
    await store.transaction(async () => {
      await store.fragments.get('b');
    });
    await store.compact();
    await store.snapshotTo(join(dir, 'two.db'));
    const copy = await openDataStore({ path: join(dir, 'two.db'), native: impl });
    expect(await copy.fragments.count()).toBe(2);
    await copy.close();
    await store.close();
  });
});
