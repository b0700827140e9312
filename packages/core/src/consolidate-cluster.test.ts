import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataStore } from '@aios/data';
import { startTestPostgres, type TestPostgres, testTool } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHomes } from './testing/cli.js';

// Servers sharing a PostgreSQL store consolidate its memory one at a time.
const initdb = testTool('initdb');
const tempHome = tempHomes('aios-consolidate-');

describe.skipIf(!initdb)('aios memory consolidate on a shared PostgreSQL store', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startTestPostgres(initdb as string);
  }, 120_000);
  afterAll(() => pg?.close());

  it('says it skipped while another server consolidates, and consolidates after', {
    timeout: 120_000,
  }, async () => {
    const home = tempHome();
    const url = pg.url(await pg.createDatabase(), { password: null });
    const env = { AIOS_DATA__URL: url, AIOS_DATA__PASSWORD: pg.password };
    const aios = (...args: string[]) => runCli(home, ['--offline', ...args], env);
    const notes = join(home, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'boat.md'), '# Boat\n\nThe boat is serviced at the marina in May.\n');
    expect(aios('ingest', notes).code).toBe(0);
    const other = await openDataStore({ url, password: pg.password });
    try {
      // Another server's consolidation holds the store's lock while the CLI runs.
      const held = await other.withClusterLock('carma.consolidate', async () =>
        aios('memory', 'consolidate'),
      );
      expect(held.status).toBe('ran');
      const skipped = held.status === 'ran' ? held.value : undefined;
      expect(skipped?.code).toBe(0);
      expect(skipped?.stdout).toBe(
        'skipped: another server sharing the store is consolidating it\n',
      );
    } finally {
      await other.close();
    }
    const done = aios('memory', 'consolidate');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^consolidated \d+ namespace/);
  });
});
