import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support/server.js';

describe.each(testImplementations())('GET /v1/whoami (%s)', (impl) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(impl);
  });
  afterAll(() => t.close());

  const whoami = (key?: string) =>
    t.server.app.inject({
      method: 'GET',
      url: '/v1/whoami',
      ...(key === undefined ? {} : { headers: t.auth(key) }),
    });

  it('answers any valid key with its id, tenant and scopes, even one without memory:read', async () => {
    const chat = await t.key(['chat'], { tenant: 'whoami-chat' });
    const res = await whoami(chat.key);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      keyId: chat.id,
      tenant: 'whoami-chat',
      scopes: ['chat'],
      serverAdmin: false,
    });
    // The same key may not read the tenant's status.
    expect((await t.call('GET', '/v1/status', chat.key)).statusCode).toBe(403);
  });

  it("says which keys administer the server: the default tenant's admin keys only", async () => {
    expect((await whoami(t.adminKey)).json()).toMatchObject({
      tenant: 'default',
      scopes: ['admin'],
      serverAdmin: true,
    });
    const tenantAdmin = await t.key(['admin'], { tenant: 'whoami-admin' });
    expect((await whoami(tenantAdmin.key)).json()).toMatchObject({ serverAdmin: false });
    const reader = await t.key(['memory:read', 'memory:write']);
    expect((await whoami(reader.key)).json()).toMatchObject({
      tenant: 'default',
      scopes: ['memory:read', 'memory:write'],
      serverAdmin: false,
    });
  });

  it('refuses a request without a key', async () => {
    const res = await whoami();
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
  });
});
