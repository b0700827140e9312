import { loadConfig } from '@aios/core';
import { testImplementations } from '@aios/utils/testing';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AiosServer, buildServer } from './app.js';
import type { Api, ServerContext } from './context.js';
import { installRetention } from './retention.js';
import { startTestServer, type TestServer } from './test-support/server.js';

const DAY = 24 * 60 * 60 * 1000;

describe.each(testImplementations())('conversation retention (%s)', (impl) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(impl, { server: { conversationRetentionDays: 30 } });
  });
  afterAll(() => t.close());

  /** Conversations of `data`: one untouched for 40 days, one for 10. */
  async function seed(data: TestServer['system']['data'], label: string) {
    const old = await data.conversations.create({
      title: `${label} old`,
      createdAt: Date.now() - 40 * DAY,
    });
    const recent = await data.conversations.create({
      title: `${label} recent`,
      createdAt: Date.now() - 10 * DAY,
    });
    return { old: old.id, recent: recent.id };
  }

  it('deletes, in every tenant, the conversations untouched for longer, when the server starts', async () => {
    const own = await seed(t.system.data, 'own');
    await t.system.data.tenants.create({ id: 'ret-a', name: 'ret-a' });
    const tenant = await seed((await t.server.context.tenants.system('ret-a')).data, 'ret-a');
    // A second server on the same home sweeps as it starts (the first lets go of the tenant).
    await t.server.context.tenants.closeTenant('ret-a');
    const second: AiosServer = await buildServer({
      system: t.system,
      offline: true,
      logger: false,
    });
    try {
      const tenantData = (await second.context.tenants.system('ret-a')).data;
      await expect
        .poll(async () => (await t.system.data.conversations.get(own.old)) === undefined)
        .toBe(true);
      await expect
        .poll(async () => (await tenantData.conversations.get(tenant.old)) === undefined)
        .toBe(true);
      expect(await t.system.data.conversations.get(own.recent)).toBeDefined();
      expect(await tenantData.conversations.get(tenant.recent)).toBeDefined();
      await second.context.audit.flush();
      await expect
        .poll(async () => {
          await second.context.audit.flush();
          const entries = await t.system.data.audit.list({ limit: 1000 });
          return entries
            .filter((e) => e.action === 'retention.sweep' && e.outcome === 'ok')
            .map((e) => [e.tenantId, e.details.deleted]);
        })
        .toEqual(
          expect.arrayContaining([
            ['default', 1],
            ['ret-a', 1],
          ]),
        );
    } finally {
      await second.close();
    }
  });

  it('sweeps again on a timer that stops with the server', async () => {
    const base: ServerContext = t.server.context;
    const ctx: ServerContext = {
      ...base,
      config: { ...base.config, server: { ...base.config.server, conversationRetentionDays: 1 } },
      stopping: false,
    } as ServerContext;
    let sweeps = 0;
    const audit = {
      ...base.audit,
      record: (entry: { action: string; tenantId?: string | null }) => {
        if (entry.action === 'retention.sweep' && entry.tenantId === 'default') sweeps++;
      },
    };
    const app = Fastify({ logger: false });
    installRetention(
      app as unknown as Api,
      { ...ctx, audit: audit as unknown as ServerContext['audit'] },
      20,
    );
    await app.ready();
    await expect.poll(() => sweeps, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await app.close();
    const after = sweeps;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sweeps).toBe(after);
  });

  it('does nothing without a configured retention', async () => {
    const app = Fastify({ logger: false });
    const config = loadConfig({ overrides: { home: t.home }, env: {} }).config;
    let added = 0;
    const fake = { addHook: () => added++ } as unknown as Api;
    installRetention(fake, { ...t.server.context, config } as ServerContext);
    expect(added).toBe(0);
    await app.close();
  });
});
