import type { RecordableHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { type ImplementationReport, invalidInput } from '@aios/utils';
import type { SystemSample, SystemStats } from '../stats/index.js';
import type { CheckOutcome, HealthCheck, HealthStatus } from './types.js';

/** Limits the built-in checks judge against. */
export interface HealthThresholds {
  /** `disk:free` fails below this share of the data directory's file system free; warns below twice it. */
  diskFreeMinPercent: number;
  /** `memory:utilization` fails above this share of RAM in use; warns within 10 points of it. */
  memoryMaxPercent: number;
  /** `eventloop:delay` (p99 since the previous check) fails above this; warns above half. */
  eventLoopDelayMaxMs: number;
  /** `backup:age` warns when the last backup is older. */
  backupMaxAgeHours: number;
  /** Every check's time limit unless it sets its own. */
  checkTimeoutMs: number;
  /** `cpu:utilization` warns above this 1-minute load average per logical CPU (never fails). */
  cpuLoadMaxPerCore: number;
  /** `process:memory` warns above this resident set size (it fails when the V8 heap is 95 % full). */
  processMemoryMaxBytes: number;
}

const round = (value: number, digits = 2) => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function formatBytes(bytes: number): string {
  return bytes >= GiB ? `${round(bytes / GiB)} GiB` : `${round(bytes / MiB, 1)} MiB`;
}

/** The sample shared by the system checks of one run (taken once, lazily). */
export type SampleSource = () => SystemSample;

export function cpuCheck(sample: SampleSource, t: HealthThresholds): HealthCheck {
  return {
    name: 'cpu:utilization',
    componentType: 'system',
    run() {
      const s = sample();
      const perCore = s.loadAvg[0] / Math.max(1, s.cpuCount);
      const busy =
        s.cpuBusy === null ? '' : `, ${round(s.cpuBusy * 100, 1)} % busy since last sample`;
      const status: HealthStatus = perCore > t.cpuLoadMaxPerCore ? 'warn' : 'pass';
      return {
        status,
        observedValue: round(perCore),
        observedUnit: 'load/core',
        threshold: t.cpuLoadMaxPerCore,
        output: `load ${s.loadAvg.map((l) => round(l)).join(' ')} on ${s.cpuCount} CPUs${busy}`,
      };
    },
  };
}

export function memoryCheck(sample: SampleSource, t: HealthThresholds): HealthCheck {
  return {
    name: 'memory:utilization',
    componentType: 'system',
    run() {
      const s = sample();
      const used = s.memTotal > 0 ? ((s.memTotal - s.memAvailable) / s.memTotal) * 100 : 0;
      const status: HealthStatus =
        used > t.memoryMaxPercent ? 'fail' : used > t.memoryMaxPercent - 10 ? 'warn' : 'pass';
      return {
        status,
        observedValue: round(used, 1),
        observedUnit: 'percent',
        threshold: t.memoryMaxPercent,
        output: `${formatBytes(s.memAvailable)} available of ${formatBytes(s.memTotal)}`,
      };
    },
  };
}

export function diskCheck(stats: SystemStats, dataDir: string, t: HealthThresholds): HealthCheck {
  return {
    name: 'disk:free',
    componentType: 'system',
    async run() {
      const d = await stats.diskSpace(dataDir);
      const free = (d.available / d.total) * 100;
      const status: HealthStatus =
        free < t.diskFreeMinPercent ? 'fail' : free < 2 * t.diskFreeMinPercent ? 'warn' : 'pass';
      return {
        status,
        observedValue: round(free, 1),
        observedUnit: 'percent',
        threshold: t.diskFreeMinPercent,
        output: `${formatBytes(d.available)} free of ${formatBytes(d.total)} at ${d.path}`,
      };
    },
  };
}

export function processMemoryCheck(sample: SampleSource, t: HealthThresholds): HealthCheck {
  return {
    name: 'process:memory',
    componentType: 'system',
    probe: 'liveness',
    run() {
      const rss = sample().processRss;
      const heap = getHeapStatistics();
      const heapShare = heap.used_heap_size / heap.heap_size_limit;
      const status: HealthStatus =
        heapShare > 0.95 ? 'fail' : rss > t.processMemoryMaxBytes ? 'warn' : 'pass';
      return {
        status,
        observedValue: rss,
        observedUnit: 'bytes',
        threshold: t.processMemoryMaxBytes,
        output: `rss ${formatBytes(rss)}, V8 heap ${formatBytes(heap.used_heap_size)} of ${formatBytes(heap.heap_size_limit)} limit`,
      };
    },
  };
}

export function eventLoopCheck(histogram: RecordableHistogram, t: HealthThresholds): HealthCheck {
  return {
    name: 'eventloop:delay',
    componentType: 'system',
    probe: 'liveness',
    run() {
      // How late the monitor's interval timer fired, since the previous check.
      const samples = histogram.count;
      // A process checked right after it started (a one-off command) has no sample yet:
      // nothing was measured, which is said rather than shown as a delay of 0 ms.
      if (samples === 0) {
        return { status: 'pass', output: 'not measured yet: the process has only just started' };
      }
      const p99 = histogram.percentile(99) / 1e6;
      const max = histogram.max / 1e6;
      histogram.reset();
      const status: HealthStatus =
        p99 > t.eventLoopDelayMaxMs ? 'fail' : p99 > t.eventLoopDelayMaxMs / 2 ? 'warn' : 'pass';
      return {
        status,
        observedValue: round(p99),
        observedUnit: 'ms',
        threshold: t.eventLoopDelayMaxMs,
        output: `p99 ${round(p99)} ms, max ${round(max)} ms over ${samples} samples`,
      };
    },
  };
}

export interface LlmEndpoint {
  /** OpenAI-compatible base URL, e.g. `http://localhost:1234/v1`; `/models` is asked. */
  baseUrl: string;
  apiKey?: string;
}

/** The configured LLM endpoint answers `GET <baseUrl>/models` (any 2xx) before the timeout. */
export function llmCheck(endpoint: LlmEndpoint): HealthCheck {
  let url: URL;
  try {
    url = new URL(`${endpoint.baseUrl.replace(/\/+$/, '')}/models`);
  } catch {
    throw invalidInput('llm.baseUrl', endpoint.baseUrl, 'an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidInput('llm.baseUrl', endpoint.baseUrl, 'an http(s) URL');
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
  return {
    name: 'llm:responseTime',
    componentType: 'component',
    async run(signal) {
      const started = performance.now();
      try {
        const response = await fetch(url, { headers, signal, redirect: 'error' });
        await response.body?.cancel();
        const ms = round(performance.now() - started);
        return {
          status: response.ok ? 'pass' : 'fail',
          observedValue: ms,
          observedUnit: 'ms',
          output: `GET ${url.href}: HTTP ${response.status}`,
        };
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const reason = cause?.code ?? cause?.message ?? (error as Error).message;
        return {
          status: 'fail',
          observedValue: round(performance.now() - started),
          observedUnit: 'ms',
          output: `GET ${url.href}: ${reason}`,
        };
      }
    },
  };
}

/**
 * What the Data core (or any store) provides to be checked: `ping` proves the database
 * answers, `write` proves it accepts a write (e.g. a row in a scratch table, rolled back).
 */
export interface DatabaseProbe {
  ping(signal: AbortSignal): Promise<void> | void;
  write(signal: AbortSignal): Promise<void> | void;
}

/** `database:writable`: the probe's ping then write succeed; observed is their time in ms. */
export function databaseCheck(probe: DatabaseProbe, name = 'database:writable'): HealthCheck {
  return {
    name,
    componentType: 'datastore',
    async run(signal) {
      const started = performance.now();
      let step = 'ping';
      try {
        await probe.ping(signal);
        step = 'write';
        await probe.write(signal);
        return {
          status: 'pass',
          observedValue: round(performance.now() - started),
          observedUnit: 'ms',
        };
      } catch (error) {
        return {
          status: 'fail',
          observedValue: round(performance.now() - started),
          observedUnit: 'ms',
          output: `${step} failed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    },
  };
}

/** The last backup as the Backup core reports it. */
export interface BackupStatus {
  /** When the last snapshot finished (Date or ms since the epoch). */
  time: Date | number;
  /** Result of the last verify of that repository: true, false, or null when never verified. */
  verified: boolean | null;
  detail?: string;
}

export interface BackupProbe {
  /** The last backup, or null when there is none yet. */
  lastBackup(signal: AbortSignal): Promise<BackupStatus | null> | BackupStatus | null;
}

/**
 * `backup:age`: hours since the last backup. Warns when older than `backupMaxAgeHours`,
 * when there is none, or when it was never verified; fails when its verify failed.
 */
export function backupCheck(
  probe: BackupProbe,
  t: Pick<HealthThresholds, 'backupMaxAgeHours'>,
): HealthCheck {
  return {
    name: 'backup:age',
    componentType: 'component',
    async run(signal) {
      const last = await probe.lastBackup(signal);
      if (last === null) {
        return { status: 'warn', threshold: t.backupMaxAgeHours, output: 'no backup yet' };
      }
      const at = typeof last.time === 'number' ? last.time : last.time.getTime();
      if (!Number.isFinite(at))
        throw invalidInput('lastBackup().time', last.time, 'a Date or epoch ms');
      const hours = Math.max(0, (Date.now() - at) / 3_600_000);
      const verify =
        last.verified === true
          ? 'verified'
          : last.verified === false
            ? 'verify FAILED'
            : 'never verified';
      const status: HealthStatus =
        last.verified === false
          ? 'fail'
          : hours > t.backupMaxAgeHours || last.verified === null
            ? 'warn'
            : 'pass';
      return {
        status,
        observedValue: round(hours),
        observedUnit: 'hours',
        threshold: t.backupMaxAgeHours,
        output: `last backup ${new Date(at).toISOString()}, ${verify}${last.detail ? `: ${last.detail}` : ''}`,
      };
    },
  };
}

/**
 * `native:loaded`: how many cores run their native implementation. Warns when a core fell
 * back to js although native was wanted (`auto` with load errors); js by request passes.
 */
export function nativeCheck(reports: () => readonly ImplementationReport[]): HealthCheck {
  return {
    name: 'native:loaded',
    componentType: 'component',
    run(): CheckOutcome {
      const list = reports();
      const native = list.filter((r) => r.implementation === 'native');
      const fellBack = list.filter((r) => r.implementation === 'js' && r.loadErrors.length > 0);
      return {
        status: fellBack.length > 0 ? 'warn' : 'pass',
        observedValue: `${native.length}/${list.length}`,
        observedUnit: 'cores native',
        output:
          fellBack.length > 0
            ? fellBack.map((r) => `${r.core}: ${r.reason}`).join('; ')
            : list.map((r) => `${r.core}: ${r.implementation}`).join(', '),
      };
    },
  };
}
