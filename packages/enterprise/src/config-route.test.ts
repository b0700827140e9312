import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@aios/core';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support/server.js';

describe.each(testImplementations())('PATCH /v1/config (%s)', (impl) => {
  let t: TestServer;
  let file: string;
  beforeAll(async () => {
    t = await startTestServer(impl);
    file = join(t.home, 'config.json');
  });
  afterAll(() => t.close());

  const patch = (payload: Record<string, unknown>, key = t.adminKey) =>
    t.server.app.inject({ method: 'PATCH', url: '/v1/config', headers: t.auth(key), payload });
  const onDisk = () => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {});

  it("changes allowed keys of the home's config file, as `aios config set` writes it", async () => {
    const res = await patch({
      'carma.search.k': 12,
      'server.conversationRetentionDays': 30,
      'luna.personas.pirate': 'Answer like a pirate.',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      file,
      set: ['carma.search.k', 'server.conversationRetentionDays', 'luna.personas.pirate'],
      removed: [],
      restartRequired: true,
    });
    expect(onDisk()).toEqual({
      carma: { search: { k: 12 } },
      server: { conversationRetentionDays: 30 },
      luna: { personas: { pirate: 'Answer like a pirate.' } },
    });
    const loaded = loadConfig({ overrides: { home: t.home }, env: {} }).config;
    expect(loaded.carma.search.k).toBe(12);
    expect(loaded.server.conversationRetentionDays).toBe(30);

    const unset = await patch({ 'server.conversationRetentionDays': null });
    expect(unset.json()).toMatchObject({ set: [], removed: ['server.conversationRetentionDays'] });
    expect(onDisk().server).toBeUndefined();
  });

  it('refuses keys it may not change, unknown keys and invalid values, leaving the file as it was', async () => {
    const before = readFileSync(file, 'utf8');
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ 'server.host': '0.0.0.0' }, 403, 'CONFIG_KEY_NOT_PATCHABLE'],
      [{ 'luna.llm.apiKey': 'sk-nope' }, 403, 'CONFIG_KEY_NOT_PATCHABLE'],
      [{ 'data.path': '/tmp/elsewhere.db' }, 403, 'CONFIG_KEY_NOT_PATCHABLE'],
      [{ 'carma.embedder.provider': 'openai' }, 403, 'CONFIG_KEY_NOT_PATCHABLE'],
      [{ 'carma.search.k': 12, 'server.port': 80 }, 403, 'CONFIG_KEY_NOT_PATCHABLE'],
      [{ 'carma.serach.k': 3 }, 400, 'CONFIG_UNKNOWN_KEY'],
      [{ 'luna.__proto__': 1 }, 400, 'CONFIG_UNKNOWN_KEY'],
      [{ 'carma.search.k': 0 }, 400, 'CONFIG_INVALID'],
      [{ 'carma.search.mode': 'psychic' }, 400, 'CONFIG_INVALID'],
      [{}, 400, 'INVALID_INPUT'],
    ];
    for (const [payload, status, code] of cases) {
      const res = await patch(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().error.code, JSON.stringify(payload)).toBe(code);
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('is for server admins only', async () => {
    const tenantAdmin = (await t.key(['admin'], { tenant: 'cfg-other' })).key;
    const res = await patch({ 'carma.search.k': 3 }, tenantAdmin);
    expect(res.statusCode).toBe(403);
    expect(onDisk().carma.search.k).toBe(12);
  });
});
