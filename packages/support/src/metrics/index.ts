import { invalidInput } from '@aios/utils';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { HealthStatus } from '../health/types.js';
import { carriedCounter, carriedHistogram, counterSeries, histogramSeries } from './carried.js';
import {
  addMetricsStates,
  checkMetricsState,
  emptyMetricsState,
  type MetricsState,
} from './state.js';

/** Counters a cache keeps and the registry reads at scrape time (see `Cache`). */
export interface CacheStatsSource {
  readonly name: string;
  stats(): {
    hits: number;
    misses: number;
    loads: number;
    evictions: number;
    entries: number;
    bytes: number;
  };
}

type CacheStats = ReturnType<CacheStatsSource['stats']>;

/** What every tracked cache counts up, as counters: name, help, the stat. */
const CACHE_COUNTERS: [string, string, (s: CacheStats) => number][] = [
  ['aios_cache_hits_total', 'Cache lookups that found a live entry.', (s) => s.hits],
  ['aios_cache_misses_total', 'Cache lookups that found nothing.', (s) => s.misses],
  ['aios_cache_loads_total', 'Loader calls made on a miss (after single-flight).', (s) => s.loads],
  ['aios_cache_evictions_total', 'Entries evicted for size or count.', (s) => s.evictions],
];

/** What every tracked cache holds now, as gauges. */
const CACHE_GAUGES: [string, string, (s: CacheStats) => number][] = [
  ['aios_cache_entries', 'Entries held by a cache.', (s) => s.entries],
  ['aios_cache_size_bytes', 'Bytes held by a cache (as its size function counts).', (s) => s.bytes],
];

export interface MetricsOptions {
  /** Also export prom-client's process and Node.js metrics (CPU, heap, GC, event loop). */
  defaultMetrics?: boolean;
  /** Labels added to every series, e.g. `{ instance: 'laptop' }`. */
  labels?: Record<string, string>;
}

export interface RequestRecord {
  /** The core that served it, e.g. `luna`. */
  core: string;
  /** What was asked, e.g. `chat`, `search`, `snapshot`. */
  operation: string;
  /** `ok` (default), `error`, or any short word. */
  outcome?: string;
  /** How long it took, seconds. */
  seconds: number;
}

/** One backup operation, for `recordBackup`. */
export interface BackupRecord {
  /** `create`, `restore`, `verify`, `forget`, `prune`... */
  operation: string;
  /** `ok` (default), `error` (it threw), or a short word for a result with problems. */
  outcome?: string;
  /** How long it took, seconds. */
  seconds: number;
  /** Bytes it processed (read by create, written by restore, freed by prune), if known. */
  bytes?: number;
  /** Chunks it handled (stored by create, re-read by verify, removed by prune), if known. */
  chunks?: number;
}

/** One sample of `Metrics.json()`. */
export interface MetricSample {
  /** The series name (a histogram's `_bucket`, `_sum` and `_count` are named so). */
  name: string;
  labels: Record<string, string | number>;
  value: number;
}

/** One family of `Metrics.json()`. */
export interface MetricFamily {
  name: string;
  help: string;
  type: string;
  samples: MetricSample[];
}

const LABEL_VALUE_MAX = 128;

const REQUEST_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SEARCH_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const BACKUP_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const HEALTH_BUCKETS = [0.0001, 0.001, 0.01, 0.1, 0.5, 1, 2.5, 5];

function label(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > LABEL_VALUE_MAX) {
    throw invalidInput(field, value, `a non-empty string of at most ${LABEL_VALUE_MAX} chars`);
  }
  return value;
}

function amount(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidInput(field, value, 'a finite number >= 0');
  }
  return value;
}

const HEALTH_VALUE: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };

/**
 * The metrics registry other cores record into, exposed in the Prometheus text format
 * (prom-client). Each instance has its own registry; `defaultMetrics()` is the shared one.
 *
 * Counters and histograms can continue totals kept elsewhere (earlier processes): `carry`
 * adds such totals to what the registry exports, `recorded()` is what this instance itself
 * recorded (the share to keep), `totals()` both. Gauges and cache counters are always this
 * process's own.
 */
export class Metrics {
  readonly registry: Registry;
  private readonly requests: Counter<'core' | 'operation' | 'outcome'>;
  private readonly requestSeconds: Histogram<'core' | 'operation'>;
  private readonly tokens: Counter<'core' | 'kind'>;
  private readonly memoryItems: Gauge<'core'>;
  private readonly memoryBytes: Gauge<'core'>;
  private readonly searchSeconds: Histogram<'core' | 'mode'>;
  private readonly backupOperations: Counter<'operation' | 'outcome'>;
  private readonly backupSeconds: Histogram<'operation'>;
  private readonly backupBytes: Counter<'operation'>;
  private readonly backupChunks: Counter<'operation'>;
  private readonly healthStatus: Gauge<'check'>;
  private readonly healthSeconds: Histogram<'check'>;
  private readonly caches = new Map<string, CacheStatsSource>();
  /** The families whose totals can be carried over, by name. */
  private readonly counters = new Map<string, Counter<string>>();
  private readonly histograms = new Map<string, Histogram<string>>();
  private carried: MetricsState = emptyMetricsState();

  constructor(options: MetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    if (options.labels) registry.setDefaultLabels(options.labels);
    const registers = [registry];
    // Counters and histograms are registered through a wrapper that adds carried totals.
    const counter = <T extends string>(config: { name: string; help: string; labelNames: T[] }) => {
      const metric = new Counter<T>({ ...config, registers: [] });
      this.counters.set(config.name, metric as unknown as Counter<string>);
      registry.registerMetric(
        carriedCounter(
          metric as unknown as Counter<string>,
          () => this.carried.counters[config.name] ?? [],
        ),
      );
      return metric;
    };
    const histogram = <T extends string>(config: {
      name: string;
      help: string;
      labelNames: T[];
      buckets: number[];
    }) => {
      const metric = new Histogram<T>({ ...config, registers: [] });
      this.histograms.set(config.name, metric as unknown as Histogram<string>);
      registry.registerMetric(
        carriedHistogram(
          metric as unknown as Histogram<string>,
          config.buckets,
          () => this.carried.histograms[config.name] ?? [],
        ),
      );
      return metric;
    };
    this.requests = counter({
      name: 'aios_requests_total',
      help: 'Requests served by an AIOS core, by operation and outcome.',
      labelNames: ['core', 'operation', 'outcome'],
    });
    this.requestSeconds = histogram({
      name: 'aios_request_duration_seconds',
      help: 'Time to serve a request, by core and operation.',
      labelNames: ['core', 'operation'],
      buckets: REQUEST_BUCKETS,
    });
    this.tokens = counter({
      name: 'aios_tokens_total',
      help: 'Tokens processed, by core and kind (prompt, completion, embedding...).',
      labelNames: ['core', 'kind'],
    });
    this.memoryItems = new Gauge({
      name: 'aios_memory_items',
      help: 'Items held by a memory store (e.g. CARMA fragments).',
      labelNames: ['core'],
      registers,
    });
    this.memoryBytes = new Gauge({
      name: 'aios_memory_size_bytes',
      help: 'Size of a memory store in bytes.',
      labelNames: ['core'],
      registers,
    });
    this.searchSeconds = histogram({
      name: 'aios_search_duration_seconds',
      help: 'Search latency, by core and search mode.',
      labelNames: ['core', 'mode'],
      buckets: SEARCH_BUCKETS,
    });
    this.backupOperations = counter({
      name: 'aios_backup_operations_total',
      help: 'Backup operations (create, restore, verify, forget, prune), by outcome.',
      labelNames: ['operation', 'outcome'],
    });
    this.backupSeconds = histogram({
      name: 'aios_backup_duration_seconds',
      help: 'Duration of backup operations (create, restore, verify, forget, prune).',
      labelNames: ['operation'],
      buckets: BACKUP_BUCKETS,
    });
    this.backupBytes = counter({
      name: 'aios_backup_processed_bytes_total',
      help: 'Bytes processed by backup operations: read by create, written by restore, freed by prune.',
      labelNames: ['operation'],
    });
    this.backupChunks = counter({
      name: 'aios_backup_chunks_total',
      help: 'Chunks handled by backup operations: stored by create, re-read by verify, removed by prune.',
      labelNames: ['operation'],
    });
    this.healthStatus = new Gauge({
      name: 'aios_health_check_status',
      help: 'Last result of a health check: 0 pass, 1 warn, 2 fail.',
      labelNames: ['check'],
      registers,
    });
    this.healthSeconds = histogram({
      name: 'aios_health_check_duration_seconds',
      help: 'Time a health check took.',
      labelNames: ['check'],
      buckets: HEALTH_BUCKETS,
    });
    const caches = this.caches;
    /** Each tracked cache's value of one stat, read anew at every scrape. */
    const perCache = (pick: (s: CacheStats) => number) =>
      [...caches.values()].map((c) => [{ cache: c.name }, pick(c.stats())] as const);
    const config = (name: string, help: string) => ({
      name,
      help,
      labelNames: ['cache'] as const,
      registers,
    });
    for (const [name, help, pick] of CACHE_COUNTERS) {
      new Counter({
        ...config(name, help),
        collect() {
          this.reset();
          for (const [labels, value] of perCache(pick)) this.inc(labels, value);
        },
      });
    }
    for (const [name, help, pick] of CACHE_GAUGES) {
      new Gauge({
        ...config(name, help),
        collect() {
          this.reset();
          for (const [labels, value] of perCache(pick)) this.set(labels, value);
        },
      });
    }
    if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  }

  /** A request served: counted by outcome, its duration observed. */
  recordRequest(record: RequestRecord): void {
    const core = label('core', record.core);
    const operation = label('operation', record.operation);
    const outcome = label('outcome', record.outcome ?? 'ok');
    const seconds = amount('seconds', record.seconds);
    this.requests.inc({ core, operation, outcome });
    this.requestSeconds.observe({ core, operation }, seconds);
  }

  /** Times a request; call the returned function when it is done. */
  startRequest(core: string, operation: string): (outcome?: string) => number {
    label('core', core);
    label('operation', operation);
    const started = performance.now();
    return (outcome = 'ok') => {
      const seconds = (performance.now() - started) / 1000;
      this.recordRequest({ core, operation, outcome, seconds });
      return seconds;
    };
  }

  recordTokens(core: string, kind: string, count: number): void {
    this.tokens.inc(
      { core: label('core', core), kind: label('kind', kind) },
      amount('count', count),
    );
  }

  /** The current size of a memory store. */
  setMemorySize(core: string, size: { items?: number; bytes?: number }): void {
    label('core', core);
    if (size.items !== undefined) this.memoryItems.set({ core }, amount('items', size.items));
    if (size.bytes !== undefined) this.memoryBytes.set({ core }, amount('bytes', size.bytes));
  }

  observeSearch(core: string, mode: string, seconds: number): void {
    this.searchSeconds.observe(
      { core: label('core', core), mode: label('mode', mode) },
      amount('seconds', seconds),
    );
  }

  /** A backup operation: counted by outcome, its duration observed, its bytes and chunks added. */
  recordBackup(record: BackupRecord): void {
    const operation = label('operation', record.operation);
    const outcome = label('outcome', record.outcome ?? 'ok');
    const seconds = amount('seconds', record.seconds);
    const bytes = record.bytes === undefined ? undefined : amount('bytes', record.bytes);
    const chunks = record.chunks === undefined ? undefined : amount('chunks', record.chunks);
    this.backupOperations.inc({ operation, outcome });
    this.backupSeconds.observe({ operation }, seconds);
    if (bytes !== undefined) this.backupBytes.inc({ operation }, bytes);
    if (chunks !== undefined) this.backupChunks.inc({ operation }, chunks);
  }

  /** A successful backup operation (`recordBackup` with outcome `ok`). */
  observeBackup(operation: string, seconds: number, bytes?: number): void {
    this.recordBackup({ operation, seconds, ...(bytes === undefined ? {} : { bytes }) });
  }

  recordHealth(check: string, status: HealthStatus, seconds: number): void {
    this.healthStatus.set({ check }, HEALTH_VALUE[status]);
    this.healthSeconds.observe({ check }, seconds);
  }

  /** Exports a cache's hit/miss/load/eviction counters and sizes under its name. */
  trackCache(source: CacheStatsSource): void {
    label('cache name', source.name);
    this.caches.set(source.name, source);
  }

  untrackCache(name: string): void {
    this.caches.delete(name);
  }

  /**
   * Adds totals recorded elsewhere (say by earlier processes) to the counters and
   * histograms: `render()`, `json()` and `totals()` include them, `recorded()` does not.
   * Families this registry does not have are ignored. Throws `INVALID_INPUT` on a
   * malformed state, before changing anything.
   */
  carry(state: MetricsState): void {
    const checked = checkMetricsState(state);
    const known: MetricsState = { counters: {}, histograms: {} };
    for (const [name, series] of Object.entries(checked.counters)) {
      if (this.counters.has(name)) known.counters[name] = series;
    }
    for (const [name, series] of Object.entries(checked.histograms)) {
      if (this.histograms.has(name)) known.histograms[name] = series;
    }
    this.carried = addMetricsStates(this.carried, known);
  }

  /** The counters and histograms as this instance recorded them (without carried totals). */
  async recorded(): Promise<MetricsState> {
    const state = emptyMetricsState();
    for (const [name, metric] of this.counters) {
      const series = counterSeries(await metric.get());
      if (series.length > 0) state.counters[name] = series;
    }
    for (const [name, metric] of this.histograms) {
      const series = histogramSeries(await metric.get());
      if (series.length > 0) state.histograms[name] = series;
    }
    return state;
  }

  /** Carried totals plus what this instance recorded. */
  async totals(): Promise<MetricsState> {
    return addMetricsStates(structuredClone(this.carried), await this.recorded());
  }

  /** The Prometheus text exposition (format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Every family with its samples (what `render()` shows), as JSON for scripts. */
  async json(): Promise<MetricFamily[]> {
    const families = await this.registry.getMetricsAsJSON();
    return families.map((f) => ({
      name: f.name,
      help: f.help,
      type: String(f.type),
      samples: f.values.map((v) => ({
        name: (v as { metricName?: string }).metricName ?? f.name,
        labels: { ...(v.labels as Record<string, string | number>) },
        value: v.value,
      })),
    }));
  }

  /** The `Content-Type` of `render()`'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

let shared: Metrics | undefined;

/** The process-wide registry that cores record into unless given their own. */
export function defaultMetrics(): Metrics {
  shared ??= new Metrics({ defaultMetrics: true });
  return shared;
}
