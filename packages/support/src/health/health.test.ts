import { once } from 'node:events';
import { access, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { type ImplementationReport, loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../metrics/index.js';
import { createSystemStats } from '../stats/index.js';
import {
  backupCheck,
  type DatabaseProbe,
  databaseCheck,
  eventLoopCheck,
  type HealthThresholds,
  nativeCheck,
} from './checks.js';
import {
  createHealthMonitor,
  defaultThresholds,
  type HealthMonitor,
  httpStatusOf,
} from './monitor.js';
import type { HealthReport } from './types.js';

const require = createRequire(import.meta.url);

let dir: string;
let server: Server;
let baseUrl: string;
let serverMode: 'ok' | 'error' | 'hang' = 'ok';
const requests: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aios-health-'));
  // A stand-in for an OpenAI-compatible server (LM Studio, Ollama) on loopback.
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    if (serverMode === 'hang') return; // never answers
    if (serverMode === 'error' || req.url !== '/v1/models') {
      res.writeHead(500).end('boom');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'local-model', object: 'model' }] }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Thresholds no healthy machine trips, so each test decides what fails. */
const lenient = {
  diskFreeMinPercent: 0,
  memoryMaxPercent: 100,
  eventLoopDelayMaxMs: 60_000,
  cpuLoadMaxPerCore: 1_000,
  processMemoryMaxBytes: Number.MAX_SAFE_INTEGER,
  // Loopback answers in milliseconds; the slack is for a machine busy with other builds.
  checkTimeoutMs: 10_000,
};

const BUILTINS = [
  'eventloop:delay',
  'process:memory',
  'cpu:utilization',
  'memory:utilization',
  'disk:free',
  'native:loaded',
];

/** A database probe over a real directory: ping reads it, write creates and removes a file. */
function directoryProbe(path: string): DatabaseProbe {
  return {
    ping: () => access(path),
    async write() {
      const file = join(path, '.health-probe');
      await writeFile(file, 'ok');
      await unlink(file);
    },
  };
}

const monitors: HealthMonitor[] = [];
afterEach(() => {
  for (const m of monitors.splice(0)) m.close();
  serverMode = 'ok';
});

describe.each(testImplementations())('health (%s)', (impl) => {
  const monitor = (options: Parameters<typeof createHealthMonitor>[0] = {}) => {
    const m = createHealthMonitor({
      dataDir: dir,
      stats: createSystemStats({ native: impl }),
      llm: false,
      ...options,
      thresholds: { ...lenient, ...options.thresholds },
    });
    monitors.push(m);
    return m;
  };

  it('reports readiness in the application/health+json shape', async () => {
    const m = monitor();
    expect(m.stats.implementation).toBe(impl);
    const report = await m.readiness();
    expect(report).toMatchObject({
      status: 'pass',
      version: '0',
      releaseId: '0.1.0',
      serviceId: 'aios',
      description: 'AIOS readiness',
      probe: 'readiness',
    });
    expect(report.output).toBeUndefined();
    expect(Object.keys(report.checks).sort()).toEqual([...BUILTINS].sort());
    for (const [name, [entry]] of Object.entries(report.checks)) {
      expect(entry, name).toMatchObject({ status: 'pass', componentType: expect.any(String) });
      expect(Date.parse(entry?.time ?? '')).not.toBeNaN();
      expect(entry?.durationMs).toBeGreaterThanOrEqual(0);
    }
    const disk = report.checks['disk:free']?.[0];
    expect(disk?.observedUnit).toBe('percent');
    expect(disk?.observedValue).toBeGreaterThan(0);
    expect(disk?.output).toContain(dir);
    expect(report.checks['memory:utilization']?.[0]?.observedValue).toBeGreaterThan(0);
    expect(report.checks['process:memory']?.[0]?.observedValue).toBeGreaterThan(8 * 1024 * 1024);
    expect(report.checks['native:loaded']?.[0]?.observedValue).toBe(
      impl === 'native' ? '1/1' : '0/1',
    );
    // A plain JSON document: it survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(httpStatusOf(report)).toBe(200);
  });

  it('liveness runs only the checks of the process itself', async () => {
    const report = await monitor({ serviceId: 'aios-laptop', releaseId: '2.3.1' }).liveness();
    expect(report).toMatchObject({ serviceId: 'aios-laptop', version: '2', releaseId: '2.3.1' });
    expect(Object.keys(report.checks).sort()).toEqual(['eventloop:delay', 'process:memory']);
    expect(report.probe).toBe('liveness');
  });

  it('judges against thresholds from the shared config', async () => {
    const { config } = loadConfig({
      cwd: dir,
      env: { AIOS_HOME: dir, AIOS_SUPPORT__MEMORY_MAX_PERCENT: '0' },
      overrides: { support: { diskFreeMinPercent: 100 } },
    });
    const m = createHealthMonitor({
      config,
      llm: false,
      stats: createSystemStats({ native: impl }),
    });
    monitors.push(m);
    expect(m.dataDir).toBe(dir);
    expect(m.thresholds).toMatchObject({ diskFreeMinPercent: 100, memoryMaxPercent: 0 });
    const report = await m.readiness();
    expect(report.status).toBe('fail');
    expect(httpStatusOf(report)).toBe(503);
    expect(report.checks['disk:free']?.[0]).toMatchObject({ status: 'fail', threshold: 100 });
    expect(report.checks['memory:utilization']?.[0]).toMatchObject({
      status: 'fail',
      threshold: 0,
    });
    expect(report.output).toMatch(/memory:utilization fail: .*available of/);
    expect(report.output).toMatch(/disk:free fail: .* free of .* at /);
  });

  it('warns before it fails', async () => {
    const m = monitor({ thresholds: { processMemoryMaxBytes: 1 } });
    const report = await m.readiness();
    expect(report.checks['process:memory']?.[0]?.status).toBe('warn');
    expect(report.status).not.toBe('pass');
    expect(httpStatusOf(report)).toBe(200);
  });

  it('says the event loop was not measured yet, in a process checked as it starts', async () => {
    // A histogram no timer has written to yet, as in a process that has only just started.
    const check = eventLoopCheck(createHistogram(), {
      eventLoopDelayMaxMs: 50,
    } as HealthThresholds);
    const outcome = await check.run(new AbortController().signal);
    expect(outcome).toEqual({
      status: 'pass',
      output: 'not measured yet: the process has only just started',
    });
  });

  it('reports a check registered since the last report, even within the age a report may have', async () => {
    const m = monitor();
    expect((await m.readiness({ maxAgeMs: 60_000 })).status).not.toBe('fail');
    const unregister = m.register({ name: 'store:reachable', run: () => ({ status: 'fail' }) });
    const failing = await m.readiness({ maxAgeMs: 60_000 });
    expect(failing.status).toBe('fail');
    expect(Object.keys(failing.checks)).toContain('store:reachable');
    unregister();
    expect(Object.keys((await m.readiness({ maxAgeMs: 60_000 })).checks)).not.toContain(
      'store:reachable',
    );
  });

  it('sees a blocked event loop', async () => {
    const m = monitor({ thresholds: { eventLoopDelayMaxMs: 50 } });
    await m.liveness(); // resets the window
    const until = performance.now() + 200;
    while (performance.now() < until) Math.sqrt(Math.random());
    await new Promise((resolve) => setTimeout(resolve, 30));
    const report = await m.liveness();
    const entry = report.checks['eventloop:delay']?.[0];
    expect(entry?.status).toBe('fail');
    expect(entry?.observedValue).toBeGreaterThan(50);
    expect(entry?.observedUnit).toBe('ms');
    expect(report.status).toBe('fail');
  });

  it('fails a check that overruns its timeout and aborts its signal', async () => {
    const m = monitor();
    let aborted: unknown;
    m.register({
      name: 'slow:thing',
      timeoutMs: 50,
      run: (signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            setTimeout(() => resolve({ status: 'pass' }), 10);
          });
        }),
    });
    const report = await m.readiness();
    const entry = report.checks['slow:thing']?.[0];
    expect(entry).toMatchObject({ status: 'fail', output: 'timed out after 50 ms' });
    expect(entry?.durationMs).toBeGreaterThanOrEqual(45);
    expect(aborted).toMatchObject({ code: 'HEALTH_CHECK_TIMEOUT' });
  });

  it('turns a throwing or malformed check into a fail, never a crash', async () => {
    const m = monitor();
    m.register({
      name: 'broken:sync',
      run: () => {
        throw new Error('kaput');
      },
    });
    m.register({ name: 'broken:async', run: async () => Promise.reject(new Error('nope')) });
    m.register({ name: 'broken:shape', run: () => ({ status: 'ok' }) as never });
    const report = await m.readiness();
    expect(report.checks['broken:sync']?.[0]?.output).toBe('check failed: kaput');
    expect(report.checks['broken:async']?.[0]?.output).toBe('check failed: nope');
    expect(report.checks['broken:shape']?.[0]?.status).toBe('fail');
    expect(report.status).toBe('fail');
  });

  it('checks a database through the probe the Data core registers', async () => {
    const m = monitor();
    m.register(databaseCheck(directoryProbe(dir)));
    m.register(databaseCheck(directoryProbe(join(dir, 'missing')), 'database:gone'));
    const report = await m.readiness();
    expect(report.checks['database:writable']?.[0]).toMatchObject({
      status: 'pass',
      componentType: 'datastore',
      observedUnit: 'ms',
    });
    expect(report.checks['database:gone']?.[0]).toMatchObject({ status: 'fail' });
    expect(report.checks['database:gone']?.[0]?.output).toMatch(/^ping failed: ENOENT/);
  });

  it('checks the last backup: age and verify result', async () => {
    const hour = 3_600_000;
    const t = { backupMaxAgeHours: 24 };
    const outcome = async (last: Parameters<typeof backupCheck>[0]['lastBackup']) =>
      backupCheck({ lastBackup: last }, t).run(new AbortController().signal);
    expect(await outcome(() => ({ time: Date.now() - hour, verified: true }))).toMatchObject({
      status: 'pass',
      observedUnit: 'hours',
      threshold: 24,
    });
    expect(
      await outcome(async () => ({ time: new Date(Date.now() - 30 * hour), verified: true })),
    ).toMatchObject({ status: 'warn' });
    expect(
      await outcome(() => ({ time: Date.now(), verified: false, detail: '3 chunks missing' })),
    ).toMatchObject({ status: 'fail', output: expect.stringContaining('verify FAILED: 3 chunks') });
    expect(await outcome(() => ({ time: Date.now(), verified: null }))).toMatchObject({
      status: 'warn',
    });
    expect(await outcome(() => null)).toMatchObject({ status: 'warn', output: 'no backup yet' });
    const m = monitor({ thresholds: { backupMaxAgeHours: 48 } });
    m.register(backupCheck({ lastBackup: () => ({ time: 0, verified: true }) }, m.thresholds));
    expect((await m.readiness()).checks['backup:age']?.[0]?.status).toBe('warn');
  });

  it('checks the LLM endpoint on loopback, with its timeout', async () => {
    const { config } = loadConfig({
      cwd: dir,
      env: { AIOS_HOME: dir },
      overrides: { luna: { llm: { baseUrl, apiKey: 'k-123' } } },
    });
    const m = createHealthMonitor({
      config,
      thresholds: lenient,
      stats: createSystemStats({ native: impl }),
    });
    monitors.push(m);
    expect(m.checkNames).toContain('llm:responseTime');
    const ok = await m.readiness();
    expect(ok.checks['llm:responseTime']?.[0]).toMatchObject({
      status: 'pass',
      observedUnit: 'ms',
      output: `GET ${baseUrl}/models: HTTP 200`,
    });
    expect(requests).toContain('GET /v1/models Bearer k-123');
    serverMode = 'error';
    expect((await m.readiness()).checks['llm:responseTime']?.[0]?.status).toBe('fail');
    serverMode = 'hang';
    const hung = await monitor({
      llm: { baseUrl },
      thresholds: { checkTimeoutMs: 200 },
    }).readiness();
    expect(hung.checks['llm:responseTime']?.[0]).toMatchObject({
      status: 'fail',
      output: 'timed out after 200 ms',
    });
    // Nobody listens on the port of a closed server.
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const refused = monitor({ llm: { baseUrl: `http://127.0.0.1:${port}/v1` } });
    expect((await refused.readiness()).checks['llm:responseTime']?.[0]).toMatchObject({
      status: 'fail',
      output: expect.stringContaining('ECONNREFUSED'),
    });
    expect(() => monitor({ llm: { baseUrl: 'ftp://x' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it('keeps a history of results, bounded', async () => {
    const m = monitor({ historySize: 3 });
    for (let i = 0; i < 4; i++) await m.liveness();
    await m.readiness();
    const history = m.history();
    expect(history).toHaveLength(3);
    expect(history.map((r) => r.probe)).toEqual(['liveness', 'liveness', 'readiness']);
    expect(m.history('readiness')).toHaveLength(1);
    const disk = m.historyOf('disk:free');
    expect(disk).toHaveLength(1);
    expect(disk[0]).toMatchObject({ probe: 'readiness', status: 'pass' });
    expect(m.historyOf('process:memory')).toHaveLength(3);
  });

  it('serves a cached report within maxAgeMs and shares concurrent runs', async () => {
    const m = monitor();
    let runs = 0;
    m.register({
      name: 'counting:check',
      run: async () => {
        runs++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { status: 'pass' };
      },
    });
    const [a, b] = await Promise.all([m.readiness(), m.readiness()]);
    expect(a).toBe(b);
    expect(runs).toBe(1);
    expect(await m.readiness({ maxAgeMs: 60_000 })).toBe(a);
    expect(runs).toBe(1);
    const fresh = await m.readiness();
    expect(fresh).not.toBe(a);
    expect(runs).toBe(2);
  });

  it('records results into the metrics registry', async () => {
    const metrics = new Metrics();
    const m = monitor({ metrics, thresholds: { processMemoryMaxBytes: 1 } });
    await m.readiness();
    const text = await metrics.render();
    expect(text).toContain('aios_health_check_status{check="disk:free"} 0');
    expect(text).toContain('aios_health_check_status{check="process:memory"} 1');
    expect(text).toMatch(/aios_health_check_duration_seconds_count\{check="cpu:utilization"\} 1/);
  });

  it('never starts a program: every check runs with child_process disabled', async () => {
    const cp = require('node:child_process') as Record<string, unknown>;
    const names = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'];
    const saved = names.map((n) => cp[n]);
    const calls: string[] = [];
    for (const n of names) {
      cp[n] = () => {
        calls.push(n);
        throw new Error(`${n} called`);
      };
    }
    syncBuiltinESMExports();
    try {
      const m = monitor({ llm: { baseUrl } });
      m.register(databaseCheck(directoryProbe(dir)));
      const report: HealthReport = await m.readiness();
      expect(report.status).toBe('pass');
    } finally {
      names.forEach((n, i) => {
        cp[n] = saved[i];
      });
      syncBuiltinESMExports();
    }
    expect(calls).toEqual([]);
  });

  it('validates what is registered and refuses after close', async () => {
    const m = monitor();
    expect(() => m.register({ name: 'disk:free', run: () => ({ status: 'pass' }) })).toThrow(
      expect.objectContaining({ code: 'HEALTH_CHECK_DUPLICATE' }),
    );
    expect(() => m.register({ name: '', run: () => ({ status: 'pass' }) })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() =>
      m.register({ name: 'x:y', timeoutMs: -1, run: () => ({ status: 'pass' }) }),
    ).toThrow(/timeoutMs: expected a number > 0/);
    const remove = m.register({ name: 'x:y', run: () => ({ status: 'pass' }) });
    expect(m.checkNames).toContain('x:y');
    remove();
    expect(m.checkNames).not.toContain('x:y');
    await expect(m.check('sideways' as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(() => monitor({ thresholds: { memoryMaxPercent: Number.NaN } })).toThrow(
      /thresholds.memoryMaxPercent/,
    );
    m.close();
    await expect(m.readiness()).rejects.toMatchObject({ code: 'HEALTH_MONITOR_CLOSED' });
  });
});

describe('native:loaded', () => {
  const report = (core: string, implementation: 'native' | 'js', errors: string[] = []) =>
    ({
      core,
      implementation,
      mode: errors.length > 0 ? 'auto' : implementation,
      reason: errors.length > 0 ? 'no native binding (x is not installed); using js' : 'ok',
      loadErrors: errors,
    }) as ImplementationReport;
  const run = (reports: ImplementationReport[]) =>
    nativeCheck(() => reports).run(new AbortController().signal);

  it('passes when every core runs what was asked, warns on a fallback', () => {
    expect(run([report('@aios/a', 'native'), report('@aios/b', 'js')])).toMatchObject({
      status: 'pass',
      observedValue: '1/2',
    });
    expect(run([report('@aios/a', 'native'), report('@aios/b', 'js', ['missing'])])).toMatchObject({
      status: 'warn',
      output: expect.stringContaining('@aios/b: no native binding'),
    });
  });

  it('takes its defaults from the config schema', () => {
    expect(defaultThresholds()).toMatchObject({
      diskFreeMinPercent: 5,
      memoryMaxPercent: 95,
      eventLoopDelayMaxMs: 200,
      backupMaxAgeHours: 48,
      checkTimeoutMs: 2000,
    });
  });
});
