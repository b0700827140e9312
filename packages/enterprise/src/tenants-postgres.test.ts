import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  startTestPostgres,
  type TestPostgres,
  testImplementations,
  testTool,
} from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from './auth/keys.js';
import { tenantSchema } from './tenants/ids.js';
import { TENANT_RECHECK_MS } from './tenants/registry.js';
import {
  type PostgresTestServer,
  startPostgresTestServer,
} from './test-support/postgres-server.js';
import { type Fixture, makeFixture, ROUTE_EXAMPLES } from './test-support/route-examples.js';
import { startTestServer, type TestServer } from './test-support/server.js';

const initdb = testTool('initdb');

/**
 * Tenants of a server whose store is PostgreSQL: every tenant names the same database
 * (`data.url`), so each must live in a schema of its own, or one tenant reads another's.
 */
describe.skipIf(!initdb).each(testImplementations())('tenants on one PostgreSQL (%s)', (impl) => {
  let pg: TestPostgres;
  let database: string;
  let t: TestServer;
  let fixture: Fixture;
  let other: string;
  let third: string;

  let cluster: PostgresTestServer;

  beforeAll(async () => {
    cluster = await startPostgresTestServer(initdb as string, impl, `tenants_${impl}`, {
      server: { requestsPerMinute: 100_000 },
    });
    ({ pg, database, server: t } = cluster);
    fixture = await makeFixture(t);
    other = (await t.key([...SCOPES], { tenant: 'pg-other' })).key;
    third = (await t.key(['memory:read', 'memory:write'], { tenant: 'pg-third' })).key;
  }, 120_000);
  afterAll(() => cluster?.close(), 60_000);

  const schemas = async () =>
    (
      await pg.sql(
        database,
        "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname LIKE 'aios_t_%'",
      )
    ).split(',');

  it("gives another tenant's key 404 on every route that names the owner's resource, changing nothing", async () => {
    const state = async () =>
      JSON.stringify([
        t.system.memory.stats().fragments,
        (await t.system.data.conversations.list({ limit: 1000 })).map((c) => c.id),
        (await t.system.data.feedback.list({ limit: 1000 })).map((f) => f.id),
      ]);
    const failures: string[] = [];
    const routes = t.server.routes.filter(
      (r) => ROUTE_EXAMPLES[`${r.method} ${r.url}`]?.ownResource,
    );
    expect(routes.length).toBeGreaterThan(5);
    for (const route of routes) {
      const name = `${route.method} ${route.url}`;
      const { url, payload, headers } = (
        ROUTE_EXAMPLES[name] as NonNullable<(typeof ROUTE_EXAMPLES)[string]>
      ).request(fixture);
      const before = await state();
      const res = await t.server.app.inject({
        method: route.method as 'GET',
        url,
        ...(payload === undefined ? {} : { payload: payload as object }),
        headers: { ...headers, authorization: `Bearer ${other}` },
      });
      const expected = route.serverAdmin ? 403 : 404;
      if (res.statusCode !== expected) {
        failures.push(
          `${name}: ${res.statusCode} ${res.body.slice(0, 120)} (expected ${expected})`,
        );
      }
      if ((await state()) !== before) failures.push(`${name}: changed the owner's data`);
    }
    expect(failures).toEqual([]);
  });

  it("finds none of another tenant's memories, each tenant's store a schema of its own", async () => {
    const add = async (key: string, text: string) => {
      const res = await t.call('POST', '/v1/memory', key, { text });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().fragment.id as string;
    };
    const search = async (key: string, query: string) => {
      const res = await t.call('POST', '/v1/memory/search', key, { query, k: 20 });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json().results as Array<{ fragment: { text: string } }>).map(
        (r) => r.fragment.text,
      );
    };
    const secret = 'Other tenant: the spare key is under the blue flowerpot.';
    const id = await add(other, secret);
    await add(third, 'Third tenant: the garden gate squeaks.');
    expect(await search(other, 'spare key blue flowerpot')).toContain(secret);
    expect(await search(third, 'spare key blue flowerpot')).not.toContain(secret);
    expect(await search(t.adminKey, 'spare key blue flowerpot')).not.toContain(secret);
    expect((await t.call('GET', `/v1/memory/${id}`, third)).statusCode).toBe(404);
    expect((await t.call('GET', `/v1/memory/${id}`, t.adminKey)).statusCode).toBe(404);
    const listed = (await t.call('GET', '/v1/memory', third)).json().items as Array<{
      text: string;
    }>;
    expect(listed.map((f) => f.text)).toEqual(['Third tenant: the garden gate squeaks.']);
    expect(await schemas()).toEqual(expect.arrayContaining(['aios_t_pg_other', 'aios_t_pg_third']));
    // The default tenant keeps the URL's own schema.
    expect(
      await pg.sql(
        database,
        "SELECT count(*) FROM public.fragments WHERE text LIKE 'Other tenant%'",
      ),
    ).toBe('0');
    expect(
      await pg.sql(
        database,
        "SELECT count(*) FROM aios_t_pg_other.fragments WHERE text LIKE 'Other tenant%'",
      ),
    ).toBe('1');
  });

  it("backs a tenant up as a dump of its own schema, not the others'", async () => {
    const res = await t.call('POST', '/v1/backups', other, {});
    expect(res.statusCode, res.body).toBe(202);
    const job = await t.jobEnd(res.json().id, other);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const system = await t.server.context.tenants.system('pg-other');
    const [snapshot] = (await system.backup.list()).snapshots;
    const repo = await system.backup.open();
    const dumps = (await repo.loadSnapshot(snapshot?.id as string)).entries
      .map((e) => e.path)
      .filter((path) => path.startsWith('postgres/') && path.endsWith('.sql'));
    expect(dumps).toEqual([`postgres/${database}/aios_t_pg_other.sql`]);
  });

  it("erases a tenant by dropping its schema, leaving the others' untouched", async () => {
    const doomed = (await t.key(['memory:read', 'memory:write'], { tenant: 'pg-doomed' })).key;
    const res = await t.call('POST', '/v1/memory', doomed, { text: 'Doomed tenant: the mill.' });
    expect(res.statusCode, res.body).toBe(201);
    expect(await schemas()).toContain('aios_t_pg_doomed');
    const erased = await t.call('DELETE', '/v1/tenants/pg-doomed', t.adminKey);
    expect(erased.statusCode, erased.body).toBe(200);
    expect(erased.json()).toMatchObject({ tenant: 'pg-doomed', schema: 'aios_t_pg_doomed' });
    expect(await schemas()).not.toContain('aios_t_pg_doomed');
    expect(await schemas()).toContain('aios_t_pg_other');
    expect(
      await pg.sql(
        database,
        "SELECT count(*) FROM aios_t_pg_other.fragments WHERE text LIKE 'Other tenant%'",
      ),
    ).toBe('1');
    expect((await t.call('GET', '/v1/memory', doomed)).statusCode).toBe(401);
    // Made again, the tenant starts empty.
    const reborn = (await t.key(['memory:read'], { tenant: 'pg-doomed' })).key;
    const list = await t.call('GET', '/v1/memory', reborn);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().items).toEqual([]);
  });
});

describe.skipIf(!initdb)('a tenant erased through another server on the same PostgreSQL', () => {
  let pg: TestPostgres;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    pg = await startTestPostgres(initdb as string);
    const database = await pg.createDatabase('tenants_two');
    const overrides = {
      data: { url: pg.url(database, { password: null }), password: pg.password },
      server: { requestsPerMinute: 100_000 },
    };
    const impl = testImplementations()[0] as 'native';
    servers.push(await startTestServer(impl, overrides), await startTestServer(impl, overrides));
  }, 120_000);
  afterAll(async () => {
    for (const t of servers) await t.close();
    await pg?.close();
  }, 60_000);

  it('is not served from the other server’s open system once erased, nor when its id is made again', async () => {
    const [a, b] = servers as [TestServer, TestServer];
    const search = async (t: TestServer, key: string, query: string) => {
      const res = await t.call('POST', '/v1/memory/search', key, { query, k: 20 });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json().results as Array<{ fragment: { text: string } }>).map(
        (r) => r.fragment.text,
      );
    };
    const before = (await a.key(['memory:read', 'memory:write', 'backup'], { tenant: 'pg-twice' }))
      .key;
    const erased = 'Erased tenant: the old vault code is nine nine four.';
    const added = await b.call('POST', '/v1/memory', before, { text: erased });
    expect(added.statusCode, added.body).toBe(201);
    expect(await search(b, before, 'vault code nine')).toContain(erased);
    // A backup of it through the second server: in that server's home.
    const backup = await b.call('POST', '/v1/backups', before, {});
    expect(backup.statusCode, backup.body).toBe(202);
    expect((await b.jobEnd(backup.json().id, before)).status).toBe('succeeded');
    const snapshots = join(b.server.context.tenants.homeOf('pg-twice'), 'backups', 'snapshots');
    const count = () =>
      existsSync(snapshots) ? readdirSync(snapshots).filter((n) => n.endsWith('.json')).length : 0;
    expect(count()).toBe(1);

    expect((await a.call('DELETE', '/v1/tenants/pg-twice', a.adminKey)).statusCode).toBe(200);
    expect((await b.call('GET', '/v1/memory', before)).statusCode).toBe(401);
    // Made again under the same id, through the first server.
    const after = (await a.key(['memory:read', 'memory:write'], { tenant: 'pg-twice' })).key;
    const fresh = 'New tenant: the new vault code is one two three.';
    expect((await a.call('POST', '/v1/memory', after, { text: fresh })).statusCode).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, TENANT_RECHECK_MS + 100));
    const found = await search(b, after, 'vault code');
    expect(found).toContain(fresh);
    expect(found).not.toContain(erased);
    const list = await b.call('GET', '/v1/memory', after);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().items.map((f: { text: string }) => f.text)).toEqual([fresh]);
    // The erased tenant's files on the second server (its backup among them) went with it.
    expect(count()).toBe(0);
  });

  it('is closed on the other server, its files there removed, with no request for it', {
    timeout: 60_000,
  }, async () => {
    const [a, b] = servers as [TestServer, TestServer];
    const key = (await a.key(['memory:read', 'memory:write'], { tenant: 'pg-quiet' })).key;
    const added = await b.call('POST', '/v1/memory', key, { text: 'Quiet tenant: the attic.' });
    expect(added.statusCode, added.body).toBe(201);
    const home = b.server.context.tenants.homeOf('pg-quiet');
    expect(existsSync(home)).toBe(true);
    expect(b.server.context.tenants.openTenants()).toContain('pg-quiet');

    expect((await a.call('DELETE', '/v1/tenants/pg-quiet', a.adminKey)).statusCode).toBe(200);
    // Its keys are refused at once, so no request of its own would reach its system.
    // Swept every TENANT_RECHECK_MS; a loaded machine gets ample time to close and remove it.
    const deadline = Date.now() + 10 * TENANT_RECHECK_MS;
    while (Date.now() < deadline && existsSync(home)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(existsSync(home), 'the erased tenant’s files on the other server').toBe(false);
    expect(b.server.context.tenants.openTenants()).not.toContain('pg-quiet');
  });
});

describe('tenant schemas', () => {
  it('are aios_t_<id> with dashes as underscores, under data.schema when it is set', () => {
    expect(tenantSchema('acme')).toBe('aios_t_acme');
    expect(tenantSchema('team-a-2')).toBe('aios_t_team_a_2');
    expect(tenantSchema('acme', 'prod')).toBe('prod_t_acme');
  });

  it('name an id too long for PostgreSQL by its hash, within 63 characters and apart', () => {
    const long = 'x'.repeat(63);
    const named = tenantSchema(long);
    expect(named).toMatch(/^aios_th_[0-9a-f]{32}$/);
    expect(tenantSchema(`${'x'.repeat(62)}y`)).not.toBe(named);
    expect(tenantSchema(long, 'p'.repeat(63)).length).toBeLessThanOrEqual(63);
    expect(tenantSchema('x'.repeat(56))).toBe(`aios_t_${'x'.repeat(56)}`);
  });
});
