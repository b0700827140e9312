import type { Counter, Histogram, Metric, MetricObjectWithValues, MetricValue } from 'prom-client';
import {
  addHistogramSeries,
  type CounterSeries,
  type HistogramSeries,
  labelsKey,
  type MetricLabels,
} from './state.js';

type Sample = MetricValue<string> & { metricName?: string };
type Exported = MetricObjectWithValues<Sample>;

function stringLabels(labels: Sample['labels']): MetricLabels {
  const out: MetricLabels = {};
  for (const [k, v] of Object.entries(labels)) if (v !== undefined) out[k] = String(v);
  return out;
}

/** A counter's series, from prom-client's `get()`. */
export function counterSeries(exported: Exported): CounterSeries[] {
  return exported.values.map((v) => ({ labels: stringLabels(v.labels), value: v.value }));
}

/** A histogram's series, from prom-client's `get()` (`_bucket` with `le`, `_sum`, `_count`). */
export function histogramSeries(exported: Exported): HistogramSeries[] {
  const out = new Map<string, HistogramSeries>();
  for (const v of exported.values) {
    const { le, ...rest } = stringLabels(v.labels);
    const key = labelsKey(rest);
    let series = out.get(key);
    if (!series) {
      series = { labels: rest, buckets: [], sum: 0, count: 0 };
      out.set(key, series);
    }
    const name = v.metricName ?? exported.name;
    if (name.endsWith('_sum')) series.sum = v.value;
    else if (name.endsWith('_count')) series.count = v.value;
    else if (le !== undefined && le !== '+Inf') series.buckets.push([Number(le), v.value]);
  }
  for (const s of out.values()) s.buckets.sort((a, b) => a[0] - b[0]);
  return [...out.values()];
}

function histogramSamples(name: string, bounds: readonly number[], s: HistogramSeries): Sample[] {
  return [
    ...bounds.map((bound) => ({
      metricName: `${name}_bucket`,
      labels: { le: bound, ...s.labels },
      value: s.buckets.find(([b]) => b === bound)?.[1] ?? 0,
    })),
    { metricName: `${name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: s.count },
    { metricName: `${name}_sum`, labels: { ...s.labels }, value: s.sum },
    { metricName: `${name}_count`, labels: { ...s.labels }, value: s.count },
  ];
}

/**
 * A registry entry exporting `metric`'s own series merged with `carried()` ones, by labels:
 * `series` reads the metric's export, `add` merges two series of the same labels, `samples`
 * writes merged series back as exported samples. `get()` of the metric itself stays what
 * this process recorded.
 */
function carriedMetric<S extends { labels: MetricLabels }>(
  metric: Counter<string> | Histogram<string>,
  type: 'counter' | 'histogram',
  parts: {
    carried: () => S[];
    series: (exported: Exported) => S[];
    add: (total: S | undefined, more: S) => S;
    samples: (name: string, series: S) => Sample[];
  },
): Metric<string> {
  const wrapper = {
    name: (metric as unknown as Exported).name,
    help: (metric as unknown as Exported).help,
    type,
    aggregator: 'sum',
    async get(): Promise<Exported> {
      const own = (await metric.get()) as Exported;
      const total = new Map(parts.series(own).map((s) => [labelsKey(s.labels), s]));
      for (const s of parts.carried()) {
        const key = labelsKey(s.labels);
        total.set(key, parts.add(total.get(key), s));
      }
      return { ...own, values: [...total.values()].flatMap((s) => parts.samples(own.name, s)) };
    },
    reset: () => metric.reset(),
  };
  return wrapper as unknown as Metric<string>;
}

/**
 * What the registry holds in place of a counter whose totals continue those of earlier
 * processes: it exports the counter's own series plus `carried()`.
 */
export function carriedCounter(
  counter: Counter<string>,
  carried: () => CounterSeries[],
): Metric<string> {
  return carriedMetric(counter, 'counter', {
    carried,
    series: counterSeries,
    add: (total, more) => ({ labels: more.labels, value: more.value + (total?.value ?? 0) }),
    samples: (_name, s) => [{ labels: { ...s.labels }, value: s.value }],
  });
}

/** The same for a histogram with the bucket `bounds` it was created with. */
export function carriedHistogram(
  histogram: Histogram<string>,
  bounds: readonly number[],
  carried: () => HistogramSeries[],
): Metric<string> {
  return carriedMetric(histogram, 'histogram', {
    carried,
    series: histogramSeries,
    add: (total, more) =>
      addHistogramSeries(
        total ?? { labels: more.labels, buckets: [], sum: 0, count: 0 },
        more,
        bounds,
      ),
    samples: (name, s) => histogramSamples(name, bounds, s),
  });
}
