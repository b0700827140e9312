import { testImplementations, testTool } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from './jobs/registry.js';
import {
  type PostgresTestServer,
  startPostgresTestServer,
} from './test-support/postgres-server.js';
import type { TestServer } from './test-support/server.js';

const initdb = testTool('initdb');

/**
 * The backup job routes on a PostgreSQL store: the handle they share with the CLI dumps
 * each tenant's schema into its snapshot and loads it back on restore.
 */
describe.skipIf(!initdb).each(testImplementations())('backup routes on PostgreSQL (%s)', (impl) => {
  let cluster: PostgresTestServer;
  let t: TestServer;

  beforeAll(async () => {
    cluster = await startPostgresTestServer(initdb as string, impl, `backups_${impl}`);
    t = cluster.server;
  }, 120_000);
  afterAll(() => cluster?.close(), 60_000);

  const finished = (job: JobView, key: string) => t.jobEnd(job.id, key);

  it("restores a tenant's schema from its dump; the default tenant's restore stays refused", {
    timeout: 180_000,
  }, async () => {
    const key = (await t.key(['backup', 'memory:read', 'memory:write'], { tenant: 'pg-bk' })).key;
    const add = async (text: string) => {
      const res = await t.call('POST', '/v1/memory', key, { text });
      expect(res.statusCode, res.body).toBe(201);
    };
    const texts = async () =>
      ((await t.call('GET', '/v1/memory', key)).json().items as Array<{ text: string }>).map(
        (f) => f.text,
      );
    await add('Kept: the boat is serviced at the marina in May.');

    const created = await t.call('POST', '/v1/backups', key, {});
    expect(created.statusCode, created.body).toBe(202);
    const job = await finished(created.json(), key);
    expect(job, JSON.stringify(job.error)).toMatchObject({ status: 'succeeded' });
    const id = (job.result as { snapshot: { id: string } }).snapshot.id;
    const tenant = await t.server.context.tenants.system('pg-bk');
    const snap = await (await tenant.backup.open()).loadSnapshot(id);
    expect(snap.entries.map((e) => e.path)).toContain(
      `postgres/${cluster.database}/aios_t_pg_bk.sql`,
    );

    await add('Gone: written after the snapshot.');
    const restore = await t.call('POST', `/v1/backups/${id}/restore`, key, { confirm: true });
    expect(restore.statusCode, restore.body).toBe(202);
    const restored = await finished(restore.json(), key);
    expect(restored, JSON.stringify(restored.error)).toMatchObject({ status: 'succeeded' });
    expect(await texts()).toEqual(['Kept: the boat is serviced at the marina in May.']);
    expect(
      await cluster.pg.sql(cluster.database, 'SELECT count(*) FROM aios_t_pg_bk.fragments'),
      'the tenant schema holds the first state',
    ).toBe('1');

    // The default tenant's snapshot holds the URL's own schema.
    const ownerJob = await finished(
      (await t.call('POST', '/v1/backups', t.adminKey, {})).json(),
      t.adminKey,
    );
    expect(ownerJob, JSON.stringify(ownerJob.error)).toMatchObject({ status: 'succeeded' });
    const ownerId = (ownerJob.result as { snapshot: { id: string } }).snapshot.id;
    const ownerSnap = await (await t.system.backup.open()).loadSnapshot(ownerId);
    expect(ownerSnap.entries.map((e) => e.path)).toContain(
      `postgres/${cluster.database}/public.sql`,
    );
    const owner = await t.call('POST', '/v1/backups/latest/restore', t.adminKey, {
      confirm: true,
    });
    expect(owner.statusCode).toBe(409);
    expect(owner.json().error.code).toBe('RESTORE_NEEDS_STOPPED_SERVER');
  });
});
