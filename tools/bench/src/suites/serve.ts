import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildServer } from '@aios/enterprise';
import autocannon from 'autocannon';
import type { InjectOptions } from 'fastify';
import { percentile, processCpuMs, seededHome, serveProcess } from '../serve-process.js';
import type { BenchResult, Suite } from '../types.js';
import { generateCorpus } from './carma.js';

const CONNECTIONS = 32;
const require = createRequire(import.meta.url);

/** The words of the corpus, for queries that hit realistic posting lists. */
function queries(corpus: string[], count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const words = (corpus[(i * 7919) % corpus.length] as string).split(' ');
    return words.slice(0, 3).join(' ');
  });
}

/** A bare Fastify route with a fixed body: the framework's own ceiling on this machine. */
function bareFastify(): Promise<{ url: string; child: ChildProcess }> {
  const fastify = require.resolve('fastify');
  const script = `
    const app = require(${JSON.stringify(fastify)})({ logger: false });
    const body = { results: [{ id: 'x', text: 'fixed', score: 1 }] };
    app.post('/search', async () => body);
    app.listen({ host: '127.0.0.1', port: 0 }).then((url) => console.log('listening ' + url));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /listening (\S+)/.exec(chunk.toString());
      if (match?.[1]) resolve({ url: match[1], child });
    });
    child.on('exit', (code) => reject(new Error(`bare fastify exited with ${code}`)));
  });
}

async function cannon(
  url: string,
  bodies: string[],
  headers: Record<string, string>,
  seconds: number,
): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  let i = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...headers },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: bodies[i++ % bodies.length] as string }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors,
  };
}

export const serveSuite: Suite = {
  name: 'serve',
  description:
    'aios serve: HTTP search vs the same search in-process vs a bare Fastify route; auth+limit+audit overhead',
  async run({ quick, scratch, log }) {
    const results: BenchResult[] = [];
    const size = quick ? 10_000 : 100_000;
    const seconds = quick ? 3 : 10;
    const corpus = generateCorpus(size, 7);
    const asked = queries(corpus, 200);
    for (const native of ['native', 'js'] as const) {
      const home = join(scratch, `serve-${native}`);
      const { system, key } = await seededHome(home, native, corpus, ['admin'], (m) =>
        log(`serve ${m}`),
      );
      const params = { fragments: size, connections: CONNECTIONS, k: 8 };

      // In-process: the same search, at the same concurrency, no HTTP.
      const latencies: number[] = [];
      const until = performance.now() + seconds * 1000;
      let done = 0;
      const cpuBefore = process.cpuUsage();
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async (_, worker) => {
          for (let q = worker; performance.now() < until; q += CONNECTIONS) {
            const start = performance.now();
            await system.memory.search(asked[q % asked.length] as string, { k: 8 });
            latencies.push(performance.now() - start);
            done++;
          }
        }),
      );
      const cpu = process.cpuUsage(cpuBefore);
      latencies.sort((a, b) => a - b);
      const inProcess = done / seconds;
      // CPU per search, on every thread of the process (the libuv pool's searches too).
      const inProcessCpuMs = (cpu.user + cpu.system) / 1000 / done;
      results.push(
        {
          suite: 'serve',
          case: 'search, in-process',
          subject: native,
          metric: 'requests_per_s',
          value: inProcess,
          params,
        },
        {
          suite: 'serve',
          case: 'search, in-process',
          subject: native,
          metric: 'p50_ms',
          value: percentile(latencies, 50),
          params,
        },
        {
          suite: 'serve',
          case: 'search, in-process',
          subject: native,
          metric: 'p99_ms',
          value: percentile(latencies, 99),
          params,
        },
        {
          suite: 'serve',
          case: 'search, in-process',
          subject: native,
          metric: 'cpu_ms_per_request',
          value: inProcessCpuMs,
          params,
        },
      );

      // Authentication, rate limit and audit, without sockets: a public probe against an
      // authenticated, audited request whose handler does almost nothing (an unknown key).
      const server = await buildServer({ system, offline: true, logger: false });
      const time = async (request: InjectOptions, n: number) => {
        const each: number[] = [];
        for (let i = 0; i < n; i++) {
          const start = process.hrtime.bigint();
          await server.app.inject(request);
          each.push(Number(process.hrtime.bigint() - start) / 1e6);
        }
        return percentile(
          each.sort((a, b) => a - b),
          50,
        );
      };
      const n = quick ? 2000 : 10_000;
      await time({ method: 'GET', url: '/livez' }, 500);
      const bare = await time({ method: 'GET', url: '/livez' }, n);
      const guarded = await time(
        {
          method: 'DELETE',
          url: '/v1/keys/aaaaaaaaaa',
          headers: { authorization: `Bearer ${key}` },
        },
        n,
      );
      await server.close();
      await system.close();
      results.push({
        suite: 'serve',
        case: 'auth + rate limit + audit',
        subject: native,
        metric: 'overhead_p50_ms',
        value: Math.max(0, guarded - bare),
        params: { requests: n, public_p50_ms: bare, guarded_p50_ms: guarded },
      });

      // Over HTTP: `aios serve` in its own process, autocannon here.
      const running = await serveProcess(home, native, { offline: true });
      try {
        const bodies = asked.map((q) => JSON.stringify({ query: q, k: 8 }));
        await cannon(
          `${running.url}/v1/memory/search`,
          bodies,
          { authorization: `Bearer ${key}` },
          1,
        );
        // Where the CPU goes over HTTP: the server's process, and this one (autocannon),
        // which shares the same two cores.
        const serverBefore = processCpuMs(running.child.pid);
        const clientBefore = process.cpuUsage();
        const http = await cannon(
          `${running.url}/v1/memory/search`,
          bodies,
          { authorization: `Bearer ${key}` },
          seconds,
        );
        const clientCpu = process.cpuUsage(clientBefore);
        const serverAfter = processCpuMs(running.child.pid);
        const requests = http.rps * seconds;
        if (http.errors > 0) log(`serve (${native}): ${http.errors} failed requests`);
        results.push(
          {
            suite: 'serve',
            case: 'search, HTTP',
            subject: native,
            metric: 'requests_per_s',
            value: http.rps,
            params,
          },
          {
            suite: 'serve',
            case: 'search, HTTP',
            subject: native,
            metric: 'p50_ms',
            value: http.p50,
            params,
          },
          {
            suite: 'serve',
            case: 'search, HTTP',
            subject: native,
            metric: 'p99_ms',
            value: http.p99,
            params,
          },
          ...(serverBefore === undefined || serverAfter === undefined
            ? []
            : [
                {
                  suite: 'serve',
                  case: 'search, HTTP',
                  subject: native,
                  metric: 'server_cpu_ms_per_request',
                  value: (serverAfter - serverBefore) / requests,
                  params,
                },
              ]),
          {
            suite: 'serve',
            case: 'search, HTTP',
            subject: native,
            metric: 'load_generator_cpu_ms_per_request',
            value: (clientCpu.user + clientCpu.system) / 1000 / requests,
            params,
          },
          {
            suite: 'serve',
            case: 'search, HTTP / in-process',
            subject: native,
            metric: 'ratio',
            value: http.rps / inProcess,
            params,
          },
        );
      } finally {
        await running.stop();
      }
    }

    const bareServer = await bareFastify();
    try {
      const ceiling = await cannon(`${bareServer.url}/search`, ['{}'], {}, seconds);
      results.push(
        {
          suite: 'serve',
          case: 'bare Fastify route',
          subject: 'fastify',
          metric: 'requests_per_s',
          value: ceiling.rps,
          params: { connections: CONNECTIONS },
        },
        {
          suite: 'serve',
          case: 'bare Fastify route',
          subject: 'fastify',
          metric: 'p50_ms',
          value: ceiling.p50,
          params: { connections: CONNECTIONS },
        },
      );
    } finally {
      bareServer.child.kill('SIGTERM');
    }
    return results;
  },
};
