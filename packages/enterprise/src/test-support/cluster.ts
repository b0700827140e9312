import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAios, loadConfig } from '@aios/core';
import { cli } from '../index.js';
import { serveAios } from './cli.js';

/** One `aios serve` process of a cluster: its own home, the shared PostgreSQL and Redis. */
export interface Instance {
  readonly name: string;
  readonly home: string;
  readonly impl: 'native' | 'js';
  url: string;
  kill(): void;
  stderr(): string;
  exited: Promise<number | null>;
}

/** What every instance is configured with (as AIOS_* variables, as a deployment would). */
export function clusterEnv(options: {
  dataUrl: string;
  dataPassword: string;
  redis?: { url: string; password: string };
}): Record<string, string> {
  return {
    AIOS_DATA__URL: options.dataUrl,
    AIOS_DATA__PASSWORD: options.dataPassword,
    ...(options.redis
      ? { AIOS_REDIS__URL: options.redis.url, AIOS_REDIS__PASSWORD: options.redis.password }
      : {}),
    // The test measures what the cluster keeps, not the limit.
    AIOS_SERVER__REQUESTS_PER_MINUTE: '10000000',
  };
}

/** A home for an instance (a temporary directory). */
export function instanceHome(name: string): string {
  return mkdtempSync(join(tmpdir(), `aios-${name}-`));
}

/** `aios serve --offline` on `home`, the built CLI in its own process. */
export async function startInstance(
  name: string,
  home: string,
  impl: 'native' | 'js',
  env: Record<string, string>,
): Promise<Instance> {
  const served = await serveAios(home, ['--offline'], { ...env, AIOS_NATIVE: impl });
  return {
    name,
    home,
    impl,
    url: served.url,
    kill: () => served.child.kill('SIGKILL'),
    stderr: served.stderr,
    exited: served.exited,
  };
}

/**
 * A key with `scopes` in the cluster's store (the default tenant's, shared on PostgreSQL:
 * every instance accepts it), made through the composition root as `aios keys create` does.
 */
export async function clusterKey(env: Record<string, string>, scopes: string[]): Promise<string> {
  const home = instanceHome('cluster-key');
  try {
    const config = loadConfig({ overrides: { home, logLevel: 'silent' }, env }).config;
    const system = await createAios({ config, offline: true });
    try {
      return (await cli.keysCreate(system, { name: 'cluster', scopes })).key;
    } finally {
      await system.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export interface Answer {
  /** The HTTP status; 0 when no answer came (refused connection, reset, timeout). */
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body, checked by each test
  body: any;
  /** Why no answer came (status 0). */
  failure?: string;
}

/** One API call with `key`, bounded in time: a hang is an answer with status 0 too. */
export async function callApi(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  key: string,
  payload?: object,
  timeoutMs = 30_000,
): Promise<Answer> {
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(payload ? { 'content-type': 'application/json' } : {}),
      },
      ...(payload ? { body: JSON.stringify(payload) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text, which the tests refuse for an error
    }
    return { status: res.status, body };
  } catch (error) {
    return { status: 0, body: null, failure: String((error as Error).cause ?? error) };
  }
}

/** The p-th percentile of `values` (sorted here). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}
