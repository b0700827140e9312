import {
  createCache,
  createHealthMonitor,
  createSystemStats,
  loadSupportBinding,
} from '@aios/support';
import { LRUCache } from 'lru-cache';
import si from 'systeminformation';
import { measure } from '../measure.js';
import type { BenchResult, Suite } from '../types.js';

/**
 * The facts of the built-in checks (load, memory, data-dir disk space, process memory)
 * gathered with systeminformation, the usual npm answer. It reads /proc for load and
 * memory, and runs `df` and `ps` for disk and process figures.
 */
async function systeminformationSnapshot(dir: string): Promise<void> {
  const [load, mem, disks, proc] = await Promise.all([
    si.currentLoad(),
    si.mem(),
    si.fsSize(),
    si.processLoad('node'),
  ]);
  const disk = disks
    .filter((d) => dir.startsWith(d.mount))
    .sort((a, b) => b.mount.length - a.mount.length)[0];
  if (!(load.cpus.length > 0 && mem.total > 0 && disk && proc.length > 0)) {
    throw new Error('systeminformation returned no data');
  }
}

export const supportSuite: Suite = {
  name: 'support',
  description: 'health snapshots, system stats sampling, cache get/set',
  async run({ quick, scratch, log }) {
    const results: BenchResult[] = [];
    const timeMs = quick ? 150 : 1000;
    const push = (
      caseName: string,
      metric: string,
      measured: { subject: string; p50_ms: number }[],
      params: Record<string, unknown>,
      value: (m: { subject: string; p50_ms: number }) => number = (m) => m.p50_ms,
    ) => {
      for (const m of measured) {
        results.push({
          suite: 'support',
          case: caseName,
          subject: m.subject,
          metric,
          value: value(m),
          params,
        });
      }
    };

    // Health snapshots: every built-in readiness check (no LLM configured).
    const monitors = {
      native: createHealthMonitor({ native: 'native', dataDir: scratch, llm: false }),
      js: createHealthMonitor({ native: 'js', dataDir: scratch, llm: false }),
    };
    try {
      for (const m of Object.values(monitors)) {
        const report = await m.readiness();
        if (Object.keys(report.checks).length < 6) throw new Error('snapshot lacks checks');
      }
      await systeminformationSnapshot(scratch);
      log('health snapshot, fresh');
      const fresh = await measure(
        [
          { subject: 'native', fn: () => monitors.native.readiness() },
          { subject: 'js', fn: () => monitors.js.readiness() },
          { subject: 'systeminformation', fn: () => systeminformationSnapshot(scratch) },
        ],
        { timeMs: quick ? 300 : 2000 },
      );
      push('snapshot-fresh', 'p50_ms', fresh, {
        checks: 'cpu, memory, disk, process memory, event loop, native',
        peer: 'systeminformation currentLoad + mem + fsSize + processLoad',
      });
      log('health snapshot, cached');
      const cached = await measure(
        [
          { subject: 'native', fn: () => monitors.native.readiness({ maxAgeMs: 60_000 }) },
          { subject: 'js', fn: () => monitors.js.readiness({ maxAgeMs: 60_000 }) },
        ],
        { timeMs },
      );
      push('snapshot-cached', 'p50_ms', cached, { maxAgeMs: 60_000 });
    } finally {
      for (const m of Object.values(monitors)) m.close();
    }

    // Stats sampling: load, CPU times, memory, process RSS, uptime; and the data-dir disk.
    const stats = {
      native: createSystemStats({ native: 'native' }),
      js: createSystemStats({ native: 'js' }),
    };
    log('stats sampling');
    const sampling = await measure(
      [
        { subject: 'native', fn: () => stats.native.sample() },
        { subject: 'js', fn: () => stats.js.sample() },
        {
          subject: 'systeminformation',
          fn: () => Promise.all([si.currentLoad(), si.mem()]),
        },
      ],
      { timeMs },
    );
    push('stats-sample', 'p50_ms', sampling, {
      native: stats.native.source,
      js: stats.js.source,
      peer: 'systeminformation currentLoad + mem',
    });
    log('disk space');
    const disk = await measure(
      [
        { subject: 'native', fn: () => stats.native.diskSpace(scratch) },
        { subject: 'js', fn: () => stats.js.diskSpace(scratch) },
        { subject: 'systeminformation', fn: () => si.fsSize() },
      ],
      { timeMs },
    );
    push('disk-space', 'p50_ms', disk, {
      api: 'diskSpace (off the JS thread)',
      peer: 'systeminformation fsSize (runs df)',
    });

    // Cache: 10k keys of 256-byte values; each iteration is a batch of 1,000 operations.
    const { binding } = loadSupportBinding('native');
    if (!binding) throw new Error('the native binding is needed for the support suite');
    const keys = Array.from({ length: 10_000 }, (_, i) => `key:${i}`);
    const value = new Uint8Array(256).fill(7);
    const maxBytes = 64 * 1024 * 1024;
    const ours = createCache<Uint8Array>({ name: 'bench', maxEntries: 10_000, maxBytes });
    const plain = new LRUCache<string, Uint8Array>({
      max: 10_000,
      maxSize: maxBytes,
      sizeCalculation: (v) => v.byteLength,
    });
    const native = new binding.NativeByteCache(10_000, maxBytes);
    for (const key of keys) {
      ours.set(key, value);
      plain.set(key, value);
      native.set(key, value);
    }
    const BATCH = 1000;
    let cursor = 0;
    const nextKeys = () => {
      const start = cursor;
      cursor = (cursor + BATCH) % keys.length;
      return start;
    };
    const getBatch = (get: (key: string) => unknown) => () => {
      const start = nextKeys();
      for (let i = 0; i < BATCH; i++) {
        if (get(keys[start + i] as string) === undefined) throw new Error('cache miss in bench');
      }
    };
    const setBatch = (set: (key: string, v: Uint8Array) => unknown) => () => {
      const start = nextKeys();
      for (let i = 0; i < BATCH; i++) set(keys[start + i] as string, value);
    };
    const opsPerS = (m: { p50_ms: number }) => BATCH / (m.p50_ms / 1000);
    log('cache get');
    const gets = await measure(
      [
        { subject: 'native', fn: getBatch((k) => native.get(k) ?? undefined) },
        { subject: 'js', fn: getBatch((k) => ours.get(k)) },
        { subject: 'lru-cache', fn: getBatch((k) => plain.get(k)) },
      ],
      { timeMs },
    );
    push('cache-get-hit', 'ops_per_s', gets, { entries: 10_000, valueBytes: 256 }, opsPerS);
    log('cache set');
    const sets = await measure(
      [
        { subject: 'native', fn: setBatch((k, v) => native.set(k, v)) },
        { subject: 'js', fn: setBatch((k, v) => ours.set(k, v)) },
        { subject: 'lru-cache', fn: setBatch((k, v) => plain.set(k, v)) },
      ],
      { timeMs },
    );
    push('cache-set', 'ops_per_s', sets, { entries: 10_000, valueBytes: 256 }, opsPerS);
    // The floor of any native cache: one napi call that does nothing but return a number.
    log('napi call floor');
    let sink = 0;
    const floor = await measure(
      [
        {
          subject: 'native',
          fn: () => {
            for (let i = 0; i < BATCH; i++) sink += native.size;
          },
        },
      ],
      { timeMs },
    );
    if (sink === 0) throw new Error('napi floor measured nothing');
    push('napi-call-floor', 'ops_per_s', floor, { call: 'NativeByteCache.size getter' }, opsPerS);
    return results;
  },
};
