import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../app.js';
import { startTestServer } from '../test-support/server.js';
import { JOURNAL_FILE, JobJournal } from './journal.js';
import { JobRegistry } from './registry.js';

// The jobs of a server outlive it: after a restart, a job reads as it ended, and one the
// server was running when it died reads as interrupted.

const log = Fastify({ logger: false }).log;
/** Jobs here end at once, and the file is written just after: a loaded machine may take a while. */
const WAIT = { timeout: 10_000 };
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'aios-jobs-journal-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the job journal', () => {
  it('reads a job left running by a process that died as interrupted, others as they ended', async () => {
    const home = tempDir();
    const before = new JobRegistry(new JobJournal(home, log));
    const done = before.start('acme', 'ingest', async () => ({ added: 2 }));
    await expect.poll(() => before.get('acme', done.id).status, WAIT).toBe('succeeded');
    // Never ends: the process is killed while it runs.
    const running = before.start('acme', 'backup.create', () => new Promise(() => undefined));
    await new JobJournal(home, log).flushed();
    await expect
      .poll(() => readFileSync(join(home, JOURNAL_FILE), 'utf8'), WAIT)
      .toContain(running.id);

    const after = new JobRegistry(new JobJournal(home, log));
    expect(after.get('acme', done.id)).toMatchObject({
      status: 'succeeded',
      result: { added: 2 },
    });
    expect(after.get('acme', running.id)).toMatchObject({
      status: 'failed',
      error: { code: 'JOB_INTERRUPTED' },
      finishedAt: expect.any(String),
    });
    expect(after.list('acme').map((j) => j.id)).toEqual([running.id, done.id]);
    expect(() => after.get('other', done.id)).toThrow(
      expect.objectContaining({ code: 'JOB_NOT_FOUND' }),
    );
    expect(() => after.cancel('acme', running.id)).toThrow(
      expect.objectContaining({ code: 'JOB_FINISHED' }),
    );
  });

  it("keeps nothing of an erased tenant's jobs", async () => {
    const home = tempDir();
    const jobs = new JobRegistry(new JobJournal(home, log));
    const gone = jobs.start('erased-co', 'ingest', async () => ({ file: 'secret-plans.md' }));
    const kept = jobs.start('acme', 'ingest', async () => ({ file: 'minutes.md' }));
    await expect.poll(() => jobs.get('erased-co', gone.id).status, WAIT).toBe('succeeded');
    await expect.poll(() => jobs.get('acme', kept.id).status, WAIT).toBe('succeeded');
    await jobs.cancelTenant('erased-co');
    const file = readFileSync(join(home, JOURNAL_FILE), 'utf8');
    expect(file).not.toContain('erased-co');
    expect(file).not.toContain('secret-plans');
    expect(file).toContain(kept.id);
  });

  it('runs jobs all the same when the file cannot be written or read', async () => {
    const home = tempDir();
    writeFileSync(join(home, JOURNAL_FILE), '{ not json');
    const warnings: unknown[] = [];
    const watched = Object.assign(Object.create(log), {
      warn: (...args: unknown[]) => warnings.push(args),
    });
    const jobs = new JobRegistry(new JobJournal(join(home, 'no', 'such', 'dir'), watched));
    const job = jobs.start('acme', 'ingest', async () => ({ added: 1 }));
    await expect.poll(() => jobs.get('acme', job.id).status, WAIT).toBe('succeeded');
    expect(new JobRegistry(new JobJournal(home, watched)).list('acme')).toEqual([]);
    expect(warnings.length).toBeGreaterThan(0);
  });
});

describe.each(testImplementations())('jobs across a restart of the server (%s)', (impl) => {
  it('answers GET /v1/jobs/:id with how the job ended, after the server was built again', async () => {
    const t = await startTestServer(impl);
    try {
      const { key } = await t.key(['memory:write']);
      await t.call('POST', '/v1/memory', key, { text: 'The heron fished at dawn.' });
      const started = await t.call('POST', '/v1/memory/consolidate', key, {});
      expect(started.statusCode).toBe(202);
      const id = started.json().id as string;
      const ended = await t.jobEnd(id, key);
      expect(ended.status).toBe('succeeded');
      await t.server.close();

      const again = await buildServer({ system: t.system, offline: true, logger: false });
      try {
        const read = await again.app.inject({
          method: 'GET',
          url: `/v1/jobs/${id}`,
          headers: t.auth(key),
        });
        expect(read.statusCode).toBe(200);
        expect(read.json()).toMatchObject({
          id,
          status: 'succeeded',
          finishedAt: ended.finishedAt,
        });
      } finally {
        await again.close();
      }
    } finally {
      await t.system.close();
      rmSync(t.home, { recursive: true, force: true });
    }
  });
});
