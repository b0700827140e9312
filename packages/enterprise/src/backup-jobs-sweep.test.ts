import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAios, loadConfig } from '@aios/core';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from './access/keys.js';
import type { JobView } from './jobs/registry.js';
import { serveAios } from './test-support/cli.js';
import { startTestServer, type TestServer } from './test-support/server.js';
import { readEvents } from './test-support/sse-client.js';

/** The events of a finished job's stream, as `[event, status]`. */
function streamed(body: string): Array<[string, string]> {
  return body
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => [
      /^event: (.*)$/m.exec(block)?.[1] ?? 'message',
      (JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}') as JobView).status,
    ]);
}

/** The snapshot a backup job made. */
const snapshotOf = (job: JobView) => (job.result as { snapshot: { id: string } }).snapshot.id;

describe.each(testImplementations())('backup jobs through the API, adversarially (%s)', (impl) => {
  let t: TestServer;
  let key: string;
  let otherKey: string;
  /** The home of tenant `sw-a`, which holds a large file so that its jobs take a while. */
  let home: string;

  beforeAll(async () => {
    t = await startTestServer(impl);
    key = (await t.key(['backup', 'memory:read', 'memory:write'], { tenant: 'sw-a' })).key;
    otherKey = (await t.key(['backup', 'memory:read'], { tenant: 'sw-b' })).key;
    await t.call('GET', '/v1/backups', key); // opens the tenant: its home exists
    home = join(t.home, 'tenants', 'sw-a');
    writeFileSync(join(home, 'large.bin'), randomBytes(24 << 20));
  });
  afterAll(() => t.close());

  const start = async (url: string, body: object = {}, k = key): Promise<JobView> => {
    const res = await t.call('POST', url, k, body);
    expect(res.statusCode, res.body).toBe(202);
    return res.json();
  };
  const cancel = (job: JobView) => t.call('DELETE', `/v1/jobs/${job.id}`, key);
  const snapshots = async (): Promise<string[]> =>
    (await t.call('GET', '/v1/backups', key)).json().items.map((s: { id: string }) => s.id);
  /** Verifies every pack of the repository: it must be sound. */
  async function expectSound(): Promise<void> {
    const verify = await t.jobEnd((await start('/v1/backups/verify', { readData: 100 })).id, key);
    expect(verify.status).toBe('succeeded');
    expect(verify.result).toMatchObject({ ok: true, errors: [], damagedSnapshots: [] });
  }
  /** The job's stream, read once the job has ended: it ends with one `end` event. */
  async function expectStreamEnds(job: JobView): Promise<void> {
    const res = await t.server.app.inject({
      method: 'GET',
      url: `/v1/jobs/${job.id}/events`,
      headers: t.auth(key),
    });
    expect(res.statusCode).toBe(200);
    expect(streamed(res.body)).toEqual([['end', job.status]]);
  }

  it('cancels a backup before it starts, while it waits its turn and mid-way: the repository stays sound', async () => {
    const first = await t.jobEnd((await start('/v1/backups')).id, key);
    expect(first.status).toBe('succeeded');
    // New bytes, so that the next backup has work to do.
    writeFileSync(join(home, 'large.bin'), randomBytes(24 << 20));

    const atOnce = await start('/v1/backups');
    expect((await cancel(atOnce)).statusCode).toBe(202);
    const ended = await t.jobEnd(atOnce.id, key);
    expect(ended).toMatchObject({ status: 'cancelled', result: null });
    expect(ended.error?.code).toBe('JOB_CANCELLED');
    await expectStreamEnds(ended);

    // A job cancelled while the one before it runs ends then, not after that one.
    const running = await start('/v1/backups');
    const waiting = await start('/v1/backups');
    expect((await cancel(waiting)).statusCode).toBe(202);
    const waited = await t.jobEnd(waiting.id, key);
    const ran = await t.jobEnd(running.id, key);
    expect(waited.status).toBe('cancelled');
    expect(ran.status).toBe('succeeded');
    expect(Date.parse(waited.finishedAt as string)).toBeLessThan(
      Date.parse(ran.finishedAt as string),
    );

    writeFileSync(join(home, 'large.bin'), randomBytes(24 << 20));
    const before = await snapshots();
    const midway = await start('/v1/backups');
    await expect
      .poll(async () => (await t.call('GET', `/v1/jobs/${midway.id}`, key)).json().progress, {
        interval: 2,
        // Its first progress can take seconds on a loaded machine (the js build, in CI).
        timeout: 60_000,
      })
      .not.toBeNull();
    await cancel(midway);
    const stopped = await t.jobEnd(midway.id, key);
    await expectStreamEnds(stopped);
    // However late the cancel came, the job says what happened to the repository.
    if (stopped.status === 'cancelled') {
      expect(stopped.error?.code).toBe('ABORTED');
      expect(await snapshots()).toEqual(before);
    } else {
      expect(stopped.status).toBe('succeeded');
      expect(await snapshots()).toEqual([...before, snapshotOf(stopped)]);
    }
    await expectSound();
    const next = await t.jobEnd((await start('/v1/backups')).id, key);
    expect(next).toMatchObject({ status: 'succeeded', error: null });
    await expectSound();
  });

  it('cancels a verify and a restore: the job says truthfully what was done', async () => {
    const verify = await start('/v1/backups/verify', { readData: 100 });
    await cancel(verify);
    const verified = await t.jobEnd(verify.id, key);
    expect(verified.status).toBe('cancelled');
    await expectStreamEnds(verified);

    const [oldest] = await snapshots();
    const restored = readFileSync(join(home, 'large.bin'));
    const restore = await t.call('POST', `/v1/backups/${oldest}/restore`, key, { confirm: true });
    expect(restore.statusCode).toBe(202);
    // Searches and adds meanwhile are served, or answered 503 TENANT_BUSY: never an error
    // of a store closed under them.
    const served = await Promise.all([
      t.call('POST', '/v1/memory/search', key, { query: 'anything' }),
      t.call('POST', '/v1/memory', key, { text: 'Added while a restore runs.' }),
    ]);
    for (const res of served) {
      expect([200, 201, 503], res.body).toContain(res.statusCode);
      if (res.statusCode === 503) expect(res.json().error.code).toBe('TENANT_BUSY');
    }
    await cancel(restore.json());
    const job = await t.jobEnd(restore.json().id, key);
    await expectStreamEnds(job);
    const now = readFileSync(join(home, 'large.bin'));
    if (job.status === 'succeeded') {
      expect(job.result).toMatchObject({ snapshot: oldest, applied: true, errors: [] });
      expect(now.equals(restored)).toBe(false);
    } else {
      expect(job.status).toBe('cancelled');
      expect(now.equals(restored)).toBe(true);
    }
    // Nothing of the restore's staging is left in the home.
    expect(readdirSync(home).filter((n) => n.startsWith('.restore-'))).toEqual([]);
    const search = await t.call('POST', '/v1/memory/search', key, { query: 'anything' });
    expect(search.statusCode).toBe(200);
    await expectSound();
  });

  it('runs a backup started while a prune runs after it, and refuses a restore while jobs run', async () => {
    const prune = await start('/v1/backups/prune');
    const backup = await start('/v1/backups');
    const restore = await t.call('POST', '/v1/backups/latest/restore', key, { confirm: true });
    expect(restore.statusCode).toBe(409);
    expect(restore.json().error.code).toBe('JOBS_RUNNING');
    // Forgetting a snapshot meanwhile is done, or refused as busy: never a server error.
    const [oldest] = await snapshots();
    const forget = await t.call('DELETE', `/v1/backups/${oldest}`, key);
    expect([200, 503], forget.body).toContain(forget.statusCode);
    if (forget.statusCode === 503) expect(forget.json().error.code).toBe('REPO_LOCKED');
    const [pruned, backedUp] = [await t.jobEnd(prune.id, key), await t.jobEnd(backup.id, key)];
    expect([pruned.status, backedUp.status]).toEqual(['succeeded', 'succeeded']);
    await expectSound();
  });

  it("keeps another tenant away from this tenant's jobs and snapshots (404)", async () => {
    const job = await t.jobEnd((await start('/v1/backups')).id, key);
    const id = snapshotOf(job);
    for (const [method, url, body] of [
      ['GET', `/v1/jobs/${job.id}`],
      ['GET', `/v1/jobs/${job.id}/events`],
      ['DELETE', `/v1/jobs/${job.id}`],
      ['GET', `/v1/backups/diff?from=${id}&to=latest`],
      ['DELETE', `/v1/backups/${id}`],
      ['POST', `/v1/backups/${id}/restore`, { confirm: true }],
    ] as const) {
      const res = await t.call(method, url, otherKey, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toMatch(/^(JOB|SNAPSHOT)_NOT_FOUND$/);
    }
    const theirs = (await t.call('GET', '/v1/jobs', otherKey)).json().items;
    expect(theirs).toEqual([]);
  });

  it('answers bad references and values with a 4xx and a stable code', async () => {
    const cases: Array<[string, string, object | undefined, number, string]> = [
      ['GET', '/v1/backups/diff?from=deadbeef&to=latest', undefined, 404, 'SNAPSHOT_NOT_FOUND'],
      ['GET', '/v1/backups/diff?from=latest', undefined, 400, 'INVALID_INPUT'],
      ['GET', `/v1/backups/diff?from=${'a'.repeat(65)}&to=latest`, undefined, 400, 'INVALID_INPUT'],
      ['DELETE', '/v1/backups/0000', undefined, 404, 'SNAPSHOT_NOT_FOUND'],
      ['DELETE', '/v1/backups/ZZZZ', undefined, 400, 'INVALID_INPUT'],
      ['POST', '/v1/backups/verify', { readData: 1e308 }, 400, 'INVALID_INPUT'],
      ['POST', '/v1/backups/verify', { readData: -1 }, 400, 'INVALID_INPUT'],
      ['POST', '/v1/backups/verify', { readData: '5' }, 400, 'INVALID_INPUT'],
      ['POST', '/v1/backups', { tags: Array(21).fill('x') }, 400, 'INVALID_INPUT'],
      ['POST', '/v1/backups', { tags: ['x'.repeat(101)] }, 400, 'INVALID_INPUT'],
      // Where a restore writes is the tenant's home: no target is taken from the caller.
      [
        'POST',
        '/v1/backups/latest/restore',
        { confirm: true, target: '/etc' },
        400,
        'INVALID_INPUT',
      ],
      ['POST', '/v1/backups/..%2F..%2Fetc/restore', { confirm: true }, 400, 'INVALID_INPUT'],
      ['GET', `/v1/jobs/${'j'.repeat(201)}`, undefined, 400, 'INVALID_INPUT'],
      ['DELETE', '/v1/jobs/job_00000000000000000000000000000000', undefined, 404, 'JOB_NOT_FOUND'],
    ];
    for (const [method, url, body, status, code] of cases) {
      const res = await t.call(method as 'GET', url, key, body);
      expect(res.statusCode, `${method} ${url}`).toBe(status);
      expect(res.json().error.code, `${method} ${url}`).toBe(code);
    }
  });

  /** A key of a new tenant `id`, and its home. */
  async function tenant(id: string): Promise<[string, string]> {
    const k = (await t.key(['backup'], { tenant: id })).key;
    await t.call('GET', '/v1/backups', k);
    return [k, join(t.home, 'tenants', id)];
  }

  it('fails a backup into a repository path that is a file with its code, naming no server path to a tenant', async () => {
    const [cKey, cHome] = await tenant('sw-c');
    // A repository path that is a file: the job fails with its code, naming no server path.
    writeFileSync(join(cHome, 'backups'), 'not a directory');
    const failed = await t.jobEnd((await start('/v1/backups', {}, cKey)).id, cKey);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toMatch(/^IO_/);
    expect(failed.error?.message).toContain('<home>/tenants/sw-c/backups');
    const shown = [
      (await t.call('GET', `/v1/jobs/${failed.id}`, cKey)).body,
      (await t.call('GET', '/v1/jobs', cKey)).body,
      (await t.server.app.inject({ url: `/v1/jobs/${failed.id}/events`, headers: t.auth(cKey) }))
        .body,
    ];
    for (const body of shown) expect(body).not.toContain(t.home);
  });

  it('answers a damaged snapshot with 409 REPO_CORRUPT, and forgets it', async () => {
    const [cKey, cHome] = await tenant('sw-e');
    const created = await t.jobEnd((await start('/v1/backups', {}, cKey)).id, cKey);
    const id = snapshotOf(created);
    // A snapshot file damaged under the running server.
    writeFileSync(join(cHome, 'backups', 'snapshots', `${id}.json`), 'garbage');
    const listed = (await t.call('GET', '/v1/backups', cKey)).json();
    expect(listed.damaged.map((d: { id: string }) => d.id)).toEqual([id]);
    const diff = await t.call('GET', `/v1/backups/diff?from=${id}&to=${id}`, cKey);
    expect(diff.statusCode).toBe(409);
    expect(diff.json().error.code).toBe('REPO_CORRUPT');
    const restore = await t.jobEnd(
      (await start(`/v1/backups/${id}/restore`, { confirm: true }, cKey)).id,
      cKey,
    );
    expect(restore).toMatchObject({ status: 'failed', error: { code: 'REPO_CORRUPT' } });
    expect((await t.call('DELETE', `/v1/backups/${id}`, cKey)).statusCode).toBe(200);
  });

  it('creates the repository again when it was removed under the running server', async () => {
    const [cKey, cHome] = await tenant('sw-f');
    expect((await t.jobEnd((await start('/v1/backups', {}, cKey)).id, cKey)).status).toBe(
      'succeeded',
    );
    rmSync(join(cHome, 'backups'), { recursive: true });
    expect((await t.call('GET', '/v1/backups', cKey)).json()).toEqual({ items: [], damaged: [] });
    const verify = await t.call('POST', '/v1/backups/verify', cKey, {});
    expect(verify.statusCode).toBe(404);
    expect(verify.json().error.code).toBe('REPO_NOT_FOUND');
    const again = await t.jobEnd((await start('/v1/backups', {}, cKey)).id, cKey);
    expect(again).toMatchObject({ status: 'succeeded', error: null });
    expect((await t.call('GET', '/v1/backups', cKey)).json().items).toHaveLength(1);
  });

  it('says a job whose work a cancel came too late to stop succeeded, with its result', async () => {
    const jobs = t.server.context.jobs;
    let finish: () => void = () => undefined;
    const applied = new Promise<void>((resolve) => {
      finish = resolve;
    });
    // As a restore past its last check of the signal: it can only finish.
    const job = jobs.start(
      'sw-a',
      'backup.restore',
      async () => {
        await applied;
        return { applied: true };
      },
      { throwsWhenStopped: true },
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await cancel(job)).statusCode).toBe(202);
    finish();
    const ended = await t.jobEnd(job.id, key);
    expect(ended).toMatchObject({ status: 'succeeded', result: { applied: true }, error: null });
  });

  it('keeps a bounded number of finished jobs per tenant', async () => {
    const dKey = (await t.key(['backup'], { tenant: 'sw-d' })).key;
    const jobs = t.server.context.jobs;
    for (let i = 0; i < 230; i++) jobs.start('sw-d', 'backup.verify', async () => ({ i }));
    await expect
      .poll(async () => (await t.call('GET', '/v1/jobs?status=running', dKey)).json().items, {
        timeout: 30_000,
      })
      .toEqual([]);
    const kept = (await t.call('GET', '/v1/jobs', dKey)).json().items as JobView[];
    expect(kept).toHaveLength(200);
    // The newest are kept, newest first.
    expect(kept[0]?.result).toEqual({ i: 229 });
    expect(kept.at(-1)?.result).toEqual({ i: 30 });
  });
});

describe.each(testImplementations())('SIGTERM of the server during a restore job (%s)', (impl) => {
  it('ends the job stream with its end, leaves the tenant whole, and tells how the job ended after the restart', async () => {
    const home = mkdtempSync(join(tmpdir(), 'aios-sweep-'));
    try {
      const config = (h: string) =>
        loadConfig({ overrides: { home: h, native: impl, logLevel: 'silent' }, env: {} }).config;
      const control = await createAios({ config: config(home), offline: true });
      let key: string;
      try {
        await control.data.tenants.create({ id: 'acme', name: 'acme' });
        key = (await createKey(control.data, { tenant: 'acme', name: 'ops', scopes: ['backup'] }))
          .key;
      } finally {
        await control.close();
      }
      const tenantHome = join(home, 'tenants', 'acme');
      mkdirSync(tenantHome, { recursive: true });
      const before = randomBytes(24 << 20);
      writeFileSync(join(tenantHome, 'large.bin'), before);
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

      let server = await serveAios(home, [], { AIOS_NATIVE: impl });
      const post = async (path: string, body: object) =>
        (await (
          await fetch(`${server.url}/v1${path}`, {
            method: 'POST',
            headers,
            body: JSON.stringify(body),
          })
        ).json()) as JobView;
      const jobEnd = async (id: string) => {
        let view: JobView | undefined;
        await expect
          .poll(
            async () => {
              view = (await (
                await fetch(`${server.url}/v1/jobs/${id}`, { headers })
              ).json()) as JobView;
              return view.status;
            },
            { timeout: 60_000, interval: 50 },
          )
          .not.toBe('running');
        return view as JobView;
      };
      const backup = await jobEnd((await post('/backups', {})).id);
      expect(backup.status).toBe('succeeded');
      const after = randomBytes(24 << 20);
      writeFileSync(join(tenantHome, 'large.bin'), after);

      const restore = await post(`/backups/${snapshotOf(backup)}/restore`, { confirm: true });
      const stream = await fetch(`${server.url}/v1/jobs/${restore.id}/events`, { headers });
      server.child.kill('SIGTERM');
      const events = await readEvents(stream.body as ReadableStream<Uint8Array>);
      expect(await server.exited).toBe(143);
      // The stream ended with the job's end, whatever it was: never cut off mid-way.
      const last = events.at(-1);
      expect(last?.event).toBe('end');
      const ended = JSON.parse(last?.data ?? '{}') as JobView;
      expect(['succeeded', 'cancelled']).toContain(ended.status);

      // The tenant's data is the snapshot's or what it was, whole; nothing staged is left.
      const now = readFileSync(join(tenantHome, 'large.bin'));
      expect(now.equals(ended.status === 'succeeded' ? before : after)).toBe(true);
      expect(readdirSync(tenantHome).filter((n) => n.startsWith('.restore-'))).toEqual([]);
      const tenantSystem = await createAios({ config: config(tenantHome), offline: true });
      try {
        const verified = await tenantSystem.backup.verify(100);
        expect(verified).toMatchObject({ ok: true, errors: [] });
      } finally {
        await tenantSystem.close();
      }

      // After a restart the job reads as it ended, never "running" for ever.
      server = await serveAios(home, [], { AIOS_NATIVE: impl });
      try {
        const res = await fetch(`${server.url}/v1/jobs/${restore.id}`, { headers });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ id: restore.id, status: ended.status });
        expect((await post('/backups', {})).status).toBe('running');
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);
});
