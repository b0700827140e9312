import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Memory } from '@aios/carma';
import type { DataStore } from '@aios/data';
import { closedPort } from '@aios/luna/testing';
import { type AiosConfig, loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { type Aios, createAios } from './aios.js';
import { sourceViews } from './commands/ask.js';
import { ingest } from './ingest.js';
import { MetricsJournal } from './metrics-journal.js';

// Every data store and CARMA memory the system opens, and a way to make CARMA's open fail.
const opened = vi.hoisted(() => ({
  stores: [] as DataStore[],
  memories: [] as Memory[],
  failMemory: undefined as Error | undefined,
}));
vi.mock('@aios/data', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@aios/data')>();
  return {
    ...actual,
    openDataStore: async (...args: Parameters<typeof actual.openDataStore>) => {
      const store = await actual.openDataStore(...args);
      opened.stores.push(store);
      return store;
    },
  };
});
vi.mock('@aios/carma', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@aios/carma')>();
  return {
    ...actual,
    openMemory: async (...args: Parameters<typeof actual.openMemory>) => {
      const failure = opened.failMemory;
      opened.failMemory = undefined;
      if (failure) throw failure;
      const memory = await actual.openMemory(...args);
      opened.memories.push(memory);
      return memory;
    },
  };
});

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  opened.stores.length = 0;
  opened.memories.length = 0;
});

const NOTE = 'The kettle descaling happens every second Sunday.\n';

describe.each(testImplementations())('createAios (AIOS_NATIVE=%s)', (impl) => {
  const home = () => {
    const dir = mkdtempSync(join(tmpdir(), 'aios-api-'));
    roots.push(dir);
    return dir;
  };
  const configFor = (dir: string, env: Record<string, string> = {}): AiosConfig =>
    loadConfig({ cwd: dir, env: { AIOS_HOME: dir, AIOS_NATIVE: impl, ...env } }).config;
  /** A system on a fresh home, with one note ingested. */
  const withNote = async (options: { offline?: boolean; env?: Record<string, string> } = {}) => {
    const dir = home();
    const aios = await createAios({
      config: configFor(dir, options.env),
      offline: options.offline ?? true,
    });
    writeFileSync(join(dir, 'note.md'), NOTE);
    expect((await ingest(aios.memory, [join(dir, 'note.md')])).added).toBe(1);
    return { aios, dir };
  };

  it('opens the data store and CARMA on it from the config, once each', async () => {
    const dir = home();
    const config = configFor(dir);
    const aios = await createAios({ config, offline: true });
    try {
      expect(aios.home).toBe(dir);
      expect(opened.stores).toEqual([aios.data]);
      expect(opened.memories).toEqual([aios.memory]);
      expect(aios.data.path).toBe(config.data.path);
      expect(aios.data.implementation).toBe(impl);
      expect(aios.memory.stats().location).toContain(join(dir, 'carma'));
      expect(aios.memory.implementation).toBe(impl);
      expect(aios.luna.implementation).toBe(impl);
      expect(aios.reports().map((r) => r.implementation)).toEqual(Array(6).fill(impl));
    } finally {
      await aios.close();
    }
  });

  it('closes CARMA, then the data store, once; a second close does nothing', async () => {
    const aios = await createAios({ config: configFor(home()), offline: true });
    const order: string[] = [];
    const closeMemory = aios.memory.close.bind(aios.memory);
    vi.spyOn(aios.memory, 'close').mockImplementation(async () => {
      order.push('carma');
      await closeMemory();
    });
    const closeData = aios.data.close.bind(aios.data);
    vi.spyOn(aios.data, 'close').mockImplementation(async () => {
      order.push('data');
      await closeData();
    });
    await aios.close();
    await aios.close();
    expect(order).toEqual(['carma', 'data']);
    await expect(aios.memory.search('kettle')).rejects.toMatchObject({ code: 'MEMORY_CLOSED' });
    await expect(aios.data.schemaVersion()).rejects.toMatchObject({ code: 'DATA_CLOSED' });
  });

  it('a failed open closes what it had opened', async () => {
    opened.failMemory = new Error('CARMA cannot open');
    await expect(createAios({ config: configFor(home()), offline: true })).rejects.toThrow(
      'CARMA cannot open',
    );
    expect(opened.stores).toHaveLength(1);
    await expect(opened.stores[0]?.schemaVersion()).rejects.toMatchObject({
      code: 'DATA_CLOSED',
    });

    opened.stores.length = 0;
    vi.spyOn(MetricsJournal.prototype, 'load').mockRejectedValueOnce(new Error('bad journal'));
    await expect(createAios({ config: configFor(home()), offline: true })).rejects.toThrow(
      'bad journal',
    );
    await expect(opened.memories[0]?.search('kettle')).rejects.toMatchObject({
      code: 'MEMORY_CLOSED',
    });
    await expect(opened.stores[0]?.schemaVersion()).rejects.toMatchObject({
      code: 'DATA_CLOSED',
    });
  });

  it('builds one chat client, the one Luna asks; none offline', async () => {
    const port = await closedPort();
    const { aios } = await withNote({
      offline: false,
      env: {
        AIOS_LUNA__LLM__BASE_URL: `http://127.0.0.1:${port}/v1`,
        AIOS_LUNA__LLM__MODEL: 'm',
        AIOS_LUNA__LLM__MAX_RETRIES: '0',
      },
    });
    try {
      expect(aios.llm).not.toBeNull();
      expect(aios.luna.llm).toBe(aios.llm);
      const chat = vi.spyOn(aios.llm as NonNullable<Aios['llm']>, 'chat');
      const answer = await aios.ask('When is the kettle descaled?');
      expect(chat).toHaveBeenCalledTimes(1);
      expect(answer.offlineReason).toMatch(/^LLM_UNREACHABLE/);
    } finally {
      await aios.close();
    }
    const offline = await createAios({ config: configFor(home()), offline: true });
    try {
      expect(offline.llm).toBeNull();
      expect(offline.luna.llm).toBeNull();
    } finally {
      await offline.close();
    }
  });

  it('answers with sources that carry their text and metadata; the CLI prints them as they are', async () => {
    const { aios, dir } = await withNote();
    try {
      const get = vi.spyOn(aios.memory, 'get');
      const answer = await aios.ask('When is the kettle descaled?');
      expect(answer.mode).toBe('offline');
      expect(answer.sources).toEqual([
        expect.objectContaining({
          text: NOTE.trim(),
          snippet: NOTE.trim(),
          namespace: 'documents',
          metadata: expect.objectContaining({ source: join(dir, 'note.md'), line: 1 }),
        }),
      ]);
      expect(sourceViews(answer)).toEqual([
        {
          id: answer.sources[0]?.id,
          score: answer.sources[0]?.score,
          source: join(dir, 'note.md'),
          line: 1,
          chapter: null,
          offset: 0,
          namespace: 'documents',
          text: NOTE.trim(),
        },
      ]);
      expect(get).not.toHaveBeenCalled();
    } finally {
      await aios.close();
    }
  });

  it('records requests, tokens and search time, and feedback, as metrics', async () => {
    const { aios } = await withNote();
    try {
      const answer = await aios.ask('When is the kettle descaled?');
      await aios.feedback(answer.id, { rating: 1 });
      await aios.undoFeedback();
      await expect(aios.feedback('no-such-answer', { rating: 1 })).rejects.toMatchObject({
        code: 'LUNA_NOT_FOUND',
      });
      const text = await aios.metrics.render();
      expect(text).toContain(
        'aios_requests_total{core="luna",operation="ask",outcome="offline"} 1',
      );
      expect(text).toMatch(/aios_search_duration_seconds_count\{core="carma",mode="hybrid"\} 1/);
      expect(text).toContain(
        'aios_requests_total{core="luna",operation="feedback",outcome="ok"} 1',
      );
      expect(text).toContain(
        'aios_requests_total{core="luna",operation="feedback",outcome="error"} 1',
      );
      expect(text).toContain(
        'aios_requests_total{core="luna",operation="feedback-undo",outcome="ok"} 1',
      );
    } finally {
      await aios.close();
    }
  });

  it('wires health and backup onto the same cores', async () => {
    const { aios, dir } = await withNote();
    try {
      expect(aios.backup.exists()).toBe(false);
      expect(await aios.backup.lastBackup()).toBeNull();
      await aios.memory.flush();
      const { snapshot } = await aios.backup.create();
      expect(snapshot.paths).toEqual([dir]);
      expect((await aios.backup.verify()).ok).toBe(true);

      const report = await aios.health.readiness();
      // Made when first read, then the same monitor (with its checks) every time.
      expect(aios.health).toBe(aios.health);
      expect(report.checks['database:writable']?.[0]?.status).toBe('pass');
      expect(report.checks['backup:age']?.[0]?.status).toBe('pass');
      expect(report.checks['native:loaded']?.[0]?.output).toContain(`@aios/luna: ${impl}`);
      expect(await aios.metrics.render()).toContain(
        'aios_health_check_status{check="backup:age"} 0',
      );
    } finally {
      await aios.close();
    }
  });

  it('a home that disagrees with the config is refused', async () => {
    const { config } = loadConfig({ env: { AIOS_HOME: '/tmp/a' } });
    await expect(createAios({ config, home: '/tmp/b' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(opened.stores).toEqual([]);
  });
});
