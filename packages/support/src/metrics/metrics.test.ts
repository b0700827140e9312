import { spawnSync } from 'node:child_process';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { Cache } from '../cache/index.js';
import { defaultMetrics, Metrics } from './index.js';

/** `promtool` from Debian's `prometheus` package, when this machine has it. */
function findPromtool(): string | undefined {
  for (const candidate of [process.env.PROMTOOL, 'promtool'].filter(Boolean) as string[]) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}
const promtool = findPromtool();

async function populated(options?: ConstructorParameters<typeof Metrics>[0]) {
  const metrics = new Metrics(options);
  metrics.recordRequest({ core: 'luna', operation: 'chat', seconds: 0.42 });
  metrics.recordRequest({ core: 'luna', operation: 'chat', outcome: 'error', seconds: 1.5 });
  const done = metrics.startRequest('carma', 'search');
  done();
  metrics.recordTokens('luna', 'prompt', 1200);
  metrics.recordTokens('luna', 'completion', 300);
  metrics.setMemorySize('carma', { items: 5000, bytes: 7_340_032 });
  metrics.observeSearch('carma', 'hybrid', 0.0031);
  metrics.observeSearch('carma', 'vector', 0.0007);
  metrics.observeBackup('snapshot', 12.5, 1_048_576);
  metrics.observeBackup('verify', 3.2);
  metrics.recordHealth('disk:free', 'warn', 0.0002);
  // Label values that need escaping in the exposition format.
  metrics.recordRequest({ core: 'we"ird\\core', operation: 'line\nbreak', seconds: 0.01 });
  const cache = new Cache<string>({ name: 'embeddings', maxEntries: 10, metrics });
  cache.set('a', 'x');
  cache.get('a');
  cache.get('b');
  return metrics;
}

describe('metrics', () => {
  it('exposes every kind of series in the Prometheus text format', async () => {
    const metrics = await populated();
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.render();
    const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    const requests = families.get('aios_requests_total');
    expect(requests?.type).toBe('COUNTER');
    expect(requests?.metrics).toContainEqual({
      labels: { core: 'luna', operation: 'chat', outcome: 'error' },
      value: '1',
    });
    expect(requests?.metrics).toContainEqual({
      labels: { core: 'we"ird\\core', operation: 'line\nbreak', outcome: 'ok' },
      value: '1',
    });
    const latency = families.get('aios_request_duration_seconds');
    expect(latency?.type).toBe('HISTOGRAM');
    // The parser flattens labelled histograms into one sample, so read those lines here.
    const chat = '{core="luna",operation="chat"}';
    expect(text).toContain(`aios_request_duration_seconds_count${chat} 2`);
    expect(text).toContain(`aios_request_duration_seconds_sum${chat} 1.92`);
    expect(text).toContain(
      'aios_request_duration_seconds_bucket{le="0.5",core="luna",operation="chat"} 1',
    );
    expect(text).toContain(
      'aios_request_duration_seconds_bucket{le="+Inf",core="luna",operation="chat"} 2',
    );
    expect(families.get('aios_backup_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(families.get('aios_tokens_total')?.metrics).toContainEqual({
      labels: { core: 'luna', kind: 'prompt' },
      value: '1200',
    });
    expect(families.get('aios_memory_items')?.metrics[0]?.value).toBe('5000');
    expect(families.get('aios_memory_size_bytes')?.metrics[0]?.value).toBe('7340032');
    expect(text).toContain('aios_search_duration_seconds_count{core="carma",mode="vector"} 1');
    expect(families.get('aios_backup_processed_bytes_total')?.metrics[0]?.value).toBe('1048576');
    expect(families.get('aios_health_check_status')?.metrics[0]).toEqual({
      labels: { check: 'disk:free' },
      value: '1',
    });
    const cacheSeries = (name: string) =>
      families.get(name)?.metrics.find((m) => m.labels?.cache === 'embeddings')?.value;
    expect(cacheSeries('aios_cache_hits_total')).toBe('1');
    expect(cacheSeries('aios_cache_misses_total')).toBe('1');
    expect(cacheSeries('aios_cache_entries')).toBe('1');
    for (const family of families.values()) {
      expect(family.help, family.name).not.toBe('');
    }
  });

  it('fails the text-format parser on a malformed exposition (the check is real)', () => {
    expect(() => parsePrometheusTextFormat('# TYPE a counter extra\na 1\n')).toThrow(
      /invalid line/,
    );
    expect(() => parsePrometheusTextFormat('a{b="c" 1\n')).toThrow(/invalid line/);
  });

  it.runIf(promtool !== undefined)(
    'passes `promtool check metrics` (format and lint), default metrics included',
    async () => {
      const check = (text: string) =>
        spawnSync(promtool as string, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      // Our own series: valid and lint-clean (exit 0, nothing printed).
      console.info(`metrics checked by ${promtool} check metrics and parse-prometheus-text-format`);
      const own = check(await (await populated({ labels: { instance: 'test' } })).render());
      expect(`${own.stdout}${own.stderr}`).toBe('');
      expect(own.status).toBe(0);
      // With prom-client's default Node.js metrics: valid (exit 3 is lint only, 1 a parse
      // error); its only lint complaints are about prom-client's own gauge names.
      const text = await (await populated({ defaultMetrics: true })).render();
      expect(text).toContain('nodejs_heap_size_used_bytes');
      const all = check(text);
      expect([0, 3]).toContain(all.status);
      const complaints = `${all.stdout}${all.stderr}`.split('\n').filter(Boolean);
      for (const line of complaints)
        expect(line).toMatch(/^nodejs_\w+ non-counter metrics should not have "_total" suffix$/);
      // And promtool does reject what is wrong.
      const bad = spawnSync(promtool as string, ['check', 'metrics'], {
        input: '# HELP a x\n# TYPE a counter\na{ 1\n',
        encoding: 'utf8',
      });
      expect(bad.status).not.toBe(0);
    },
  );

  it.skipIf(promtool !== undefined)(
    'without promtool on the PATH: the exposition with default metrics parses',
    async () => {
      console.info('promtool not found: metrics checked by parse-prometheus-text-format only');
      const text = await (await populated({ defaultMetrics: true })).render();
      const families = parsePrometheusTextFormat(text);
      expect(families.map((f) => f.name)).toContain('nodejs_heap_size_used_bytes');
      for (const family of families) expect(family.type, family.name).not.toBe('UNTYPED');
    },
  );

  it('rejects bad labels and amounts with INVALID_INPUT', () => {
    const metrics = new Metrics();
    expect(() => metrics.recordRequest({ core: '', operation: 'x', seconds: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^core:/) }),
    );
    expect(() => metrics.recordTokens('luna', 'prompt', -1)).toThrow(/count: expected a finite/);
    expect(() => metrics.observeSearch('carma', 'hybrid', Number.NaN)).toThrow(/seconds/);
    expect(() => metrics.setMemorySize('carma', { items: Number.POSITIVE_INFINITY })).toThrow(
      /items/,
    );
  });

  it('keeps registries apart, and shares one process-wide', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.recordTokens('luna', 'prompt', 5);
    expect(await b.render()).not.toMatch(/aios_tokens_total\{/);
    expect(defaultMetrics()).toBe(defaultMetrics());
    expect(await defaultMetrics().render()).toContain('process_cpu_user_seconds_total');
  });
});
