import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import {
  type AiosConfig,
  AiosError,
  configSchema,
  defaultHome,
  type ImplementationReport,
  invalidInput,
  type NativeMode,
} from '@aios/utils';
import packageJson from '../../package.json' with { type: 'json' };
import type { Metrics } from '../metrics/index.js';
import { createSystemStats, type SystemSample, type SystemStats } from '../stats/index.js';
import {
  cpuCheck,
  diskCheck,
  eventLoopCheck,
  type HealthThresholds,
  type LlmEndpoint,
  llmCheck,
  memoryCheck,
  nativeCheck,
  processMemoryCheck,
} from './checks.js';
import type {
  CheckOutcome,
  CheckResult,
  HealthCheck,
  HealthJsonCheck,
  HealthReport,
  HealthStatus,
  Probe,
} from './types.js';

/** The thresholds in force when nothing is configured: the config's `support` defaults. */
export function defaultThresholds(): HealthThresholds {
  return configSchema.shape.support.parse(undefined);
}

export interface HealthMonitorOptions {
  /** A loaded config: thresholds from `support`, data dir from `home`, LLM from `luna.llm`. */
  config?: Pick<AiosConfig, 'home' | 'support'> & {
    luna?: { llm?: { baseUrl?: string | undefined; apiKey?: string | undefined } };
  };
  /** Overrides single thresholds (after `config`). */
  thresholds?: Partial<HealthThresholds>;
  /** Directory whose file system `disk:free` checks; default `config.home`, else `$AIOS_HOME` or ~/.aios. */
  dataDir?: string;
  /** LLM endpoint for `llm:responseTime`; default `config.luna.llm`; `false` disables the check. */
  llm?: LlmEndpoint | false;
  /** The stats source; default `createSystemStats({ native })`. */
  stats?: SystemStats;
  native?: NativeMode;
  /** Where `native:loaded` gets its reports; default this package's own. */
  reports?: () => readonly ImplementationReport[];
  /** Health results are recorded here (`aios_health_check_*`). */
  metrics?: Metrics;
  /** Reports kept by `history()`; default 100. */
  historySize?: number;
  serviceId?: string;
  /** `releaseId` of the reports (their `version` is its major part); default this package's version. */
  releaseId?: string;
  /** Register the built-in checks (default true). */
  builtins?: boolean;
}

/** Interval of the event-loop delay timer. */
const LOOP_RESOLUTION_MS = 20;

const RANK: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };
const STATUSES = new Set<string>(['pass', 'warn', 'fail']);

function worst(results: readonly { status: HealthStatus }[]): HealthStatus {
  let status: HealthStatus = 'pass';
  for (const r of results) if (RANK[r.status] > RANK[status]) status = r.status;
  return status;
}

function validOutcome(value: unknown): value is CheckOutcome {
  return (
    typeof value === 'object' &&
    value !== null &&
    STATUSES.has((value as { status?: unknown }).status as string)
  );
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** HTTP status for a health report: 200 for pass and warn, 503 for fail. */
export function httpStatusOf(report: Pick<HealthReport, 'status'>): 200 | 503 {
  return report.status === 'fail' ? 503 : 200;
}

/**
 * Runs health checks: the built-in system checks plus whatever other cores register,
 * each under a timeout, and reports liveness or readiness in `application/health+json`.
 */
export class HealthMonitor {
  readonly thresholds: HealthThresholds;
  readonly dataDir: string;
  readonly stats: SystemStats;
  private readonly checks = new Map<string, HealthCheck>();
  private readonly metrics: Metrics | undefined;
  private readonly historySize: number;
  private readonly serviceId: string;
  private readonly releaseId: string;
  private readonly reports: HealthReport[] = [];
  private readonly latest = new Map<Probe, HealthReport>();
  private readonly running = new Map<Probe, Promise<HealthReport>>();
  private readonly histogram: RecordableHistogram;
  private readonly loopTimer: NodeJS.Timeout;
  private runSample: SystemSample | undefined;
  private closed = false;

  constructor(options: HealthMonitorOptions = {}) {
    const fromConfig = options.config?.support ?? {};
    this.thresholds = { ...defaultThresholds(), ...fromConfig, ...options.thresholds };
    for (const [key, value] of Object.entries(this.thresholds)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw invalidInput(`thresholds.${key}`, value, 'a finite number >= 0');
      }
    }
    this.dataDir = options.dataDir ?? options.config?.home ?? defaultHome();
    if (typeof this.dataDir !== 'string' || this.dataDir === '') {
      throw invalidInput('dataDir', this.dataDir, 'a non-empty directory path');
    }
    this.historySize = options.historySize ?? 100;
    if (!Number.isSafeInteger(this.historySize) || this.historySize < 1) {
      throw invalidInput('historySize', options.historySize, 'an integer >= 1');
    }
    this.serviceId = options.serviceId ?? 'aios';
    this.releaseId = options.releaseId ?? packageJson.version;
    if (typeof this.serviceId !== 'string' || typeof this.releaseId !== 'string') {
      throw invalidInput('serviceId/releaseId', options.serviceId ?? options.releaseId, 'strings');
    }
    this.metrics = options.metrics;
    this.stats = options.stats ?? createSystemStats({ native: options.native });
    // Event-loop delay: how late an unref'd interval timer fires. perf_hooks'
    // monitorEventLoopDelay loses the first interval after each reset(), so a stall right
    // after a check would go unseen; timing the timer here keeps every interval.
    this.histogram = createHistogram();
    if (options.builtins !== false) {
      const sample = () => {
        this.runSample ??= this.stats.sample();
        return this.runSample;
      };
      const t = this.thresholds;
      const stats = this.stats;
      this.register(eventLoopCheck(this.histogram, t));
      this.register(processMemoryCheck(sample, t));
      this.register(cpuCheck(sample, t));
      this.register(memoryCheck(sample, t));
      this.register(diskCheck(stats, this.dataDir, t));
      this.register(nativeCheck(options.reports ?? (() => [stats.report])));
      const llm =
        options.llm === undefined
          ? options.config?.luna?.llm?.baseUrl
            ? {
                baseUrl: options.config.luna.llm.baseUrl,
                ...(options.config.luna.llm.apiKey
                  ? { apiKey: options.config.luna.llm.apiKey }
                  : {}),
              }
            : undefined
          : options.llm || undefined;
      if (llm) this.register(llmCheck(llm));
    }
    // Started last, so a constructor that threw leaves no timer behind.
    let last = performance.now();
    this.loopTimer = setInterval(() => {
      const now = performance.now();
      const lateNs = Math.round((now - last - LOOP_RESOLUTION_MS) * 1e6);
      last = now;
      this.histogram.record(Math.max(1, lateNs));
    }, LOOP_RESOLUTION_MS);
    this.loopTimer.unref();
  }

  /** Adds a check; its name must be unique. Returns a function that removes it. */
  register(check: HealthCheck): () => void {
    if (typeof check !== 'object' || check === null || typeof check.run !== 'function') {
      throw invalidInput('check', check, 'a HealthCheck with name and run()');
    }
    if (typeof check.name !== 'string' || check.name === '') {
      throw invalidInput(
        'check.name',
        check.name,
        'a non-empty string such as "database:writable"',
      );
    }
    if (check.probe !== undefined && check.probe !== 'liveness' && check.probe !== 'readiness') {
      throw invalidInput('check.probe', check.probe, '"liveness" or "readiness"');
    }
    if (
      check.timeoutMs !== undefined &&
      (typeof check.timeoutMs !== 'number' || !(check.timeoutMs > 0))
    ) {
      throw invalidInput('check.timeoutMs', check.timeoutMs, 'a number > 0');
    }
    if (this.checks.has(check.name)) {
      throw new AiosError(
        'HEALTH_CHECK_DUPLICATE',
        `a health check named ${check.name} is already registered`,
        {
          details: { name: check.name },
        },
      );
    }
    this.checks.set(check.name, check);
    // A report made before a check came or went does not stand for the checks there are.
    this.latest.clear();
    return () => {
      if (this.checks.get(check.name) !== check) return;
      this.checks.delete(check.name);
      this.latest.clear();
    };
  }

  /** Names of the registered checks. */
  get checkNames(): string[] {
    return [...this.checks.keys()];
  }

  /** Liveness: only the checks that say the process itself works. */
  liveness(options?: { maxAgeMs?: number }): Promise<HealthReport> {
    return this.check('liveness', options);
  }

  /** Readiness: every check. */
  readiness(options?: { maxAgeMs?: number }): Promise<HealthReport> {
    return this.check('readiness', options);
  }

  /**
   * Runs the probe's checks concurrently, each under its timeout. With `maxAgeMs`, a report
   * of that probe younger than it is returned as is; concurrent calls share one run.
   */
  check(probe: Probe, options: { maxAgeMs?: number } = {}): Promise<HealthReport> {
    if (probe !== 'liveness' && probe !== 'readiness') {
      return Promise.reject(invalidInput('probe', probe, '"liveness" or "readiness"'));
    }
    if (this.closed) {
      return Promise.reject(
        new AiosError('HEALTH_MONITOR_CLOSED', 'the health monitor was closed'),
      );
    }
    const { maxAgeMs } = options;
    if (maxAgeMs !== undefined) {
      const last = this.latest.get(probe);
      if (last && Date.now() - Date.parse(last.time) <= maxAgeMs) return Promise.resolve(last);
    }
    const inFlight = this.running.get(probe);
    if (inFlight) return inFlight;
    const run = this.run(probe).finally(() => this.running.delete(probe));
    this.running.set(probe, run);
    return run;
  }

  private async run(probe: Probe): Promise<HealthReport> {
    const started = performance.now();
    const time = new Date().toISOString();
    this.runSample = undefined;
    const selected = [...this.checks.values()].filter(
      (c) => probe === 'readiness' || c.probe === 'liveness',
    );
    const results = await Promise.all(selected.map((c) => this.runOne(c)));
    this.runSample = undefined;
    const status = worst(results);
    const checks: Record<string, HealthJsonCheck[]> = {};
    for (const r of results) {
      const entry: HealthJsonCheck = {
        componentType: r.componentType,
        status: r.status,
        time: r.time,
        durationMs: r.durationMs,
      };
      if (r.observedValue !== undefined) entry.observedValue = r.observedValue;
      if (r.observedUnit !== undefined) entry.observedUnit = r.observedUnit;
      if (r.threshold !== undefined) entry.threshold = r.threshold;
      if (r.output !== undefined) entry.output = r.output;
      checks[r.name] = [entry];
      this.metrics?.recordHealth(r.name, r.status, r.durationMs / 1000);
    }
    const report: HealthReport = {
      status,
      version: this.releaseId.split('.')[0] ?? this.releaseId,
      releaseId: this.releaseId,
      serviceId: this.serviceId,
      description: `AIOS ${probe}`,
      probe,
      time,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      checks,
    };
    if (status !== 'pass') {
      report.output = results
        .filter((r) => r.status !== 'pass')
        .map((r) => `${r.name} ${r.status}${r.output ? `: ${r.output}` : ''}`)
        .join('; ');
    }
    this.latest.set(probe, report);
    this.reports.push(report);
    if (this.reports.length > this.historySize) this.reports.shift();
    return report;
  }

  private async runOne(check: HealthCheck): Promise<CheckResult> {
    const time = new Date().toISOString();
    const started = performance.now();
    const timeoutMs = check.timeoutMs ?? this.thresholds.checkTimeoutMs;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let outcome: CheckOutcome;
    try {
      const pending = check.run(controller.signal);
      if (isThenable(pending)) {
        const timedOut = new Promise<CheckOutcome>((resolve) => {
          timer = setTimeout(() => {
            controller.abort(
              new AiosError(
                'HEALTH_CHECK_TIMEOUT',
                `${check.name} timed out after ${timeoutMs} ms`,
              ),
            );
            resolve({ status: 'fail', output: `timed out after ${timeoutMs} ms` });
          }, timeoutMs);
        });
        outcome = await Promise.race([Promise.resolve(pending), timedOut]);
      } else {
        outcome = pending;
      }
      if (!validOutcome(outcome)) {
        outcome = {
          status: 'fail',
          output: 'the check returned no valid outcome (need status pass, warn or fail)',
        };
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = error instanceof AiosError ? ` [${error.code}]` : '';
      outcome = { status: 'fail', output: `check failed${code}: ${message}` };
    } finally {
      if (timer) clearTimeout(timer);
    }
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    return {
      ...outcome,
      name: check.name,
      componentType: check.componentType ?? 'component',
      time,
      durationMs,
    };
  }

  /** Past reports, oldest first (at most `historySize`), optionally of one probe. */
  history(probe?: Probe): HealthReport[] {
    return probe ? this.reports.filter((r) => r.probe === probe) : [...this.reports];
  }

  /** One check's past results, oldest first. */
  historyOf(name: string): (HealthJsonCheck & { probe: Probe })[] {
    const out: (HealthJsonCheck & { probe: Probe })[] = [];
    for (const report of this.reports) {
      const entry = report.checks[name]?.[0];
      if (entry) out.push({ ...entry, probe: report.probe });
    }
    return out;
  }

  /** Stops the event-loop sampler; later checks reject with `HEALTH_MONITOR_CLOSED`. */
  close(): void {
    this.closed = true;
    clearInterval(this.loopTimer);
  }
}

export function createHealthMonitor(options?: HealthMonitorOptions): HealthMonitor {
  return new HealthMonitor(options);
}
