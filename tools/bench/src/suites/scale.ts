/**
 * Several `aios serve` instances on one PostgreSQL (and one Redis when installed): add
 * (POST /v1/memory) and search (POST /v1/memory/search) throughput through 1 and through 3
 * instances, the delay until a write through one instance is found by search through the
 * other two, and PostgreSQL against SQLite on one instance for the same two calls. Native
 * cores, offline, autocannon in this process; every server is a real `aios serve` process.
 *
 * Needs PostgreSQL's server binaries (initdb); starts its own server on 127.0.0.1.
 * Alone: `pnpm bench scale [--quick]`.
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createAios, loadConfig } from '@aios/core';
import { cli } from '@aios/enterprise';
import { startTestPostgres, startTestRedis, testTool } from '@aios/utils/testing';
import autocannon from 'autocannon';
import { percentile, serveProcess } from '../serve-process.js';
import type { BenchResult, Suite } from '../types.js';
import { generateCorpus } from './carma.js';

const SUITE = 'scale';
const CONNECTIONS = 30;
const IMPL = 'native';

type Server = Awaited<ReturnType<typeof serveProcess>>;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** autocannon on each of `urls` at once (the connections split between them), summed. */
async function cannon(
  urls: string[],
  path: string,
  body: (n: number) => string,
  key: string,
  seconds: number,
): Promise<Load> {
  let n = 0;
  const runs = await Promise.all(
    urls.map((url) =>
      autocannon({
        url: `${url}${path}`,
        method: 'POST',
        connections: Math.ceil(CONNECTIONS / urls.length),
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        requests: [{ setupRequest: (request) => ({ ...request, body: body(n++) }) }],
      }),
    ),
  );
  return {
    rps: runs.reduce((sum, r) => sum + r.requests.average, 0),
    // The middle instance's median, the slowest instance's p99.
    p50: percentile(
      runs.map((r) => r.latency.p50).sort((a, b) => a - b),
      50,
    ),
    p99: Math.max(...runs.map((r) => r.latency.p99)),
    errors: runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
  };
}

/** A home whose store holds `texts` (at `dataUrl` when given) and an admin key in it. */
async function seed(
  home: string,
  texts: string[],
  data: { url: string; password: string } | undefined,
): Promise<string> {
  const config = loadConfig({
    overrides: { home, native: IMPL, logLevel: 'silent', ...(data ? { data } : {}) },
    env: {},
  }).config;
  const system = await createAios({ config, offline: true });
  try {
    for (let i = 0; i < texts.length; i += 1000)
      await system.memory.addMany(texts.slice(i, i + 1000));
    return (
      await cli.keysCreate(system, { name: 'bench', scopes: ['memory:read', 'memory:write'] })
    ).key;
  } finally {
    await system.close();
  }
}

/** The delay until each of `writes` writes through one instance is found through the others. */
async function propagation(servers: Server[], key: string, writes: number): Promise<number[]> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  const post = async (url: string, path: string, body: object) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const delays: number[] = [];
  for (let i = 0; i < writes; i++) {
    const writer = servers[i % servers.length] as Server;
    const token = `scaleprobe${i}x${Math.random().toString(36).slice(2, 8)}`;
    const added = await post(writer.url, '/v1/memory', {
      text: `Propagation probe ${i}: ${token}.`,
    });
    const id = (added.fragment as { id: string }).id;
    const at = performance.now();
    const seen = await Promise.all(
      servers
        .filter((s) => s !== writer)
        .map(async (reader) => {
          for (;;) {
            const found = await post(reader.url, '/v1/memory/search', { query: token, k: 3 });
            if (
              (found.results as Array<{ fragment: { id: string } }>).some(
                (r) => r.fragment.id === id,
              )
            ) {
              return performance.now() - at;
            }
            if (performance.now() - at > 30_000)
              throw new Error(`${id} not found through ${reader.url}`);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }),
    );
    delays.push(Math.max(...seen));
  }
  return delays.sort((a, b) => a - b);
}

export const scaleSuite: Suite = {
  name: SUITE,
  description:
    'aios serve on PostgreSQL: add/search through 1 and 3 instances, propagation delay, PostgreSQL vs SQLite on one instance',
  async run({ quick, scratch, log }) {
    const initdb = testTool('initdb');
    if (!initdb) {
      log('PostgreSQL is not installed (initdb): skipped');
      return [];
    }
    const size = quick ? 2_000 : 20_000;
    const seconds = quick ? 3 : 10;
    const corpus = generateCorpus(size, 11);
    const queries = Array.from({ length: 200 }, (_, i) =>
      (corpus[(i * 7919) % corpus.length] as string).split(' ').slice(0, 3).join(' '),
    );
    const searchBody = (n: number) => JSON.stringify({ query: queries[n % queries.length], k: 8 });
    const addBody = (prefix: string) => (n: number) =>
      JSON.stringify({ text: `${prefix} ${n}: ${corpus[(n * 31) % corpus.length]}` });
    const results: BenchResult[] = [];
    const params = { fragments: size, connections: CONNECTIONS, seconds, implementation: IMPL };
    const record = (name: string, load: Load, extra: Record<string, unknown> = {}) => {
      if (load.errors > 0) log(`${name}: ${load.errors} failed requests`);
      for (const [metric, value] of [
        ['requests_per_s', load.rps],
        ['p50_ms', load.p50],
        ['p99_ms', load.p99],
      ] as const) {
        results.push({
          suite: SUITE,
          case: name,
          subject: IMPL,
          metric,
          value,
          params: { ...params, ...extra },
        });
      }
    };
    /** add then search through `servers`, named `where`. */
    const measure = async (servers: Server[], key: string, where: string, run: string) => {
      const urls = servers.map((s) => s.url);
      // Warm-up: each instance takes in what the others wrote, its first search pays for it.
      await cannon(urls, '/v1/memory/search', searchBody, key, 1);
      record(`add, ${where}`, await cannon(urls, '/v1/memory', addBody(run), key, seconds));
      await cannon(urls, '/v1/memory/search', searchBody, key, 1);
      record(`search, ${where}`, await cannon(urls, '/v1/memory/search', searchBody, key, seconds));
    };

    // SQLite, one instance.
    {
      const home = join(scratch, 'scale-sqlite');
      log(`SQLite: seeding ${size} fragments`);
      const key = await seed(home, corpus, undefined);
      const server = await serveProcess(home, IMPL, { offline: true });
      try {
        await measure([server], key, 'SQLite, 1 instance', 'sqlite');
      } finally {
        await server.stop();
        rmSync(home, { recursive: true, force: true });
      }
    }

    // PostgreSQL, one then three instances (one Redis for their rate limits).
    const pg = await startTestPostgres(initdb);
    const redisServer = testTool('redis-server');
    const redis = redisServer ? await startTestRedis(redisServer) : undefined;
    const servers: Server[] = [];
    try {
      const database = await pg.createDatabase('scale');
      const data = { url: pg.url(database, { password: null }), password: pg.password };
      log(`PostgreSQL: seeding ${size} fragments`);
      const key = await seed(join(scratch, 'scale-seed'), corpus, data);
      const env = {
        AIOS_DATA__URL: data.url,
        AIOS_DATA__PASSWORD: data.password,
        ...(redis ? { AIOS_REDIS__URL: redis.url, AIOS_REDIS__PASSWORD: redis.password } : {}),
      };
      for (let i = 0; i < 3; i++) {
        servers.push(
          await serveProcess(join(scratch, `scale-pg-${i}`), IMPL, { offline: true, env }),
        );
      }
      await measure(servers.slice(0, 1), key, 'PostgreSQL, 1 instance', 'pg1');
      await measure(servers, key, 'PostgreSQL, 3 instances', 'pg3');
      const writes = quick ? 30 : 150;
      log(`propagation: ${writes} writes, each searched for through the other two instances`);
      const delays = await propagation(servers, key, writes);
      for (const [metric, p] of [
        ['p50_ms', 50],
        ['p99_ms', 99],
      ] as const) {
        results.push({
          suite: SUITE,
          case: 'propagation: write through one, found by search through the other two',
          subject: IMPL,
          metric,
          value: percentile(delays, p),
          params: { writes, instances: 3, redis: redis !== undefined },
        });
      }
    } finally {
      for (const s of servers) await s.stop();
      await redis?.close();
      await pg.close();
    }
    return results;
  },
};
