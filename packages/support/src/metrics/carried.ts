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
 * What the registry holds in place of a counter whose totals continue those of earlier
 * processes: it exports the counter's own series plus `carried()`, and `get()` of the
 * counter itself stays what this process recorded.
 */
export function carriedCounter(
  counter: Counter<string>,
  carried: () => CounterSeries[],
): Metric<string> {
  const wrapper = {
    name: (counter as unknown as Exported).name,
    help: (counter as unknown as Exported).help,
    type: 'counter',
    aggregator: 'sum',
    async get(): Promise<Exported> {
      const own = (await counter.get()) as Exported;
      const total = new Map(counterSeries(own).map((s) => [labelsKey(s.labels), s]));
      for (const s of carried()) {
        const key = labelsKey(s.labels);
        const found = total.get(key);
        total.set(key, { labels: s.labels, value: s.value + (found?.value ?? 0) });
      }
      return {
        ...own,
        values: [...total.values()].map((s) => ({ ...s, labels: { ...s.labels } })),
      };
    },
    reset: () => counter.reset(),
  };
  return wrapper as unknown as Metric<string>;
}

/** The same for a histogram with the bucket `bounds` it was created with. */
export function carriedHistogram(
  histogram: Histogram<string>,
  bounds: readonly number[],
  carried: () => HistogramSeries[],
): Metric<string> {
  const wrapper = {
    name: (histogram as unknown as Exported).name,
    help: (histogram as unknown as Exported).help,
    type: 'histogram',
    aggregator: 'sum',
    async get(): Promise<Exported> {
      const own = (await histogram.get()) as Exported;
      const total = new Map(histogramSeries(own).map((s) => [labelsKey(s.labels), s]));
      for (const s of carried()) {
        const key = labelsKey(s.labels);
        const found = total.get(key);
        total.set(
          key,
          found
            ? addHistogramSeries(found, s, bounds)
            : addHistogramSeries({ labels: s.labels, buckets: [], sum: 0, count: 0 }, s, bounds),
        );
      }
      return {
        ...own,
        values: [...total.values()].flatMap((s) => histogramSamples(own.name, bounds, s)),
      };
    },
    reset: () => histogram.reset(),
  };
  return wrapper as unknown as Metric<string>;
}
