import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Aios, type AiosConfigInput, createAios, loadConfig } from '@aios/core';
import type { Implementation } from '@aios/utils';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { createKey } from '../access/keys.js';
import { type AiosServer, buildServer } from '../app.js';
import type { Scope } from '../auth/keys.js';
import type { JobView } from '../jobs/registry.js';

export interface TestServer {
  home: string;
  system: Aios;
  server: AiosServer;
  /** An admin key of the default tenant (a server admin). */
  adminKey: string;
  /** Creates a key; `tenant` is created first when missing. */
  key(
    scopes: Scope[],
    options?: { tenant?: string; expiresAt?: number },
  ): Promise<{ key: string; id: string }>;
  /** `Authorization` header of a key. */
  auth(key: string): { authorization: string };
  /** A request made with `key`, JSON `payload` when given. */
  call(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    key: string,
    payload?: object,
  ): Promise<LightMyRequestResponse>;
  /** Waits until job `id` has ended (asked with `key`) and returns its last state. */
  jobEnd(id: string, key: string): Promise<JobView>;
  close(): Promise<void>;
}

/**
 * A real server on a real system in a temporary home (tests only); offline unless
 * `options.offline` is false (then `luna.llm` of `overrides` is asked).
 */
export async function startTestServer(
  native: Implementation,
  overrides: Omit<AiosConfigInput, 'home'> = {},
  options: { offline?: boolean } = {},
): Promise<TestServer> {
  const offline = options.offline ?? true;
  const home = mkdtempSync(join(tmpdir(), 'aios-enterprise-'));
  const config = loadConfig({
    overrides: { ...overrides, home, native, logLevel: 'silent' },
    env: {},
  }).config;
  const system = await createAios({ config, offline });
  const server = await buildServer({ system, offline, logger: false });
  const control = system.data;
  const key: TestServer['key'] = async (scopes, options = {}) => {
    const tenant = options.tenant ?? 'default';
    if (!(await control.tenants.get(tenant)))
      await control.tenants.create({ id: tenant, name: tenant });
    const created = await createKey(control, {
      tenant,
      name: 'test',
      scopes,
      ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
    });
    return { key: created.key, id: created.view.id };
  };
  const admin = await key(['admin']);
  const auth = (k: string) => ({ authorization: `Bearer ${k}` });
  const call: TestServer['call'] = (method, url, k, payload) =>
    server.app.inject({
      method,
      url,
      headers: auth(k),
      ...(payload === undefined ? {} : { payload }),
    });
  const jobEnd: TestServer['jobEnd'] = async (id, k) => {
    let view: JobView | undefined;
    await expect
      .poll(
        async () => {
          view = (await call('GET', `/v1/jobs/${id}`, k)).json();
          return view?.status;
        },
        { timeout: 60_000, interval: 50 },
      )
      .not.toBe('running');
    return view as JobView;
  };
  return {
    home,
    system,
    server,
    adminKey: admin.key,
    key,
    auth,
    call,
    jobEnd,
    async close() {
      await server.close();
      await system.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
