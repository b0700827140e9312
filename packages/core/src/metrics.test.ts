import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { runCli, tempHomes } from './testing/cli.js';

// `aios metrics` across processes: every command is its own process, and the metrics show
// the totals of all of them. The built CLI in child processes, offline.
const tempHome = tempHomes('aios-metrics-');

const run = (home: string, args: string[], env: Record<string, string> = {}) =>
  runCli(home, ['--offline', ...args], env);

interface Family {
  name: string;
  type: string;
  samples: Array<{ name: string; labels: Record<string, string | number>; value: number }>;
}

/** The value of one sample of `aios metrics --json`, 0 when absent. */
function sample(
  families: Family[],
  name: string,
  labels: Record<string, string>,
  family = name,
): number {
  const found = families
    .find((f) => f.name === family)
    ?.samples.find(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  return found?.value ?? 0;
}

describe.each(testImplementations())('aios metrics across commands (AIOS_NATIVE=%s)', (impl) => {
  const home = tempHome();
  const aios = (...args: string[]) => run(home, args, { AIOS_NATIVE: impl });
  const metricsJson = (): Family[] => {
    const r = aios('metrics', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };
  const offlineAsks = { core: 'luna', operation: 'ask', outcome: 'offline' };

  it('shows what an earlier `aios ask` recorded, in JSON and in the text format', () => {
    writeFileSync(join(home, 'kettle.md'), 'The kettle is descaled every second Sunday.\n');
    expect(aios('ingest', join(home, 'kettle.md')).code).toBe(0);
    expect(aios('ask', 'When is the kettle descaled?').code).toBe(0);

    const first = metricsJson();
    expect(sample(first, 'aios_requests_total', offlineAsks)).toBe(1);
    const askDuration = { core: 'luna', operation: 'ask' };
    const durations = (f: Family[]) =>
      sample(
        f,
        'aios_request_duration_seconds_count',
        askDuration,
        'aios_request_duration_seconds',
      );
    expect(durations(first)).toBe(1);
    expect(
      sample(
        first,
        'aios_search_duration_seconds_count',
        { mode: 'hybrid' },
        'aios_search_duration_seconds',
      ),
    ).toBe(1);
    expect(first.find((f) => f.name === 'aios_requests_total')?.type).toBe('counter');

    // A second ask in its own process: the counters go on from 1, the histograms add up.
    expect(aios('ask', 'When is the kettle descaled?').code).toBe(0);
    const text = aios('metrics');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      'aios_requests_total{core="luna",operation="ask",outcome="offline"} 2',
    );
    expect(text.stdout).toContain(
      'aios_request_duration_seconds_count{core="luna",operation="ask"} 2',
    );
    expect(text.stdout).toMatch(
      /aios_request_duration_seconds_bucket\{le="\+Inf",core="luna",operation="ask"\} 2\n/,
    );
    expect(text.stdout).toContain('# TYPE aios_requests_total counter');
    // The figures of the `aios metrics` process itself would describe only it (an event
    // loop never sampled: a minimum lag of 9.2e9 s, a mean of NaN): they are left out.
    expect(text.stdout).not.toMatch(/^(nodejs|process)_/m);
    expect(text.stdout).not.toContain('NaN');
    // Each `aios metrics` ran the health checks once, and those are kept too.
    const healthRuns = (f: Family[]) =>
      sample(
        f,
        'aios_health_check_duration_seconds_count',
        { check: 'database:writable' },
        'aios_health_check_duration_seconds',
      );
    const later = metricsJson();
    expect(healthRuns(later)).toBe(3);
    expect(durations(later)).toBe(2);
  });

  it('backups show up in the metrics: operations by outcome, durations, bytes and chunks', () => {
    const create = aios('backup', 'create', '--json');
    expect(create.stderr).toBe('');
    expect(create.code).toBe(0);
    expect(aios('backup', 'verify', '--read-data', '100').code).toBe(0);
    expect(aios('backup', 'prune', '--json').code).toBe(0);
    const restore = aios('backup', 'restore', 'latest', '--target', join(home, 'restored'));
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    // A failing one: the repository is locked by a live process (this one).
    const locks = join(home, 'backups', 'locks');
    mkdirSync(locks, { recursive: true });
    writeFileSync(
      join(locks, 'lock.json'),
      JSON.stringify({
        pid: process.pid,
        hostname: hostname(),
        operation: 'backup',
        time: new Date().toISOString(),
      }),
    );
    expect(aios('backup', 'create').code).toBe(1);
    rmSync(join(locks, 'lock.json'));

    const m = metricsJson();
    const ops = (operation: string, outcome: string) =>
      sample(m, 'aios_backup_operations_total', { operation, outcome });
    expect(ops('create', 'ok')).toBe(1);
    expect(ops('create', 'error')).toBe(1);
    expect(ops('verify', 'ok')).toBe(1);
    expect(ops('prune', 'ok')).toBe(1);
    expect(ops('restore', 'ok')).toBe(1);
    expect(
      sample(
        m,
        'aios_backup_duration_seconds_count',
        { operation: 'create' },
        'aios_backup_duration_seconds',
      ),
    ).toBe(2);
    expect(sample(m, 'aios_backup_processed_bytes_total', { operation: 'create' })).toBeGreaterThan(
      0,
    );
    expect(sample(m, 'aios_backup_processed_bytes_total', { operation: 'restore' })).toBe(
      sample(m, 'aios_backup_processed_bytes_total', { operation: 'create' }),
    );
    expect(sample(m, 'aios_backup_chunks_total', { operation: 'create' })).toBeGreaterThan(0);
    expect(sample(m, 'aios_backup_chunks_total', { operation: 'verify' })).toBeGreaterThan(0);
    // The asks of the first test are still counted.
    expect(sample(m, 'aios_requests_total', offlineAsks)).toBe(2);
  });

  it('backing up a home without a database does not create one', () => {
    const bare = tempHome();
    writeFileSync(join(bare, 'a.txt'), 'a file\n');
    const r = run(bare, ['backup', 'create'], { AIOS_NATIVE: impl });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const second = run(bare, ['backup', 'create', '--json'], { AIOS_NATIVE: impl });
    expect(JSON.parse(second.stdout).snapshot.summary.filesNew).toBe(0);
  });
});
