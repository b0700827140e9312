import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataStore } from './index.js';
import { openTestStore, rawStoreSql, storeTargets } from './test-support.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-data-access-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HASH = 'ab'.repeat(32);

describe.each(storeTargets())('tenants, API keys and the audit log (%s)', (impl) => {
  let n = 0;
  /** A fresh store with `entries` audit entries appended. */
  async function withLog(entries: number): Promise<{ store: DataStore; path: string }> {
    const path = join(dir, `${impl}-${++n}.db`);
    const store = await openTestStore(impl, path);
    await store.audit.append(
      Array.from({ length: entries }, (_, i) => ({
        action: 'memory.add',
        outcome: 'ok',
        status: 201,
        tenantId: 't1',
        keyId: 'k1',
        requestId: `r${i + 1}`,
      })),
    );
    return { store, path };
  }

  it('keeps tenants and their keys; removing a tenant removes its keys', async () => {
    const { store } = await withLog(0);
    await store.tenants.create({ id: 't1', name: 'Team one' });
    await expect(store.tenants.create({ id: 't1', name: 'again' })).rejects.toMatchObject({
      code: 'TENANT_EXISTS',
    });
    const key = await store.apiKeys.create({
      id: 'k1',
      tenantId: 't1',
      name: 'ci',
      secretHash: HASH,
      scopes: ['memory:read'],
      expiresAt: null,
    });
    expect(key).toMatchObject({ id: 'k1', scopes: ['memory:read'], revokedAt: null });
    await store.apiKeys.touch('k1', 2000);
    await store.apiKeys.touch('k1', 1000);
    expect((await store.apiKeys.get('k1'))?.lastUsedAt).toBe(2000);
    expect(await store.apiKeys.revoke('k1', 3000)).toBe(true);
    expect(await store.apiKeys.revoke('k1', 4000)).toBe(true);
    expect((await store.apiKeys.get('k1'))?.revokedAt).toBe(3000);
    expect(await store.apiKeys.revoke('nope')).toBe(false);
    await expect(
      store.apiKeys.create({
        id: 'k2',
        tenantId: 'missing',
        name: '',
        secretHash: HASH,
        scopes: [],
        expiresAt: null,
      }),
    ).rejects.toBeDefined();
    expect(await store.tenants.delete('t1')).toBe(true);
    expect(await store.apiKeys.list()).toEqual([]);
    await store.close();
  });

  it('chains audit entries and verifies an untouched log', async () => {
    const { store } = await withLog(5);
    const list = await store.audit.list({ tenantId: 't1' });
    expect(list.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < list.length; i++) expect(list[i]?.prevHash).toBe(list[i - 1]?.hash);
    expect(await store.audit.verify()).toEqual({ ok: true, entries: 5 });
    expect(await store.audit.list({ tenantId: 'other' })).toEqual([]);
    expect((await store.audit.list({ afterSeq: 3 })).map((e) => e.seq)).toEqual([4, 5]);
    await store.close();
  });

  const tampering: Array<[string, string, number, string]> = [
    ['an edited entry', "UPDATE audit_log SET outcome = 'denied' WHERE seq = 3", 3, 'edited'],
    ['a deleted entry', 'DELETE FROM audit_log WHERE seq = 2', 2, 'deleted'],
    ['a deleted newest entry', 'DELETE FROM audit_log WHERE seq = 5', 5, 'deleted'],
    [
      'an inserted entry',
      "INSERT INTO audit_log (seq, at, action, outcome, details, prev_hash, hash) SELECT 6, at, 'keys.create', 'ok', '{}', hash, hash FROM audit_log WHERE seq = 5",
      6,
      'inserted',
    ],
    [
      'two swapped entries',
      'UPDATE audit_log SET seq = CASE seq WHEN 2 THEN -3 WHEN 3 THEN -2 END WHERE seq IN (2, 3); UPDATE audit_log SET seq = -seq WHERE seq < 0',
      2,
      'reordered',
    ],
  ];
  it.each(tampering)('names the first bad entry after %s', async (_what, sql, seq, problem) => {
    const { store, path } = await withLog(5);
    await store.close();
    await rawStoreSql(impl, path, sql);
    const reopened = await openTestStore(impl, path);
    const result = await reopened.audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBad).toMatchObject({ seq, problem });
    await reopened.close();
  });
});
