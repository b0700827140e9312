import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { runCli, tempHomes } from './testing/cli.js';

const newHome = tempHomes('aios-doctor-');

interface Report {
  status: 'ok' | 'warn' | 'fail';
  findings: Array<{ check: string; status: string; message: string }>;
}

function doctor(home: string, impl: string, ...flags: string[]) {
  const r = runCli(home, ['doctor', '--json', ...flags], { AIOS_NATIVE: impl });
  return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

function seeded(impl: string): string {
  const home = newHome();
  const notes = join(home, 'notes');
  mkdirSync(notes);
  for (let i = 0; i < 30; i++) {
    writeFileSync(
      join(notes, `n${i}.md`),
      `Note ${i}: the boiler ${i} was serviced on day ${i}.\n`,
    );
  }
  expect(runCli(home, ['ingest', notes], { AIOS_NATIVE: impl }).code).toBe(0);
  return home;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.each(testImplementations())('aios doctor (%s)', (impl) => {
  it('finds a healthy home healthy', () => {
    const home = seeded(impl);
    expect(runCli(home, ['backup', 'create'], { AIOS_NATIVE: impl }).code).toBe(0);
    const { code, report } = doctor(home, impl);
    expect(report.status).toBe('ok');
    expect(code).toBe(0);
    expect(new Set(report.findings.map((f) => f.check))).toEqual(
      new Set(['leftovers', 'database', 'labels', 'index-files', 'backup']),
    );
  });

  it('reports a damaged index file and removes it with --repair; the next open rebuilds it', () => {
    const home = seeded(impl);
    const dir = join(home, 'carma');
    const file = readdirSync(dir).find((n) => /^index-\d+\.bin$/.test(n)) as string;
    const path = join(dir, file);
    const fd = openSync(path, 'r+');
    writeSync(fd, randomBytes(4096), 0, 4096, Math.floor(statSync(path).size / 2) - 2048);
    closeSync(fd);
    const found = doctor(home, impl);
    expect(found.report.status).toBe('warn');
    expect(found.report.findings).toContainEqual(
      expect.objectContaining({ check: 'index-files', status: 'warn' }),
    );
    const repaired = doctor(home, impl, '--repair');
    expect(repaired.report.findings).toContainEqual(
      expect.objectContaining({ check: 'index-files', status: 'repaired' }),
    );
    expect(existsSync(path)).toBe(false);
    const search = runCli(home, ['memory', 'search', 'boiler 17 serviced'], { AIOS_NATIVE: impl });
    expect(search.stdout).toContain('Note 17');
    expect(doctor(home, impl).report.status).toBe('ok');
  });

  it('fails on a damaged database without touching it', () => {
    const home = seeded(impl);
    const db = join(home, 'aios.db');
    // Overwrite pages in the middle of the file (not the header): SQLite finds the damage.
    const size = statSync(db).size;
    const fd = openSync(db, 'r+');
    writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    const before = sha(db);
    const { code, report } = doctor(home, impl);
    expect(code).toBe(1);
    expect(report.status).toBe('fail');
    const finding = report.findings.find((f) => f.check === 'database');
    expect(finding?.status).toBe('fail');
    expect(finding?.message).toMatch(/backup restore/);
    expect(sha(db)).toBe(before);
  });

  it('finishes or removes the staging folder of a killed restore with --repair', async () => {
    const home = seeded(impl);
    // The staging folder of a restore whose process is gone (pid of an exited child).
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => child.on('exit', resolve));
    const staging = join(home, `.restore-${child.pid}-abc123`);
    mkdirSync(join(staging, 'payload'), { recursive: true });
    writeFileSync(join(staging, 'payload', 'aios.db'), 'half a database');
    expect(doctor(home, impl).report.findings).toContainEqual(
      expect.objectContaining({ check: 'leftovers', status: 'warn' }),
    );
    const repaired = doctor(home, impl, '--repair');
    expect(repaired.report.findings).toContainEqual(
      expect.objectContaining({ check: 'leftovers', status: 'repaired' }),
    );
    expect(existsSync(staging)).toBe(false);
    const stats = runCli(home, ['memory', 'stats', '--json'], { AIOS_NATIVE: impl });
    expect(JSON.parse(stats.stdout).fragments).toBe(30);
  });

  it('is what the health check reports, without repairing anything', () => {
    const home = seeded(impl);
    const staging = join(home, '.restore-999999-abc123');
    mkdirSync(staging);
    const r = runCli(home, ['health', '--json', '--offline'], { AIOS_NATIVE: impl });
    const report = JSON.parse(r.stdout) as {
      checks: Record<string, Array<{ status: string; output?: string }>>;
    };
    const check = report.checks['home:integrity']?.[0];
    expect(check?.status).toBe('warn');
    expect(check?.output).toContain('.restore-999999-abc123');
    expect(existsSync(staging)).toBe(true);
  });

  it('finds fragments sharing an index label and gives them their own with --repair', async () => {
    const home = seeded(impl);
    // Two fragments with one label, as two writers at once could leave them before labels
    // were taken inside the write transaction.
    const data = await openDataStore({ path: join(home, 'aios.db'), native: impl });
    try {
      const [a, b] = await data.fragments.list({ limit: 2, vectors: false });
      if (!a || !b) throw new Error('expected fragments');
      await data.fragments.put(
        [
          {
            id: b.id,
            namespace: b.namespace,
            text: b.text,
            metadata: b.metadata,
            attributes: { ...b.attributes, label: a.attributes.label },
          },
        ],
        { keepVectors: true },
      );
    } finally {
      await data.close();
    }
    const found = doctor(home, impl);
    expect(found.code).toBe(1);
    expect(found.report.findings).toContainEqual(
      expect.objectContaining({ check: 'labels', status: 'fail' }),
    );
    const repaired = doctor(home, impl, '--repair');
    expect(repaired.report.findings).toContainEqual(
      expect.objectContaining({ check: 'labels', status: 'repaired' }),
    );
    expect(doctor(home, impl).report.status).toBe('ok');
    const search = runCli(home, ['memory', 'search', 'boiler 3 serviced day 3'], {
      AIOS_NATIVE: impl,
    });
    expect(search.stdout).toContain('Note 3');
  });
});
