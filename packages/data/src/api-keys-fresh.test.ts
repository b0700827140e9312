import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataStore } from './index.js';
import { openTestStore } from './test-support.js';

// A server reads the caller's key on every request, and a key read while the database is
// unchanged is not read again: these hold that what it is given is never stale.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-data-keys-fresh-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HASH = 'cd'.repeat(32);

/** Tenant `t1` with key `k1` (`memory:read`) in `store`. */
async function addKey(store: DataStore): Promise<DataStore> {
  await store.tenants.create({ id: 't1', name: 'Team one' });
  await store.apiKeys.create({
    id: 'k1',
    tenantId: 't1',
    name: 'ci',
    secretHash: HASH,
    scopes: ['memory:read'],
    expiresAt: null,
  });
  return store;
}

const storeWithKey = async (impl: 'native' | 'js', name: string) =>
  addKey(await openTestStore(impl, join(dir, `${impl}-${name}.db`)));

describe.each(testImplementations())('an API key read again (%s)', (impl) => {
  it('is read afresh after the store changed it, whatever changed', async () => {
    const store = await storeWithKey(impl, 'own');
    expect((await store.apiKeys.get('k1'))?.revokedAt).toBeNull();
    expect((await store.apiKeys.get('k1'))?.revokedAt).toBeNull();
    await store.apiKeys.revoke('k1', 3000);
    expect((await store.apiKeys.get('k1'))?.revokedAt).toBe(3000);
    await store.apiKeys.touch('k1', 4000);
    expect((await store.apiKeys.get('k1'))?.lastUsedAt).toBe(4000);
    expect(await store.apiKeys.get('k2')).toBeUndefined();
    await store.apiKeys.create({
      id: 'k2',
      tenantId: 't1',
      name: 'later',
      secretHash: HASH,
      scopes: ['chat'],
      expiresAt: 9000,
    });
    expect(await store.apiKeys.get('k2')).toMatchObject({ scopes: ['chat'], expiresAt: 9000 });
    await store.tenants.delete('t1');
    expect(await store.apiKeys.get('k1')).toBeUndefined();
    expect(await store.apiKeys.get('k2')).toBeUndefined();
    await store.close();
  });

  it('gives each caller its own copy', async () => {
    const store = await storeWithKey(impl, 'copies');
    const first = await store.apiKeys.get('k1');
    first?.scopes.push('admin');
    expect((await store.apiKeys.get('k1'))?.scopes).toEqual(['memory:read']);
    await store.close();
  });

  it('is read afresh within a transaction that changed it', async () => {
    const store = await storeWithKey(impl, 'transaction');
    await store.apiKeys.get('k1');
    await store.transaction(async () => {
      await store.apiKeys.revoke('k1', 5000);
      expect((await store.apiKeys.get('k1'))?.revokedAt).toBe(5000);
    });
    expect((await store.apiKeys.get('k1'))?.revokedAt).toBe(5000);
    await store.close();
  });

  it('says a closed store is closed', async () => {
    const store = await storeWithKey(impl, 'closed');
    await store.apiKeys.get('k1');
    await store.close();
    await expect(store.apiKeys.get('k1')).rejects.toMatchObject({ code: 'DATA_CLOSED' });
  });
});

// Only the native implementation shares a database with other connections (a js store
// holds it alone): the CLI revoking a key that a running server has read.
describe('an API key changed through another connection', () => {
  it('is read afresh by the next get, however often it was read before', async () => {
    const path = join(dir, 'two-connections.db');
    const server = await addKey(await openTestStore('native', path));
    const cli = await openTestStore('native', path);
    for (let i = 0; i < 3; i++) expect((await server.apiKeys.get('k1'))?.revokedAt).toBeNull();
    expect(await cli.apiKeys.revoke('k1', 7000)).toBe(true);
    expect((await server.apiKeys.get('k1'))?.revokedAt).toBe(7000);
    await cli.tenants.delete('t1');
    expect(await server.apiKeys.get('k1')).toBeUndefined();
    await cli.close();
    await server.close();
  });
});
