import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSupportBinding } from '../binding.js';
import { createSystemStats, type SystemSample, type SystemStats } from './index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-stats-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectSane(s: SystemSample) {
  expect(s.cpuCount).toBe(cpus().length);
  expect(s.memTotal).toBeGreaterThan(64 * 1024 * 1024);
  expect(s.memAvailable).toBeGreaterThan(0);
  expect(s.memAvailable).toBeLessThanOrEqual(s.memTotal);
  // This vitest worker holds at least a few MiB, and no more than the machine has.
  expect(s.processRss).toBeGreaterThan(8 * 1024 * 1024);
  expect(s.processRss).toBeLessThan(s.memTotal);
  expect(s.loadAvg).toHaveLength(3);
  for (const l of s.loadAvg) expect(l).toBeGreaterThanOrEqual(0);
  expect(s.uptimeS).toBeGreaterThan(0);
  expect(Math.abs(s.timeMs - Date.now())).toBeLessThan(60_000);
}

describe.each(testImplementations())('system stats (%s)', (impl) => {
  let stats: SystemStats;
  beforeAll(() => {
    stats = createSystemStats({ native: impl });
  });

  it('runs the requested implementation', () => {
    expect(stats.implementation).toBe(impl);
    expect(stats.report.core).toBe('@aios/support');
    expect(stats.source).toBe(
      impl === 'js' ? 'node:os' : process.platform === 'linux' ? 'procfs' : 'sysinfo',
    );
  });

  it('samples the machine and this process', () => {
    const first = createSystemStats({ native: impl });
    const a = first.sample();
    expectSane(a);
    expect(a.cpuBusy).toBeNull();
    // Burn a little CPU so the interval has ticks to count.
    const until = performance.now() + 30;
    while (performance.now() < until) Math.sqrt(Math.random());
    const b = first.sample();
    expectSane(b);
    expect(b.cpuBusy).not.toBeNull();
    expect(b.cpuBusy).toBeGreaterThanOrEqual(0);
    expect(b.cpuBusy).toBeLessThanOrEqual(1);
    expect(b.memTotal).toBe(a.memTotal);
  });

  it('sees memory the process allocates', () => {
    const before = stats.sample().processRss;
    // Larger than anything a GC in between could give back, so the rise shows.
    const block = Buffer.alloc(192 * 1024 * 1024, 1);
    const after = stats.sample().processRss;
    expect(after - before).toBeGreaterThan(128 * 1024 * 1024);
    expect(block[block.length - 1]).toBe(1);
  });

  it('measures the file system of a directory like statfs does, sync and off-thread', async () => {
    const ref = statfsSync(dir);
    for (const space of [stats.diskSpaceSync(dir), await stats.diskSpace(dir)]) {
      expect(space.path).toBe(dir);
      expect(space.total).toBe(ref.blocks * ref.bsize);
      expect(space.free).toBeLessThanOrEqual(space.total);
      expect(space.available).toBeLessThanOrEqual(space.free);
      // Free space moves as others write; a few hundred MiB of slack is plenty.
      expect(Math.abs(space.available - ref.bavail * ref.bsize)).toBeLessThan(512 * 1024 * 1024);
    }
  });

  it('measures a data directory that does not exist yet at its nearest ancestor', async () => {
    const missing = join(dir, 'not', 'yet', 'made');
    expect(stats.diskSpaceSync(missing).path).toBe(dir);
    const space = await stats.diskSpace(missing);
    expect(space.path).toBe(dir);
    expect(space.total).toBeGreaterThan(0);
  });

  it('rejects a bad path with INVALID_INPUT', async () => {
    expect(() => stats.diskSpaceSync('')).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    await expect(stats.diskSpace(7 as unknown as string)).rejects.toThrow(
      /path: expected a non-empty/,
    );
  });
});

describe('native and js agree', () => {
  const impls = testImplementations();
  /**
   * Memory and load move between two samples (GC frees the buffers of earlier tests, other
   * processes allocate), so volatile figures are compared on back-to-back pairs, and one
   * agreeing pair out of a few is enough.
   */
  function agreeOnAPair(pair: () => [SystemSample, SystemSample]) {
    const misses: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const [a, b] = pair();
      const rss = Math.abs(a.processRss - b.processRss) / b.processRss;
      const avail = Math.abs(a.memAvailable - b.memAvailable) / b.memTotal;
      const load = Math.max(...a.loadAvg.map((l, i) => Math.abs(l - (b.loadAvg[i] ?? 0))));
      if (rss < 0.1 && avail < 0.02 && load < 0.5) return;
      misses.push(`rss ${rss.toFixed(3)}, available ${avail.toFixed(3)}, load ${load.toFixed(2)}`);
    }
    expect.fail(`no pair of samples agreed: ${misses.join('; ')}`);
  }

  it.runIf(impls.length === 2)('on the same machine', () => {
    const native = createSystemStats({ native: 'native' });
    const js = createSystemStats({ native: 'js' });
    const [n, j] = [native.sample(), js.sample()];
    expect(n.cpuCount).toBe(j.cpuCount);
    // /proc/meminfo is in KiB; sysinfo(2) in bytes.
    expect(Math.abs(n.memTotal - j.memTotal)).toBeLessThan(1024 * 1024);
    expect(j.memTotal).toBe(totalmem());
    expect(Math.abs(n.uptimeS - j.uptimeS)).toBeLessThan(5);
    agreeOnAPair(() => [native.sample(), js.sample()]);
  });

  it.runIf(impls.includes('native') && process.platform === 'linux')(
    'the /proc and sysinfo sources of the native sampler',
    () => {
      const { binding } = loadSupportBinding('native');
      if (!binding) throw new Error('native binding did not load');
      const procfs = new binding.NativeSampler('procfs');
      const portable = new binding.NativeSampler('portable');
      const [a, b] = [procfs.sample(), portable.sample()];
      expect(procfs.source).toBe('procfs');
      expect(portable.source).toBe('portable');
      expect(a.cpuCount).toBe(b.cpuCount);
      expect(Math.abs(a.memTotal - b.memTotal)).toBeLessThan(1024 * 1024);
      const asSample = (s: typeof a): SystemSample => ({
        ...s,
        loadAvg: [s.loadAvg[0] ?? 0, s.loadAvg[1] ?? 0, s.loadAvg[2] ?? 0],
        cpuBusy: s.cpuBusy ?? null,
      });
      agreeOnAPair(() => [asSample(procfs.sample()), asSample(portable.sample())]);
      expect(() => new binding.NativeSampler('fast')).toThrow(/\[AIOS:INVALID_INPUT\] source/);
    },
  );
});
