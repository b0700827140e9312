import { type ClusterLockResult, type DataStore, openDataStore } from '@aios/data';
import { startTestPostgres, type TestPostgres, testTool } from '@aios/utils/testing';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api, ServerContext } from './context.js';
import { installRetention } from './retention.js';

const initdb = testTool('initdb');
const DAY = 24 * 60 * 60 * 1000;

/** A promise and the function that resolves it. */
function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe.skipIf(!initdb)('conversation retention of servers sharing a PostgreSQL store', () => {
  let pg: TestPostgres;
  let url: string;
  const stores: DataStore[] = [];

  beforeAll(async () => {
    pg = await startTestPostgres(initdb as string);
    url = pg.url(await pg.createDatabase('retention_cluster'));
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.close()));
    await pg?.close();
  });

  /**
   * What one server's sweep needs (its store, its audit), on its own connection to the
   * shared database; `enter` runs when its sweep reaches the default tenant.
   */
  async function server(enter: () => Promise<void>) {
    const store = await openDataStore({ url });
    stores.push(store);
    const swept: string[] = [];
    const turns: Array<ClusterLockResult<unknown>['status']> = [];
    const control: DataStore = {
      ...store,
      withClusterLock: async (name, fn) => {
        const result = await store.withClusterLock(name, fn);
        turns.push(result.status);
        return result;
      },
    };
    const ctx = {
      config: { server: { conversationRetentionDays: 30 } },
      tenants: {
        control,
        system: async () => {
          await enter();
          return { data: store };
        },
      },
      audit: {
        record: (entry: { action: string; outcome: string; details: { deleted?: number } }) => {
          if (entry.action === 'retention.sweep')
            swept.push(`${entry.outcome}:${entry.details.deleted}`);
        },
      },
      stopping: false,
    } as unknown as ServerContext;
    const app = Fastify({ logger: false });
    installRetention(app as unknown as Api, ctx, 3_600_000);
    return { store, app, swept, turns };
  }

  it('sweeps once per turn: a server that finds another sweeping skips', async () => {
    const gate = deferred();
    const inside = deferred();
    const a = await server(async () => {
      inside.resolve();
      await gate.promise;
    });
    const b = await server(async () => undefined);
    await a.store.conversations.create({ title: 'old', createdAt: Date.now() - 40 * DAY });
    await a.store.conversations.create({ title: 'recent', createdAt: Date.now() - 10 * DAY });
    try {
      await a.app.ready();
      await inside.promise; // a sweeps, holding the lock
      await b.app.ready();
      await expect.poll(() => b.turns).toEqual(['skipped']);
      expect(b.swept).toEqual([]);
      gate.resolve();
      await expect.poll(() => a.swept).toEqual(['ok:1']);
      expect(a.turns).toEqual(['ran']);
      expect((await b.store.conversations.list()).map((c) => c.title)).toEqual(['recent']);
    } finally {
      gate.resolve();
      await a.app.close();
      await b.app.close();
    }
  });
});
