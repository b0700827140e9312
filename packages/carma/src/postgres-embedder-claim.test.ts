import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DataStore, openDataStore } from '@aios/data';
import {
  startTestPostgres,
  type TestPostgres,
  testImplementations,
  testTool,
} from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARMA_META_KEY, openMemory } from './index.js';

const initdb = testTool('initdb');

/**
 * Servers with different embedders on one database: the store records the embedder of
 * the first memory that opens it, so the other is refused before either writes.
 */
describe.skipIf(!initdb)('the embedder of a shared PostgreSQL store', () => {
  let pg: TestPostgres;
  let database = 0;
  const dirs: string[] = [];
  const stores: DataStore[] = [];

  beforeAll(async () => {
    pg = await startTestPostgres(initdb as string);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.close()));
    await pg?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function open(url: string): Promise<DataStore> {
    const store = await openDataStore({ url });
    stores.push(store);
    return store;
  }

  function home(): string {
    const dir = mkdtempSync(join(tmpdir(), 'carma-claim-'));
    dirs.push(dir);
    return dir;
  }

  describe.each(testImplementations())('%s', (native) => {
    it('is recorded by the first memory to open it, before any write', async () => {
      const url = pg.url(await pg.createDatabase(`carma_claim_${++database}`));
      const first = await openMemory({ native, data: await open(url), dir: home(), dimension: 64 });
      try {
        expect(await stores.at(-1)?.meta.get(CARMA_META_KEY)).toMatchObject({ dimension: 64 });
        await expect(
          openMemory({ native, data: await open(url), dir: home(), dimension: 32 }),
        ).rejects.toMatchObject({ code: 'EMBEDDER_MISMATCH' });
        // The same embedder opens it alongside.
        const second = await openMemory({
          native,
          data: await open(url),
          dir: home(),
          dimension: 64,
        });
        await second.close();
      } finally {
        await first.close();
      }
    }, 60_000);

    it('goes to one of two memories opening an empty store together', async () => {
      const url = pg.url(await pg.createDatabase(`carma_claim_${++database}`));
      const opened = await Promise.allSettled([
        openMemory({ native, data: await open(url), dir: home(), dimension: 64 }),
        openMemory({ native, data: await open(url), dir: home(), dimension: 32 }),
      ]);
      const fulfilled = opened.filter((o) => o.status === 'fulfilled');
      expect(fulfilled).toHaveLength(1);
      expect(opened.find((o) => o.status === 'rejected')).toMatchObject({
        reason: { code: 'EMBEDDER_MISMATCH' },
      });
      for (const o of fulfilled) await o.value.close();
    }, 60_000);
  });
});
