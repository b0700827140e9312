import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from './memory.js';

// Fragments added with the times they had elsewhere (a memory moved from another home).

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-add-times-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DAY = 86_400_000;

describe.each(testImplementations())('adding with given times (%s)', (impl) => {
  it('keeps the times given, reckons recency from them, and keeps them when reopened', async () => {
    const home = join(root, impl);
    const open = async () => {
      const data = await openDataStore({ path: join(home, 'aios.db'), native: impl });
      const memory = await openMemory({
        data,
        dir: join(home, 'carma'),
        native: impl,
        dimension: 64,
      });
      return { data, memory };
    };
    let { data, memory } = await open();
    const now = Date.now();
    const old = now - 400 * DAY;
    const [kept, fresh, future] = await memory.addMany([
      { text: 'The boiler was serviced by Klaus', createdAt: old, updatedAt: old + DAY },
      { text: 'The boiler was serviced by Anna' },
      { text: 'The boiler will be serviced by Omar', createdAt: now + 30 * DAY },
    ]);
    expect(kept?.fragment).toMatchObject({ createdAt: old, updatedAt: old + DAY, accessedAt: old });
    expect(fresh?.fragment.createdAt).toBeGreaterThanOrEqual(now);
    // A time after the add is the add's own.
    expect(future?.fragment.createdAt).toBeLessThanOrEqual(Date.now());
    expect(future?.fragment.updatedAt).toBe(future?.fragment.createdAt);

    // With recency on, the fragment made 400 days ago ranks below the one made today.
    const hits = await memory.search('boiler serviced', {
      k: 3,
      recency: { weight: 0.5, halfLifeMs: 30 * DAY },
    });
    expect(hits.at(-1)?.id).toBe(kept?.fragment.id);

    await memory.close();
    await data.close();
    ({ data, memory } = await open());
    expect(await memory.get(kept?.fragment.id as string)).toMatchObject({
      createdAt: old,
      updatedAt: old + DAY,
    });
    await memory.close();
    await data.close();
  });

  it('refuses a time that is not one, and a change before the making, adding nothing', async () => {
    const home = join(root, `${impl}-bad`);
    const data = await openDataStore({ path: join(home, 'aios.db'), native: impl });
    const memory = await openMemory({
      data,
      dir: join(home, 'carma'),
      native: impl,
      dimension: 64,
    });
    for (const [input, field] of [
      [{ text: 'a', createdAt: '2024-01-01' }, 'createdAt'],
      [{ text: 'a', createdAt: -1 }, 'createdAt'],
      [{ text: 'a', updatedAt: 1.5 }, 'updatedAt'],
      [{ text: 'a', createdAt: 2000, updatedAt: 1000 }, 'updatedAt'],
    ] as const) {
      await expect(memory.add(input as never)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        details: { field },
      });
    }
    await expect(
      memory.addMany([{ text: 'fine' }, { text: 'b', createdAt: Number.NaN }]),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { field: 'inputs[1].createdAt' } });
    expect(await memory.list()).toEqual([]);
    await memory.close();
    await data.close();
  });
});
