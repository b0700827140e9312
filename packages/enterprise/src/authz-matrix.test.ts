import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES, type Scope } from './auth/keys.js';
import { type Fixture, makeFixture, ROUTE_EXAMPLES } from './test-support/route-examples.js';
import { startTestServer, type TestServer } from './test-support/server.js';

/**
 * Every route of the table, called with every kind of bad credential: no key, a malformed
 * key, a revoked key, an expired key, a key without the route's scope, and a key of another
 * tenant. Each must get the right status, in the one error shape, and change nothing.
 */
describe.each(testImplementations())('authorization matrix (%s)', (impl) => {
  let t: TestServer;
  let fixture: Fixture;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestServer(impl);
    fixture = await makeFixture(t);
    const revoked = await t.key(['admin']);
    await t.system.data.apiKeys.revoke(revoked.id);
    keys.revoked = revoked.key;
    const expiring = await t.key(['admin'], { expiresAt: Date.now() + 150 });
    keys.expired = expiring.key;
    keys.other = (await t.key([...SCOPES], { tenant: 'matrix-other' })).key;
    keys.tenantAdmin = (await t.key(['admin'], { tenant: 'matrix-admin' })).key;
    for (const scope of SCOPES) {
      // Every scope but this one (and never admin, which holds them all).
      const others = SCOPES.filter((s) => s !== scope && s !== 'admin') as Scope[];
      keys[`without:${scope}`] = (await t.key(others)).key;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  });
  afterAll(() => t.close());

  /** What the owner tenant holds: must be the same before and after a refused request. */
  async function ownerState(): Promise<string> {
    const data = t.system.data;
    return JSON.stringify([
      t.system.memory.stats().fragments,
      (await data.conversations.list({ limit: 1000 })).map((c) => c.id),
      (await data.apiKeys.list()).map((k) => [k.id, k.revokedAt]),
      (await data.tenants.list()).map((x) => x.id),
      (await t.system.backup.list().catch(() => ({ snapshots: [] }))).snapshots?.length ?? 0,
    ]);
  }

  it('has an example for every route', () => {
    const missing = t.server.routes
      .filter((r) => r.access !== 'public')
      .map((r) => `${r.method} ${r.url}`)
      .filter((name) => !(name in ROUTE_EXAMPLES));
    expect(missing).toEqual([]);
  });

  it('refuses every non-public route without a usable key or scope, changing nothing', async () => {
    const failures: string[] = [];
    for (const route of t.server.routes.filter((r) => r.access !== 'public')) {
      const name = `${route.method} ${route.url}`;
      const example = ROUTE_EXAMPLES[name];
      if (!example) continue;
      const { url, payload, headers } = example.request(fixture);
      const cases: Array<[string, string | undefined, number]> = [
        ['no key', undefined, 401],
        ['malformed key', 'aios_sk_nope', 401],
        ['revoked key', keys.revoked, 401],
        ['expired key', keys.expired, 401],
      ];
      if (route.access !== 'authenticated') {
        cases.push([`key without ${route.access}`, keys[`without:${route.access}`], 403]);
      }
      if (route.serverAdmin) cases.push(['tenant admin', keys.tenantAdmin, 403]);
      if (example.ownResource)
        cases.push(["another tenant's key", keys.other, route.serverAdmin ? 403 : 404]);
      for (const [what, key, status] of cases) {
        const before = await ownerState();
        const res = await t.server.app.inject({
          method: route.method as 'GET',
          url,
          ...(payload === undefined ? {} : { payload: payload as object }),
          headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) },
        });
        const body = res.json() as { error?: { code?: string } };
        if (res.statusCode !== status || typeof body.error?.code !== 'string') {
          failures.push(
            `${name} with ${what}: ${res.statusCode} ${res.body.slice(0, 120)} (expected ${status})`,
          );
        }
        if ((await ownerState()) !== before)
          failures.push(`${name} with ${what}: changed the owner's data`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('lets the right key through on every route', async () => {
    const failures: string[] = [];
    for (const route of t.server.routes.filter((r) => r.access !== 'public')) {
      const name = `${route.method} ${route.url}`;
      const example = ROUTE_EXAMPLES[name];
      if (!example) continue;
      const { url, payload, headers } = example.request(fixture);
      const res = await t.server.app.inject({
        method: route.method as 'GET',
        url,
        ...(payload === undefined ? {} : { payload: payload as object }),
        headers: { ...headers, authorization: `Bearer ${t.adminKey}` },
      });
      const valid = example.alsoValid?.includes(res.statusCode) ?? false;
      if (!valid && (res.statusCode === 401 || res.statusCode === 403 || res.statusCode >= 500)) {
        failures.push(`${name}: ${res.statusCode} ${res.body.slice(0, 160)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
