import { invalidInput } from '@aios/utils';

/** Label names to values of one series. */
export type MetricLabels = Record<string, string>;

/** One series of a counter: its labels and its total. */
export interface CounterSeries {
  labels: MetricLabels;
  value: number;
}

/** One series of a histogram, cumulative as in the exposition format. */
export interface HistogramSeries {
  labels: MetricLabels;
  /** `[upper bound, observations <= bound]`, bounds ascending, without `+Inf` (that is `count`). */
  buckets: Array<[number, number]>;
  sum: number;
  count: number;
}

/**
 * The cumulative part of a registry (counters and histograms, by family name) as plain
 * JSON, so that totals can be kept across processes: added up (`addMetricsStates`), and a
 * process's own share taken out of its totals (`subtractMetricsStates`). Gauges are not
 * part of it: they are the current value of something, not a total.
 */
export interface MetricsState {
  counters: Record<string, CounterSeries[]>;
  histograms: Record<string, HistogramSeries[]>;
}

export function emptyMetricsState(): MetricsState {
  return { counters: {}, histograms: {} };
}

/** True when the state holds no series. */
export function isEmptyMetricsState(state: MetricsState): boolean {
  return (
    Object.values(state.counters).every((s) => s.length === 0) &&
    Object.values(state.histograms).every((s) => s.length === 0)
  );
}

/** A key that is the same for equal label sets, whatever their order. */
export function labelsKey(labels: MetricLabels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

/**
 * Observations `<= bound` of a histogram series: its cumulative count at the largest of its
 * bounds not above `bound` (0 below its first). Exact when the series has that bound; when
 * bucket layouts differ it never counts an observation in a bucket too low, so buckets stay
 * non-decreasing.
 */
function countAtOrBelow(series: HistogramSeries, bound: number): number {
  let out = 0;
  for (const [b, n] of series.buckets) {
    if (b > bound) break;
    out = n;
  }
  return out;
}

function addCounters(a: CounterSeries[], b: CounterSeries[]): CounterSeries[] {
  const out = new Map<string, CounterSeries>();
  for (const s of [...a, ...b]) {
    const key = labelsKey(s.labels);
    const found = out.get(key);
    if (found) found.value += s.value;
    else out.set(key, { labels: { ...s.labels }, value: s.value });
  }
  return [...out.values()];
}

/** Adds two histogram series on `bounds` (default: every bound either has). */
export function addHistogramSeries(
  a: HistogramSeries,
  b: HistogramSeries,
  bounds?: readonly number[],
): HistogramSeries {
  const on =
    bounds ??
    [...new Set([...a.buckets.map(([x]) => x), ...b.buckets.map(([x]) => x)])].sort(
      (x, y) => x - y,
    );
  return {
    labels: { ...a.labels },
    buckets: on.map((bound) => [bound, countAtOrBelow(a, bound) + countAtOrBelow(b, bound)]),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

function addHistograms(a: HistogramSeries[], b: HistogramSeries[]): HistogramSeries[] {
  const out = new Map<string, HistogramSeries>();
  for (const s of [...a, ...b]) {
    const key = labelsKey(s.labels);
    const found = out.get(key);
    out.set(key, found ? addHistogramSeries(found, s) : structuredClone(s));
  }
  return [...out.values()];
}

function mergeFamilies<T>(
  a: Record<string, T[]>,
  b: Record<string, T[]>,
  add: (x: T[], y: T[]) => T[],
): Record<string, T[]> {
  const out: Record<string, T[]> = {};
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const series = add(a[name] ?? [], b[name] ?? []);
    if (series.length > 0) out[name] = series;
  }
  return out;
}

/** The sum of two states: counters added, histograms added bucket by bucket. */
export function addMetricsStates(a: MetricsState, b: MetricsState): MetricsState {
  return {
    counters: mergeFamilies(a.counters, b.counters, addCounters),
    histograms: mergeFamilies(a.histograms, b.histograms, addHistograms),
  };
}

/**
 * What `later` holds beyond `earlier` (both totals of the same registry, `earlier` taken
 * first): series that did not change are left out, so the result is what was recorded in
 * between.
 */
export function subtractMetricsStates(later: MetricsState, earlier: MetricsState): MetricsState {
  const counters: MetricsState['counters'] = {};
  for (const [name, series] of Object.entries(later.counters)) {
    const before = new Map((earlier.counters[name] ?? []).map((s) => [labelsKey(s.labels), s]));
    const changed = series
      .map((s) => ({
        labels: { ...s.labels },
        value: s.value - (before.get(labelsKey(s.labels))?.value ?? 0),
      }))
      .filter((s) => s.value > 0);
    if (changed.length > 0) counters[name] = changed;
  }
  const histograms: MetricsState['histograms'] = {};
  for (const [name, series] of Object.entries(later.histograms)) {
    const before = new Map((earlier.histograms[name] ?? []).map((s) => [labelsKey(s.labels), s]));
    const changed: HistogramSeries[] = [];
    for (const s of series) {
      const b = before.get(labelsKey(s.labels));
      if (!b) {
        changed.push(structuredClone(s));
        continue;
      }
      if (s.count === b.count) continue;
      changed.push({
        labels: { ...s.labels },
        buckets: s.buckets.map(([bound, n]) => [bound, n - countAtOrBelow(b, bound)]),
        sum: s.sum - b.sum,
        count: s.count - b.count,
      });
    }
    if (changed.length > 0) histograms[name] = changed;
  }
  return { counters, histograms };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

function checkLabels(value: unknown, field: string): MetricLabels {
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalidInput(field, value, 'an object of label names to string values');
  }
  return value as MetricLabels;
}

/**
 * Checks a state read back from storage (JSON written by another process, maybe another
 * version): throws `INVALID_INPUT` naming the first bad field.
 */
export function checkMetricsState(value: unknown, field = 'state'): MetricsState {
  if (!isRecord(value) || !isRecord(value.counters) || !isRecord(value.histograms)) {
    throw invalidInput(field, value, 'a metrics state { counters, histograms }');
  }
  for (const [name, series] of Object.entries(value.counters)) {
    const at = `${field}.counters.${name}`;
    if (!Array.isArray(series)) throw invalidInput(at, series, 'an array of series');
    series.forEach((s, i) => {
      if (!isRecord(s) || !isCount(s.value)) {
        throw invalidInput(`${at}[${i}]`, s, 'a series { labels, value >= 0 }');
      }
      checkLabels(s.labels, `${at}[${i}].labels`);
    });
  }
  for (const [name, series] of Object.entries(value.histograms)) {
    const at = `${field}.histograms.${name}`;
    if (!Array.isArray(series)) throw invalidInput(at, series, 'an array of series');
    series.forEach((s, i) => {
      const ok =
        isRecord(s) &&
        isCount(s.count) &&
        typeof s.sum === 'number' &&
        Number.isFinite(s.sum) &&
        Array.isArray(s.buckets) &&
        s.buckets.every(
          (b: unknown, j: number, all: unknown[]) =>
            Array.isArray(b) &&
            b.length === 2 &&
            typeof b[0] === 'number' &&
            Number.isFinite(b[0]) &&
            isCount(b[1]) &&
            (j === 0 || (all[j - 1] as [number, number])[0] < b[0]),
        );
      if (!ok) {
        throw invalidInput(
          `${at}[${i}]`,
          s,
          'a series { labels, buckets: [[bound, count], ...] ascending, sum, count }',
        );
      }
      checkLabels((s as Record<string, unknown>).labels, `${at}[${i}].labels`);
    });
  }
  return value as unknown as MetricsState;
}
