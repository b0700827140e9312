import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from './jobs/registry.js';
import { startTestServer, type TestServer } from './test-support/server.js';

describe.each(testImplementations())('backup routes (%s)', (impl) => {
  let t: TestServer;
  let ownerKey: string;
  let tenantKey: string;
  let otherKey: string;

  beforeAll(async () => {
    t = await startTestServer(impl);
    ownerKey = (await t.key(['backup'])).key;
    tenantKey = (await t.key(['backup', 'memory:read', 'memory:write'], { tenant: 'bk-a' })).key;
    otherKey = (await t.key(['backup'], { tenant: 'bk-b' })).key;
  });
  afterAll(() => t.close());

  const call: TestServer['call'] = (...args) => t.call(...args);
  /** Waits for a job to end and returns its final state. */
  const finished = (job: JobView, key: string) => t.jobEnd(job.id, key);

  async function backup(key: string, tags: string[] = []): Promise<string> {
    const res = await call('POST', '/v1/backups', key, { tags });
    expect(res.statusCode).toBe(202);
    const job = await finished(res.json(), key);
    expect(job).toMatchObject({ kind: 'backup.create', status: 'succeeded' });
    return (job.result as { snapshot: { id: string } }).snapshot.id;
  }

  it("snapshots the server's home without the other tenants' homes", async () => {
    // A tenant's home exists under <home>/tenants once it is used.
    await t.system.memory.add({ text: 'The owner keeps this note.' });
    await call('GET', '/v1/backups', tenantKey);
    mkdirSync(join(t.home, 'tenants', 'bk-a'), { recursive: true });
    writeFileSync(join(t.home, 'tenants', 'bk-a', 'secret.txt'), 'tenant data');
    const id = await backup(ownerKey, ['nightly']);
    const snap = await (await t.system.backup.open()).loadSnapshot(id);
    const paths = snap.entries.map((e) => e.path);
    expect(paths.some((p) => p.endsWith('/aios.db'))).toBe(true);
    expect(paths.filter((p) => p.includes('/tenants'))).toEqual([]);

    const list = (await call('GET', '/v1/backups', ownerKey)).json();
    expect(list.items.map((s: { id: string }) => s.id)).toContain(id);
    expect(list.items.find((s: { id: string }) => s.id === id).tags).toEqual(['nightly']);
  });

  it('diffs two snapshots (latest accepted), verifies, prunes and forgets', async () => {
    const first = await backup(ownerKey);
    await t.system.memory.add({ text: 'A note added between two snapshots.' });
    const second = await backup(ownerKey);
    const diff = await call(
      'GET',
      `/v1/backups/diff?from=${first.slice(0, 8)}&to=latest`,
      ownerKey,
    );
    expect(diff.statusCode).toBe(200);
    expect(diff.json()).toMatchObject({ from: first, to: second });
    expect(diff.json().modified.some((p: string) => p.endsWith('aios.db'))).toBe(true);
    // Paths from the tenant's home, not from the root of the server's disk.
    const paths: string[] = Object.values(diff.json())
      .filter((v): v is string[] => Array.isArray(v))
      .flat();
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => p.includes(t.home.slice(1)))).toEqual([]);

    const verify = await call('POST', '/v1/backups/verify', ownerKey, { readData: 100 });
    expect(verify.statusCode).toBe(202);
    const verified = await finished(verify.json(), ownerKey);
    expect(verified).toMatchObject({ kind: 'backup.verify', status: 'succeeded' });
    expect(verified.result).toMatchObject({ ok: true });

    const forget = await call('DELETE', `/v1/backups/${first}`, ownerKey);
    expect(forget.statusCode).toBe(200);
    expect(forget.json()).toEqual({ removed: [first] });
    const listed = (await call('GET', '/v1/backups', ownerKey)).json();
    expect(listed.items.map((s: { id: string }) => s.id)).not.toContain(first);
    const prune = await finished(
      (await call('POST', '/v1/backups/prune', ownerKey)).json(),
      ownerKey,
    );
    expect(prune).toMatchObject({ kind: 'backup.prune', status: 'succeeded' });
    expect((await call('DELETE', `/v1/backups/${first}`, ownerKey)).statusCode).toBe(404);
  });

  it("names no server path to a tenant's key, and refuses tags that are not an array", async () => {
    const id = await backup(tenantKey);
    expect((await call('DELETE', `/v1/backups/${id}`, tenantKey)).statusCode).toBe(200);
    for (const ref of [id, id.slice(0, 8)]) {
      const res = await call('DELETE', `/v1/backups/${ref}`, tenantKey);
      expect(res.statusCode, ref).toBe(404);
      const { error } = res.json();
      expect(error.code).toBe('SNAPSHOT_NOT_FOUND');
      expect(error.message).toContain(ref);
      expect(error.message, ref).not.toContain(t.home);
      expect(error.message, ref).not.toMatch(/\//);
    }
    const tags = await call('POST', '/v1/backups', tenantKey, { tags: 'x' });
    expect(tags.statusCode).toBe(400);
    expect(tags.json().error).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'body.tags: must be array',
    });
  });

  it('runs backup jobs started together one after the other', async () => {
    const started = await Promise.all(
      [['a'], ['b'], ['c']].map((tags) => call('POST', '/v1/backups', ownerKey, { tags })),
    );
    const verify = await call('POST', '/v1/backups/verify', ownerKey, { readData: 0 });
    const jobs = await Promise.all(
      [...started, verify].map((res) => finished(res.json(), ownerKey)),
    );
    expect(jobs.map((j) => [j.kind, j.status, j.error])).toEqual([
      ['backup.create', 'succeeded', null],
      ['backup.create', 'succeeded', null],
      ['backup.create', 'succeeded', null],
      ['backup.verify', 'succeeded', null],
    ]);
  });

  it("gives another tenant's key 404 for this tenant's snapshots", async () => {
    const id = await backup(ownerKey);
    expect((await call('GET', '/v1/backups', otherKey)).json()).toEqual({ items: [], damaged: [] });
    for (const [method, url, payload] of [
      ['DELETE', `/v1/backups/${id}`, undefined],
      ['POST', `/v1/backups/${id}/restore`, { confirm: true }],
      ['GET', `/v1/backups/diff?from=${id}&to=${id}`, undefined],
    ] as const) {
      const res = await call(method, url, otherKey, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('SNAPSHOT_NOT_FOUND');
    }
    expect(
      (await call('GET', '/v1/backups', ownerKey)).json().items.map((s: { id: string }) => s.id),
    ).toContain(id);
  });

  it('refuses to restore the default tenant while the server runs, saying how', async () => {
    const res = await call('POST', '/v1/backups/latest/restore', ownerKey, { confirm: true });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('RESTORE_NEEDS_STOPPED_SERVER');
    expect(res.json().error.message).toMatch(/aios backup restore [0-9a-f]{12}/);
    // Where the server keeps its data is for the server admin's eyes only.
    expect(res.json().error.message).toContain('on its home (<home>)');
    expect(res.body).not.toContain(t.home);
    const admin = await call('POST', '/v1/backups/latest/restore', t.adminKey, { confirm: true });
    expect(admin.json().error.message).toContain(`on its home (${t.home})`);
    const unconfirmed = await call('POST', '/v1/backups/latest/restore', ownerKey, {});
    expect(unconfirmed.statusCode).toBe(400);
    const bad = await call('POST', '/v1/backups/zz-not-an-id/restore', ownerKey, { confirm: true });
    expect(bad.statusCode).toBe(400);
  });

  it("restores a tenant's data in place: closed meanwhile, reopened after", async () => {
    const tenantSystem = await t.server.context.tenants.system('bk-a');
    await tenantSystem.memory.add({ text: 'Kept from before the snapshot.' });
    const id = await backup(tenantKey);
    await tenantSystem.memory.add({ text: 'Written after the snapshot, gone after the restore.' });

    const res = await call('POST', `/v1/backups/${id}/restore`, tenantKey, { confirm: true });
    expect(res.statusCode).toBe(202);
    const job = await finished(res.json(), tenantKey);
    expect(job).toMatchObject({ kind: 'backup.restore', status: 'succeeded' });
    expect(job.result).toMatchObject({ snapshot: id, applied: true, errors: [] });

    const reopened = await t.server.context.tenants.system('bk-a');
    expect(reopened).not.toBe(tenantSystem);
    const texts = (await reopened.memory.list()).map((f) => f.text);
    expect(texts).toEqual(['Kept from before the snapshot.']);
    // The owner's data did not move.
    expect((await t.system.memory.list()).map((f) => f.text)).toContain(
      'The owner keeps this note.',
    );
  });
});
