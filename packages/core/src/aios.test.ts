import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createAios } from './aios.js';
import { ingest } from './ingest.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe.each(testImplementations())('createAios (AIOS_NATIVE=%s)', (impl) => {
  it('opens every core from one config, wires health and metrics, closes cleanly', async () => {
    const home = mkdtempSync(join(tmpdir(), 'aios-api-'));
    roots.push(home);
    const { config } = loadConfig({ cwd: home, env: { AIOS_HOME: home, AIOS_NATIVE: impl } });
    const aios = await createAios({ config, offline: true });
    try {
      expect(aios.home).toBe(home);
      writeFileSync(join(home, 'note.md'), 'The kettle descaling happens every second Sunday.\n');
      const result = await ingest(aios.memory, [join(home, 'note.md')]);
      expect(result.added).toBe(1);
      const answer = await aios.ask('When is the kettle descaled?');
      expect(answer.mode).toBe('offline');
      const afterAsk = await aios.metrics.render();
      expect(afterAsk).toContain(
        'aios_requests_total{core="luna",operation="ask",outcome="offline"} 1',
      );
      expect(afterAsk).toMatch(
        /aios_search_duration_seconds_count\{core="carma",mode="hybrid"\} 1/,
      );
      expect(aios.memory.get(answer.sources[0]?.id ?? '')?.metadata).toMatchObject({
        source: join(home, 'note.md'),
      });

      expect(aios.backup.exists()).toBe(false);
      expect(await aios.backup.lastBackup()).toBeNull();
      await aios.memory.flush();
      const { snapshot } = await aios.backup.create();
      expect(aios.backup.exists()).toBe(true);
      expect((await aios.backup.lastBackup())?.verified).toBeNull();
      expect((await aios.backup.verify()).ok).toBe(true);

      const report = await aios.health.readiness();
      expect(report.checks['database:writable']?.[0]?.status).toBe('pass');
      expect(report.checks['backup:age']?.[0]?.status).toBe('pass');
      expect(report.checks['native:loaded']?.[0]?.output).toContain(`@aios/luna: ${impl}`);
      expect(aios.reports().map((r) => r.implementation)).toEqual(Array(6).fill(impl));
      expect(await aios.metrics.render()).toContain(
        'aios_health_check_status{check="backup:age"} 0',
      );
      expect(snapshot.paths).toEqual([home]);
    } finally {
      await aios.close();
    }
    await aios.close(); // twice is fine
    await expect(aios.memory.search('kettle')).rejects.toMatchObject({ code: 'MEMORY_CLOSED' });
  });

  it('a home that disagrees with the config is refused', async () => {
    const { config } = loadConfig({ env: { AIOS_HOME: '/tmp/a' } });
    await expect(createAios({ config, home: '/tmp/b' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});
