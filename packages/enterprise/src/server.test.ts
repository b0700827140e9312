import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support/server.js';

describe.each(testImplementations())('the server (%s)', (impl) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(impl);
  });
  afterAll(() => t.close());

  it('answers the probes without a key, and puts a request id on every answer', async () => {
    const live = await t.server.app.inject({ method: 'GET', url: '/livez' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    expect(live.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const given = await t.server.app.inject({
      method: 'GET',
      url: '/readyz',
      headers: { 'x-request-id': 'trace-42' },
    });
    expect(given.headers['x-request-id']).toBe('trace-42');
  });

  it('names a failing readiness check to anyone, and what it saw to the server admin only', async () => {
    const seen = 'postgres://aios@db.internal:5432 refused the connection';
    const unregister = t.system.health.register({
      name: 'store:reachable',
      componentType: 'datastore',
      run: () => ({ status: 'fail', output: seen }),
    });
    try {
      const ready = await t.server.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      // Others may fail beside it on a busy machine (the event loop's delay).
      expect(ready.json().error.code).toBe('NOT_READY');
      expect(ready.json().error.details.failing).toContain('store:reachable');
      expect(ready.body).not.toContain('db.internal');
      const health = await t.server.app.inject({
        method: 'GET',
        url: '/health',
        headers: t.auth(t.adminKey),
      });
      expect(health.statusCode).toBe(503);
      expect(health.body).toContain(seen);
    } finally {
      unregister();
    }
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await t.server.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/keys');
    expect(doc.paths['/v1/keys'].post.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/livez'].get.security).toBeUndefined();
  });

  it('answers every error in one shape with a stable code', async () => {
    const none = await t.server.app.inject({ method: 'GET', url: '/v1/keys' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({
      error: { code: 'UNAUTHENTICATED', details: { reason: 'missing' } },
    });
    const unknownRoute = await t.server.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(unknownRoute.statusCode).toBe(404);
    expect(unknownRoute.json().error.code).toBe('NOT_FOUND');
    const badBody = await t.server.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: t.auth(t.adminKey),
      payload: { name: 'x', scopes: ['chat'], extra: 1 },
    });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json().error).toMatchObject({ code: 'INVALID_INPUT' });
    expect(badBody.json().error.message).toMatch(/extra/);
    const badJson = await t.server.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: { ...t.auth(t.adminKey), 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error.code).toBe('INVALID_JSON');
    // A JSON content type with nothing sent: no body. A route that needs one says so.
    const json = { ...t.auth(t.adminKey), 'content-type': 'application/json' };
    const noBody = await t.server.app.inject({ method: 'POST', url: '/v1/keys', headers: json });
    expect(noBody.statusCode).toBe(400);
    expect(noBody.json().error).toMatchObject({
      code: 'INVALID_INPUT',
      details: { field: 'body' },
    });
    const added = await t.server.app.inject({
      method: 'POST',
      url: '/v1/memory',
      headers: t.auth(t.adminKey),
      payload: { text: 'The spare key is under the blue pot.' },
    });
    const id = added.json().fragment.id as string;
    const deleted = await t.server.app.inject({
      method: 'DELETE',
      url: `/v1/memory/${id}`,
      headers: json,
    });
    expect(deleted.statusCode, deleted.body).toBeLessThan(300);
    expect(await t.system.memory.get(id)).toBeUndefined();
  });

  it('refuses a key that would have expired already, saying the date it was given', async () => {
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: t.auth(t.adminKey),
      payload: { name: 'old', scopes: ['admin'], expiresAt: '2020-01-01T00:00:00Z' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'expiresAt: expected a time in the future, got 2020-01-01T00:00:00.000Z',
      details: { field: 'expiresAt' },
    });
  });

  it('creates a key shown once, lists it without its secret, and refuses it once revoked', async () => {
    const created = await t.server.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: t.auth(t.adminKey),
      payload: { name: 'reader', scopes: ['memory:read'] },
    });
    expect(created.statusCode).toBe(201);
    const { key, apiKey } = created.json();
    expect(key).toMatch(/^aios_sk_[a-z2-7]{10}_[A-Za-z0-9_-]{43}$/);
    const list = await t.server.app.inject({
      method: 'GET',
      url: '/v1/keys',
      headers: t.auth(t.adminKey),
    });
    // The secret is the last 43 characters; it may itself hold '_', so it is not split out.
    expect(JSON.stringify(list.json())).not.toContain(key.slice(-43));
    const status = await t.server.app.inject({
      method: 'GET',
      url: '/v1/status',
      headers: t.auth(key),
    });
    expect(status.statusCode).toBe(200);
    expect(status.json().tenant).toBe('default');
    const forbidden = await t.server.app.inject({
      method: 'GET',
      url: '/v1/keys',
      headers: t.auth(key),
    });
    expect(forbidden.statusCode).toBe(403);
    const revoked = await t.server.app.inject({
      method: 'DELETE',
      url: `/v1/keys/${apiKey.id}`,
      headers: t.auth(t.adminKey),
    });
    expect(revoked.statusCode).toBe(200);
    const after = await t.server.app.inject({
      method: 'GET',
      url: '/v1/status',
      headers: t.auth(key),
    });
    expect(after.statusCode).toBe(401);
    expect(after.json().error.details.reason).toBe('revoked');
  });

  it("serves its metrics to an admin key: the requests it answered and its own process's figures", async () => {
    await t.server.app.inject({ method: 'GET', url: '/livez' });
    const res = await t.server.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: t.auth(t.adminKey),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^aios_requests_total\{core="enterprise",/m);
    // A server keeps running: its CPU, memory and event loop are worth watching.
    expect(res.body).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(res.body).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
  });

  it('shows the health checks to the server admin only: another key gets the overall status', async () => {
    const health = (key: string) =>
      t.server.app.inject({ method: 'GET', url: '/health', headers: t.auth(key) });
    const full = await health(t.adminKey);
    expect(full.statusCode).toBeLessThan(600);
    expect(Object.keys(full.json().checks)).toEqual(
      expect.arrayContaining(['disk:free', 'backup:age']),
    );
    expect(full.body).toContain(t.home);
    const keys = [
      (await t.key(['memory:read'], { tenant: 'health-other' })).key,
      (await t.key(['admin'], { tenant: 'health-other' })).key,
      (await t.key(['memory:read'])).key,
    ];
    for (const key of keys) {
      const res = await health(key);
      expect([200, 503]).toContain(res.statusCode);
      expect(res.headers['content-type']).toMatch(/^application\/health\+json/);
      const report = res.json();
      expect(['pass', 'warn', 'fail']).toContain(report.status);
      expect(res.statusCode === 503).toBe(report.status === 'fail');
      expect(report.checks).toEqual({});
      expect(report.output).toBeUndefined();
      expect(res.body).not.toContain(t.home);
      expect(res.body).not.toContain('backup');
    }
  });

  it('audits mutations and failed authentication in a chain that verifies', async () => {
    await t.server.app.inject({ method: 'GET', url: '/v1/keys', headers: t.auth('aios_sk_bad') });
    const audit = await t.server.app.inject({
      method: 'GET',
      url: '/v1/audit',
      headers: t.auth(t.adminKey),
    });
    const actions = audit.json().items.map((e: { action: string }) => e.action);
    expect(actions).toContain('keys.create');
    expect(actions).toContain('auth.failed');
    const verify = await t.server.app.inject({
      method: 'GET',
      url: '/v1/audit/verify',
      headers: t.auth(t.adminKey),
    });
    expect(verify.json()).toMatchObject({ ok: true });
  });
});

describe('a request refused before routing', () => {
  it('is answered in the one error shape, and the server goes on', async () => {
    const t = await startTestServer('js');
    try {
      await t.server.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.server.app.server.address() as AddressInfo;
      const base = `http://127.0.0.1:${port}`;
      // A URL over Node's 16 KiB header limit: the parser refuses it before Fastify sees it.
      const long = await fetch(`${base}/v1/memory?source=${'%F4%81%A3%B1'.repeat(2_000)}`, {
        headers: t.auth(t.adminKey),
      });
      expect(long.status).toBe(431);
      const body = (await long.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({ code: 'HEADERS_TOO_LARGE', details: {} });
      expect(long.headers.get('x-request-id')).toBe(body.error.requestId);
      const garbage = await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n');
      expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
      expect(garbage).toContain('"code":"INVALID_REQUEST"');
      expect((await fetch(`${base}/livez`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

/** Sends bytes as they are and reads the answer until the server closes. */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

describe('closing the server', () => {
  it('is not held up by a connection that never sent a request', async () => {
    const t = await startTestServer('js', { server: { shutdownTimeoutMs: 300 } });
    await t.server.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.server.app.server.address() as AddressInfo;
    const socket = connect(address.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const started = Date.now();
    await t.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    socket.destroy();
  });
});
