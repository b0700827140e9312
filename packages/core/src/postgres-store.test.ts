import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestPostgres, type TestPostgres, testTool } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { besidesProgress, runCli, tempHomes } from './testing/cli.js';

// The whole system over a PostgreSQL store (data.url): CARMA reads and writes its
// fragments through it, status names it, health checks it.
const initdb = testTool('initdb');
const tempHome = tempHomes('aios-postgres-');

describe('aios status without data.url', () => {
  it('names the SQLite file as the store', () => {
    const home = tempHome();
    const status = runCli(home, ['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).store).toEqual({
      database: 'sqlite',
      location: join(home, 'aios.db'),
    });
    expect(runCli(home, ['status']).stdout).toContain(`store   SQLite ${join(home, 'aios.db')}`);
  });
});

describe.skipIf(!initdb)('aios with data.url (PostgreSQL)', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startTestPostgres(initdb as string);
  }, 120_000);
  afterAll(() => pg?.close());

  it('ingests, searches, shows its store in status and checks it in health', {
    timeout: 180_000,
  }, async () => {
    const home = tempHome();
    const database = await pg.createDatabase();
    const url = pg.url(database, { password: null });
    const env = { AIOS_DATA__URL: url, AIOS_DATA__PASSWORD: pg.password };
    const aios = (...args: string[]) => runCli(home, ['--offline', ...args], env);
    const notes = join(home, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'boat.md'), '# Boat\n\nThe boat is serviced at the marina in May.\n');
    writeFileSync(join(notes, 'car.md'), '# Car\n\nThe car is serviced at the garage in spring.\n');

    const ingest = aios('ingest', notes);
    expect(besidesProgress(ingest.stderr)).toBe('');
    expect(ingest.code).toBe(0);
    const search = aios('memory', 'search', 'marina', '-k', '1', '--json');
    expect(search.stderr).toBe('');
    const found = JSON.parse(search.stdout) as { results: Array<{ id: string; text: string }> };
    expect(found.results[0]?.text).toContain('marina');
    // The fragments are in PostgreSQL, not in an SQLite file of the home.
    expect(Number(await pg.sql(database, 'SELECT count(*) FROM fragments'))).toBeGreaterThan(0);
    expect(
      await pg.sql(database, "SELECT count(*) FROM fragments WHERE text LIKE '%marina%'"),
    ).toBe('1');

    const status = aios('status', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).store).toEqual({ database: 'postgres', location: url });
    const text = aios('status');
    expect(text.stdout).toContain(`store   PostgreSQL ${url}`);
    expect(text.stdout).not.toContain(pg.password);

    const health = aios('health', '--json');
    const report = JSON.parse(health.stdout) as {
      checks: Record<string, Array<{ status: string; output?: string }>>;
    };
    expect(report.checks['postgres:responseTime']?.[0]).toMatchObject({
      status: 'pass',
      output: expect.stringContaining(url),
    });
    expect(health.stdout).not.toContain(pg.password);

    // The doctor checks the store on the server, not an SQLite file of the home.
    const doctor = aios('doctor', '--json');
    expect(doctor.stdout).not.toContain(pg.password);
    const checked = (
      JSON.parse(doctor.stdout) as {
        findings: Array<{ check: string; status: string; message: string }>;
      }
    ).findings.find((f) => f.check === 'database');
    expect(checked?.status).toBe('ok');
    expect(checked?.message.startsWith(`${url}: `)).toBe(true);
    expect(checked?.message).toContain('schema version 7');

    // A backup of the home holds the store's dump (backup-postgres.test.ts goes further).
    const backup = aios('backup', 'create', '--json');
    expect(backup.code).toBe(0);
    expect(JSON.parse(backup.stdout).warnings).toEqual([]);

    // A password in data.url is refused (it belongs in data.password, a secret).
    const refused = runCli(home, ['status'], {
      AIOS_DATA__URL: pg.url(database),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('data.password');
    expect(refused.stderr).not.toContain(pg.password);

    // The server down: a coded one-line error naming it, without the password.
    await pg.stop('fast');
    const down = aios('memory', 'search', 'marina');
    expect(down.code).not.toBe(0);
    expect(down.stderr).toMatch(/^aios: .*\[DATA_UNREACHABLE\]\n$/);
    expect(down.stderr).not.toContain(pg.password);
    await pg.start();
  });
});
