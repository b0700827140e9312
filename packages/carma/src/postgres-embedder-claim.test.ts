import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { CARMA_META_KEY, openMemory } from './index.js';
import { initdb, sharedPostgres } from './test-support/shared-postgres.js';

/**
 * Servers with different embedders on one database: the store records the embedder of
 * the first memory that opens it, so the other is refused before either writes.
 */
describe.skipIf(!initdb)('the embedder of a shared PostgreSQL store', () => {
  const { freshUrl, open, home } = sharedPostgres('carma_claim');

  describe.each(testImplementations())('%s', (native) => {
    it('is recorded by the first memory to open it, before any write', async () => {
      const url = await freshUrl();
      const data = await open(url);
      const first = await openMemory({ native, data, dir: home(), dimension: 64 });
      try {
        expect(await data.meta.get(CARMA_META_KEY)).toMatchObject({ dimension: 64 });
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
      const url = await freshUrl();
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
