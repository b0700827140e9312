import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { Metrics } from './index.js';
import {
  addMetricsStates,
  checkMetricsState,
  emptyMetricsState,
  isEmptyMetricsState,
  type MetricsState,
  subtractMetricsStates,
} from './state.js';

/** `series{labels} value` lines of a family in the text exposition. */
const lines = (text: string, name: string) =>
  text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

function firstProcess(): Metrics {
  const m = new Metrics();
  m.recordRequest({ core: 'luna', operation: 'ask', outcome: 'offline', seconds: 0.2 });
  m.recordRequest({ core: 'luna', operation: 'ask', outcome: 'offline', seconds: 3 });
  m.recordTokens('luna', 'prompt', 100);
  m.recordBackup({ operation: 'create', seconds: 2, bytes: 4096, chunks: 3 });
  m.setMemorySize('carma', { items: 7 });
  return m;
}

describe('metrics carried across processes', () => {
  it('a registry that carries the totals of another exports their sum', async () => {
    const before = await firstProcess().recorded();
    // What a later process reads back: plain JSON.
    const later = new Metrics();
    later.carry(JSON.parse(JSON.stringify(before)) as MetricsState);
    later.recordRequest({ core: 'luna', operation: 'ask', outcome: 'offline', seconds: 0.3 });
    later.recordRequest({ core: 'luna', operation: 'ask', outcome: 'llm', seconds: 0.04 });

    const text = await later.render();
    expect(text).toContain('aios_requests_total{core="luna",operation="ask",outcome="offline"} 3');
    expect(text).toContain('aios_requests_total{core="luna",operation="ask",outcome="llm"} 1');
    expect(text).toContain('aios_tokens_total{core="luna",kind="prompt"} 100');
    const ask = 'core="luna",operation="ask"';
    expect(text).toContain(`aios_request_duration_seconds_count{${ask}} 4`);
    expect(text).toContain(`aios_request_duration_seconds_sum{${ask}} 3.54`);
    expect(text).toContain(`aios_request_duration_seconds_bucket{le="0.05",${ask}} 1`);
    expect(text).toContain(`aios_request_duration_seconds_bucket{le="0.25",${ask}} 2`);
    expect(text).toContain(`aios_request_duration_seconds_bucket{le="2.5",${ask}} 3`);
    expect(text).toContain(`aios_request_duration_seconds_bucket{le="+Inf",${ask}} 4`);
    expect(text).toContain('aios_backup_operations_total{operation="create",outcome="ok"} 1');
    // Gauges are the current process's: not carried.
    expect(lines(text, 'aios_memory_items')).toEqual([]);
    // Still a valid exposition.
    expect(() => parsePrometheusTextFormat(text)).not.toThrow();

    // recorded() is this process's share only; totals() both.
    const own = await later.recorded();
    expect(own.counters.aios_requests_total).toHaveLength(2);
    expect(own.counters.aios_tokens_total).toBeUndefined();
    const totals = await later.totals();
    expect(totals.histograms.aios_request_duration_seconds?.[0]?.count).toBe(4);
    const json = await later.json();
    const requests = json.find((f) => f.name === 'aios_requests_total');
    expect(requests?.type).toBe('counter');
    expect(requests?.samples).toContainEqual({
      name: 'aios_requests_total',
      labels: { core: 'luna', operation: 'ask', outcome: 'offline' },
      value: 3,
    });
  });

  it('carrying twice adds up, and unknown families are ignored', async () => {
    const state = await firstProcess().recorded();
    const m = new Metrics();
    m.carry(state);
    m.carry({ ...state, counters: { ...state.counters, some_other_total: [] } });
    const text = await m.render();
    expect(text).toContain('aios_requests_total{core="luna",operation="ask",outcome="offline"} 4');
    expect(text).not.toContain('some_other_total');
  });

  it('subtract gives what was recorded between two readings; add puts it back', async () => {
    const m = new Metrics();
    m.recordRequest({ core: 'luna', operation: 'ask', seconds: 0.2 });
    m.recordTokens('luna', 'prompt', 10);
    const first = await m.recorded();
    m.recordRequest({ core: 'luna', operation: 'ask', seconds: 4 });
    m.recordBackup({ operation: 'verify', outcome: 'damaged', seconds: 1, chunks: 12 });
    const second = await m.recorded();

    const delta = subtractMetricsStates(second, first);
    expect(delta.counters.aios_tokens_total).toBeUndefined(); // unchanged: left out
    expect(delta.counters.aios_requests_total).toEqual([
      { labels: { core: 'luna', operation: 'ask', outcome: 'ok' }, value: 1 },
    ]);
    const duration = delta.histograms.aios_request_duration_seconds?.[0];
    expect(duration?.count).toBe(1);
    expect(duration?.sum).toBeCloseTo(4, 9);
    expect(duration?.buckets.find(([b]) => b === 2.5)?.[1]).toBe(0);
    expect(duration?.buckets.find(([b]) => b === 5)?.[1]).toBe(1);
    expect(delta.counters.aios_backup_chunks_total).toEqual([
      { labels: { operation: 'verify' }, value: 12 },
    ]);
    expect(addMetricsStates(first, delta)).toEqual(second);
    expect(isEmptyMetricsState(subtractMetricsStates(second, second))).toBe(true);
    expect(isEmptyMetricsState(emptyMetricsState())).toBe(true);
  });

  it('adds histograms with other bucket bounds without breaking the cumulative order', () => {
    const a: MetricsState = {
      counters: {},
      histograms: {
        h: [
          {
            labels: {},
            buckets: [
              [1, 2],
              [10, 5],
            ],
            sum: 20,
            count: 6,
          },
        ],
      },
    };
    const b: MetricsState = {
      counters: {},
      histograms: {
        h: [
          {
            labels: {},
            buckets: [
              [5, 1],
              [10, 1],
            ],
            sum: 3,
            count: 1,
          },
        ],
      },
    };
    const sum = addMetricsStates(a, b).histograms.h?.[0];
    expect(sum).toEqual({
      labels: {},
      buckets: [
        [1, 2],
        [5, 3],
        [10, 6],
      ],
      sum: 23,
      count: 7,
    });
  });

  it('refuses a malformed state, naming the field', () => {
    const m = new Metrics();
    expect(() => m.carry({ counters: [] } as unknown as MetricsState)).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() =>
      checkMetricsState({ counters: { c: [{ labels: {}, value: -1 }] }, histograms: {} }),
    ).toThrow(/state\.counters\.c\[0\]/);
    expect(() =>
      checkMetricsState({
        counters: {},
        histograms: {
          h: [
            {
              labels: {},
              buckets: [
                [2, 1],
                [1, 1],
              ],
              sum: 1,
              count: 1,
            },
          ],
        },
      }),
    ).toThrow(/state\.histograms\.h\[0\]/);
    expect(() =>
      checkMetricsState({ counters: { c: [{ labels: { a: 1 }, value: 1 }] }, histograms: {} }),
    ).toThrow(/labels/);
  });
});

describe('backup metrics', () => {
  it('counts operations by outcome, observes durations, adds bytes and chunks', async () => {
    const m = new Metrics();
    m.recordBackup({ operation: 'create', seconds: 1.5, bytes: 2048, chunks: 4 });
    m.recordBackup({ operation: 'create', outcome: 'error', seconds: 0.1 });
    m.recordBackup({ operation: 'prune', seconds: 0.2, bytes: 100, chunks: 2 });
    m.observeBackup('restore', 0.7, 512);
    const text = await m.render();
    expect(text).toContain('aios_backup_operations_total{operation="create",outcome="ok"} 1');
    expect(text).toContain('aios_backup_operations_total{operation="create",outcome="error"} 1');
    expect(text).toContain('aios_backup_operations_total{operation="restore",outcome="ok"} 1');
    expect(text).toContain('aios_backup_duration_seconds_count{operation="create"} 2');
    expect(text).toContain('aios_backup_processed_bytes_total{operation="create"} 2048');
    expect(text).toContain('aios_backup_processed_bytes_total{operation="restore"} 512');
    expect(text).toContain('aios_backup_chunks_total{operation="prune"} 2');
    expect(() => m.recordBackup({ operation: 'create', seconds: 1, chunks: -1 })).toThrow(/chunks/);
  });
});
