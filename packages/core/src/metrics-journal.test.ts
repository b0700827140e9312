import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DataStore, openDataStore } from '@aios/data';
import { Metrics } from '@aios/support';
import { testImplementations } from '@aios/utils/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  METRICS_CHECKPOINT_EVENT,
  METRICS_DELTA_EVENT,
  MetricsJournal,
} from './metrics-journal.js';

describe.each(testImplementations())('MetricsJournal on the data store (%s)', (impl) => {
  let dir: string;
  let data: DataStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aios-journal-'));
    data = await openDataStore({ path: join(dir, 'aios.db'), native: impl });
  });
  afterEach(async () => {
    await data.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One short-lived process: loads the totals, records, saves on close. */
  async function runProcess(record: (m: Metrics) => void): Promise<Metrics> {
    const metrics = new Metrics();
    const journal = new MetricsJournal(metrics, data.events);
    await journal.load();
    record(metrics);
    await journal.save();
    return metrics;
  }
  const ask = (m: Metrics) => {
    m.recordRequest({ core: 'luna', operation: 'ask', outcome: 'offline', seconds: 0.2 });
  };
  const requests = (text: string) =>
    Number(
      /aios_requests_total\{core="luna",operation="ask",outcome="offline"\} (\d+)/.exec(
        text,
      )?.[1] ?? 0,
    );

  it('each process adds its own share; the next one shows the totals', async () => {
    await runProcess(ask);
    await runProcess((m) => {
      ask(m);
      ask(m);
    });
    const third = await runProcess(() => undefined);
    const text = await third.render();
    expect(requests(text)).toBe(3);
    expect(text).toContain('aios_request_duration_seconds_count{core="luna",operation="ask"} 3');
    expect(text).toContain(
      'aios_request_duration_seconds_bucket{le="0.25",core="luna",operation="ask"} 3',
    );
    // A process that recorded nothing wrote nothing.
    expect(await data.events.list({ type: METRICS_DELTA_EVENT, limit: 100 })).toHaveLength(2);
  });

  it('saving twice appends only what is new; loading twice carries once', async () => {
    const metrics = new Metrics();
    const journal = new MetricsJournal(metrics, data.events);
    await journal.load();
    ask(metrics);
    expect(await journal.save()).toBe(true);
    expect(await journal.save()).toBe(false);
    ask(metrics);
    expect(await journal.save()).toBe(true);
    await journal.load();
    expect(requests(await metrics.render())).toBe(2);
    expect(requests(await (await runProcess(() => undefined)).render())).toBe(2);
  });

  it('processes running at the same time lose nothing (appends, never overwrites)', async () => {
    const a = new MetricsJournal(new Metrics(), data.events);
    const b = new MetricsJournal(new Metrics(), data.events);
    await Promise.all([a.load(), b.load()]);
    ask(a.metrics);
    ask(b.metrics);
    await Promise.all([b.save(), a.save()]);
    expect(requests(await (await runProcess(() => undefined)).render())).toBe(2);
  });

  it('folds many deltas into a checkpoint; later processes read only what follows it', async () => {
    for (let i = 0; i < 55; i++) {
      const m = new Metrics();
      ask(m);
      await new MetricsJournal(m, data.events).save();
    }
    const reader = new MetricsJournal(new Metrics(), data.events);
    expect(await reader.load()).toBe(55);
    expect(requests(await reader.metrics.render())).toBe(55);
    const checkpoints = await data.events.list({ type: METRICS_CHECKPOINT_EVENT, limit: 10 });
    expect(checkpoints).toHaveLength(1);

    await runProcess(ask);
    const next = new MetricsJournal(new Metrics(), data.events);
    expect(await next.load()).toBe(1); // the checkpoint, then one delta
    expect(requests(await next.metrics.render())).toBe(56);
  });

  it('ignores events of its types that it cannot read', async () => {
    await runProcess(ask);
    await data.events.add([
      { type: METRICS_DELTA_EVENT, data: { version: 1, state: { counters: 'nope' } } },
      { type: METRICS_DELTA_EVENT, data: { version: 99, state: {} } },
      { type: METRICS_DELTA_EVENT },
    ]);
    expect(requests(await (await runProcess(() => undefined)).render())).toBe(1);
  });
});
