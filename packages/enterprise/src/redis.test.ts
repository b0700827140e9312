import {
  freePort,
  startTestRedis,
  type TestRedis,
  testImplementations,
  testTool,
} from '@aios/utils/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from './auth/keys.js';
import { REDIS_KEY_PREFIX } from './limits/rate-store.js';
import { startTestServer, type TestServer } from './test-support/server.js';

const redisServer = testTool('redis-server');

/** One key valid on every server: created in the first home, its record copied to the others. */
async function keyOnAll(
  servers: TestServer[],
  scopes: Scope[] = ['memory:read'],
): Promise<{ key: string; id: string }> {
  const [first, ...rest] = servers as [TestServer, ...TestServer[]];
  const created = await first.key(scopes);
  const record = await first.system.data.apiKeys.get(created.id);
  if (!record) throw new Error('the key just created is missing');
  for (const t of rest) {
    await t.system.data.apiKeys.create({
      id: record.id,
      tenantId: record.tenantId,
      name: record.name,
      secretHash: record.secretHash,
      scopes: record.scopes,
      expiresAt: record.expiresAt,
      createdAt: record.createdAt,
    });
  }
  return created;
}

const status = (t: TestServer, key: string) =>
  t.server.app.inject({ method: 'GET', url: '/v1/status', headers: t.auth(key) });

/**
 * The Redis check of /health, whose checks the server admin sees: a fresh admin key of the
 * default tenant each time, since every key here has 3 requests a minute.
 */
async function redisCheck(t: TestServer) {
  const { key } = await t.key(['admin']);
  const res = await t.server.app.inject({ method: 'GET', url: '/health', headers: t.auth(key) });
  expect(res.statusCode).toBeLessThan(600);
  const report = res.json() as { checks: Record<string, Array<Record<string, unknown>>> };
  return report.checks['redis:responseTime']?.[0];
}

async function rateLimits(t: TestServer) {
  const { key } = await t.key(['memory:read']);
  const res = await status(t, key);
  expect(res.statusCode).toBe(200);
  return res.json().rateLimits as Record<string, unknown>;
}

/** Waits until every server is connected to Redis (a busy machine may take a while). */
async function allReachable(servers: TestServer[]) {
  for (const t of servers) {
    await expect.poll(() => rateLimits(t).then((r) => r.reachable), { timeout: 20_000 }).toBe(true);
  }
}

/** Three servers, each on its own home, with these overrides. */
async function threeServers(impl: Parameters<typeof startTestServer>[0], overrides: object) {
  const servers: TestServer[] = [];
  for (let i = 0; i < 3; i++) servers.push(await startTestServer(impl, overrides));
  return servers;
}

describe.skipIf(!redisServer).each(testImplementations())(
  'rate limits shared through Redis (%s)',
  (impl) => {
    let redis: TestRedis;
    let servers: TestServer[] = [];
    beforeAll(async () => {
      redis = await startTestRedis(redisServer as string);
      servers = await threeServers(impl, {
        redis: { url: redis.url, password: redis.password },
        server: { requestsPerMinute: 3 },
      });
    }, 120_000);
    afterAll(async () => {
      for (const t of servers) await t.close();
      await redis?.close();
    }, 60_000);

    it('gives a key N requests a minute across all instances, the next refused with 429 and Retry-After', async () => {
      await allReachable(servers);
      const { key } = await keyOnAll(servers);
      for (const [i, t] of servers.entries()) {
        const res = await status(t, key);
        expect(res.statusCode).toBe(200);
        expect(res.headers['ratelimit-remaining']).toBe(String(2 - i));
      }
      for (const t of servers) {
        const refused = await status(t, key);
        expect(refused.statusCode).toBe(429);
        expect(refused.json().error.code).toBe('RATE_LIMITED');
        const retryAfter = Number(refused.headers['retry-after']);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }
    });

    it('says the limits are shared in /v1/status, and checks Redis in /health', async () => {
      for (const t of servers) {
        expect(await rateLimits(t)).toEqual({
          scope: 'shared',
          redis: redis.url,
          reachable: true,
          requestsPerMinute: 3,
        });
        expect(await redisCheck(t)).toMatchObject({
          status: 'pass',
          componentType: 'datastore',
          observedUnit: 'ms',
        });
      }
    });

    it('keeps answering when Redis stops, each instance limiting alone, and shares again when it is back', async () => {
      await allReachable(servers);
      const { key, id } = await keyOnAll(servers);
      expect((await status(servers[0] as TestServer, key)).statusCode).toBe(200);
      // The request above was counted in Redis.
      const probe = new Redis(redis.url, { password: redis.password, lazyConnect: true });
      await probe.connect();
      expect(await probe.get(`${REDIS_KEY_PREFIX}${id}`)).toBe('1');
      probe.disconnect();

      await redis.stop();
      // At once, before the servers may have noticed: no request fails for want of Redis,
      // and each instance still holds the key to the limit on its own.
      for (const t of servers) {
        const codes: number[] = [];
        for (let i = 0; i < 4; i++) codes.push((await status(t, key)).statusCode);
        expect(codes).toEqual([200, 200, 200, 429]);
      }
      for (const t of servers) {
        await expect
          .poll(() => rateLimits(t).then((r) => r.reachable), { timeout: 10_000 })
          .toBe(false);
        expect(await rateLimits(t)).toMatchObject({ scope: 'shared', redis: redis.url });
        // Health results are kept for up to 2 s.
        await expect
          .poll(() => redisCheck(t).then((c) => c?.status), { timeout: 10_000 })
          .toBe('warn');
        expect(String((await redisCheck(t))?.output)).toContain('per instance');
      }

      await redis.start();
      await allReachable(servers);
      const again = await keyOnAll(servers);
      const codes: number[] = [];
      for (const t of [...servers, servers[0] as TestServer]) {
        codes.push((await status(t, again.key)).statusCode);
      }
      expect(codes).toEqual([200, 200, 200, 429]);
    });
  },
);

describe.each(testImplementations())('rate limits without Redis (%s)', (impl) => {
  it('are counted by each instance alone', async () => {
    const servers = await threeServers(impl, { server: { requestsPerMinute: 2 } });
    try {
      const { key } = await keyOnAll(servers);
      for (const t of servers) {
        const codes: number[] = [];
        for (let i = 0; i < 3; i++) codes.push((await status(t, key)).statusCode);
        expect(codes).toEqual([200, 200, 429]);
        expect(await rateLimits(t)).toEqual({
          scope: 'instance',
          redis: null,
          reachable: null,
          requestsPerMinute: 2,
        });
        expect(await redisCheck(t)).toBeUndefined();
      }
    } finally {
      for (const t of servers) await t.close();
    }
  });

  it('are counted per instance, never failing a request, while the Redis configured is unreachable from the start', async () => {
    const port = await freePort();
    const t = await startTestServer(impl, {
      redis: { url: `redis://127.0.0.1:${port}` },
      server: { requestsPerMinute: 2 },
    });
    try {
      const { key } = await t.key(['memory:read']);
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) codes.push((await status(t, key)).statusCode);
      expect(codes).toEqual([200, 200, 429]);
      expect(await rateLimits(t)).toEqual({
        scope: 'shared',
        redis: `redis://127.0.0.1:${port}`,
        reachable: false,
        requestsPerMinute: 2,
      });
      expect(await redisCheck(t)).toMatchObject({ status: 'warn' });
    } finally {
      await t.close();
    }
  });
});
