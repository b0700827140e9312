import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLease, isAiosError } from '@aios/utils';
import {
  type SmallDisk,
  smallDisk,
  smallDiskSkip,
  testImplementations,
  treeSnapshot,
} from '@aios/utils/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DataStore, implementation, openDataStore } from './index.js';
import { databaseLockDir } from './lock.js';
import { rawSql } from './test-support.js';

// A database opened to read only, asked for or because its folder cannot be written: every
// commit is read (those still in a WAL too, with or without its -shm), every write fails
// with IO_READ_ONLY, and nothing in the folder changes, not even a lease.

const impls = testImplementations().filter(
  (impl) => impl === 'js' || implementation('auto').implementation === 'native',
);
const diskSkip = smallDiskSkip();
if (diskSkip)
  console.warn(`read-only.test.ts: the read-only filesystem cases are skipped: ${diskSkip}`);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'aios-data-read-only-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** How the last writer left the database: closed, or killed (with its WAL, and -shm natively). */
type Left = 'closed' | 'killed';

/**
 * A folder with a database of `keys` meta rows, written by `impl`: closed, or as a killed
 * process leaves it (the files copied while the store was open and idle, the lease not).
 */
async function databaseIn(dir: string, impl: 'native' | 'js', left: Left, keys = 3) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'aios.db');
  const store = await openDataStore({ path, native: impl });
  for (let i = 0; i < keys; i++) await store.meta.set(`k${i}`, i);
  if (left === 'closed') {
    await store.close();
    return path;
  }
  const saved = join(root, `saved-${n++}`);
  mkdirSync(saved);
  const files = readdirSync(dir).filter((name) => name.startsWith('aios.db-'));
  for (const name of ['aios.db', ...files]) copyFileSync(join(dir, name), join(saved, name));
  await store.close();
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
  for (const name of readdirSync(saved)) copyFileSync(join(saved, name), join(dir, name));
  return path;
}

async function expectReads(store: DataStore, keys = 3) {
  for (let i = 0; i < keys; i++) expect(await store.meta.get(`k${i}`)).toBe(i);
  expect(await store.schemaVersion()).toBeGreaterThan(0);
  expect(await store.integrityCheck()).toBe('ok');
}

async function expectWritesRefused(store: DataStore, path: string) {
  for (const write of [
    () => store.meta.set('k0', 99),
    () => store.conversations.create({ title: 'not written' }),
    () => store.transaction(async (tx) => tx.meta.set('k1', 99)),
  ]) {
    const refused = await write().catch((error: unknown) => error);
    expect(isAiosError(refused, 'IO_READ_ONLY'), String(refused)).toBe(true);
    expect((refused as Error).message).toMatch(
      new RegExp(
        `^${path}: the database is read-only \\(.*\\): writing it was refused; nothing was changed$`,
      ),
    );
  }
  expect(await store.meta.get('k0')).toBe(0);
}

describe.each(impls)('a store opened to read only (%s)', (impl) => {
  const writers = (['native', 'js'] as const).filter((w) => impls.includes(w));

  for (const writer of writers) {
    for (const left of ['closed', 'killed'] as const) {
      it(`reads a database ${writer} ${left === 'closed' ? 'closed' : 'was killed holding'}, and writes nothing`, async () => {
        const dir = join(root, `asked-${n++}`);
        const path = await databaseIn(dir, writer, left);
        const before = treeSnapshot(dir);
        const store = await openDataStore({ path, native: impl, readOnly: true });
        try {
          const wal = left === 'killed';
          expect(store.readOnly).toEqual({
            cause: 'asked',
            access: !wal
              ? 'immutable'
              : impl === 'native' && writer === 'native'
                ? 'shared-index'
                : 'private-index',
          });
          await expectReads(store);
          await expectWritesRefused(store, path);
        } finally {
          await store.close();
        }
        expect(treeSnapshot(dir)).toEqual(before);
      });
    }
  }

  it('refuses a database that needs migrating, and a folder without one', async () => {
    const dir = join(root, `old-${n++}`);
    mkdirSync(dir);
    const path = join(dir, 'aios.db');
    rawSql(
      path,
      'CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); PRAGMA application_id = 1095323475; PRAGMA user_version = 1;',
    );
    const before = treeSnapshot(dir);
    const old = await openDataStore({ path, native: impl, readOnly: true }).catch(
      (e: unknown) => e,
    );
    expect(isAiosError(old, 'IO_READ_ONLY'), String(old)).toBe(true);
    expect((old as Error).message).toContain('has schema version 1');
    expect((old as Error).message).toContain('nothing was changed');
    expect(treeSnapshot(dir)).toEqual(before);
    const none = await openDataStore({
      path: join(dir, 'none.db'),
      native: impl,
      readOnly: true,
    }).catch((e: unknown) => e);
    expect(isAiosError(none, 'IO_NOT_FOUND'), String(none)).toBe(true);
    expect(treeSnapshot(dir)).toEqual(before);
  });

  it('refuses while a writer holds the database that it cannot read beside', async () => {
    const dir = join(root, `held-${n++}`);
    const path = await databaseIn(dir, 'js', 'closed');
    const exclusive = await acquireLease('exclusive', {
      dir: databaseLockDir(path),
      operation: 'aios backup restore',
    });
    try {
      await expect(openDataStore({ path, native: impl, readOnly: true })).rejects.toMatchObject({
        code: 'DATA_BUSY',
        message: expect.stringContaining('aios backup restore'),
      });
    } finally {
      await exclusive.release();
    }
    // A native writer shares the database: a native reader follows it through its -shm,
    // a js one (which reads without locks) is refused.
    if (!impls.includes('native')) return;
    const writer = await openDataStore({ path, native: 'native' });
    try {
      if (impl === 'js') {
        await expect(openDataStore({ path, native: impl, readOnly: true })).rejects.toMatchObject({
          code: 'DATA_BUSY',
        });
        return;
      }
      const reader = await openDataStore({ path, native: impl, readOnly: true });
      try {
        expect(reader.readOnly?.access).toBe('shared-index');
        await writer.meta.set('later', 'seen');
        expect(await reader.meta.get('later')).toBe('seen');
      } finally {
        await reader.close();
      }
    } finally {
      await writer.close();
    }
  });

  describe.skipIf(diskSkip !== undefined)('on a read-only filesystem', () => {
    let disk: SmallDisk | undefined;
    afterEach(() => {
      disk?.remove();
      disk = undefined;
    });

    for (const writer of writers) {
      for (const left of ['closed', 'killed'] as const) {
        it(`opens a database ${writer} left ${left} to read only by itself`, async () => {
          disk = smallDisk(16);
          const dir = join(disk.path, 'home');
          const path = await databaseIn(dir, writer, left);
          const before = treeSnapshot(dir);
          disk.readOnly();
          // Asked to write, it fails as the lease cannot be written.
          const refused = await openDataStore({ path, native: impl, readOnly: false }).catch(
            (e: unknown) => e,
          );
          expect(isAiosError(refused, 'IO_READ_ONLY'), String(refused)).toBe(true);
          const store = await openDataStore({ path, native: impl });
          try {
            expect(store.readOnly?.cause).toBe('filesystem');
            await expectReads(store);
            await expectWritesRefused(store, path);
            expect(String(await store.meta.set('x', 1).catch((e: Error) => e))).toContain(
              'its filesystem is mounted read-only',
            );
          } finally {
            await store.close();
          }
          expect(treeSnapshot(dir)).toEqual(before);
        });
      }
    }

    it('says a read-only folder without a database has none to read', async () => {
      disk = smallDisk(4);
      disk.readOnly();
      for (const path of [join(disk.path, 'aios.db'), join(disk.path, 'home', 'aios.db')]) {
        const refused = await openDataStore({ path, native: impl }).catch((e: unknown) => e);
        expect(isAiosError(refused, 'IO_READ_ONLY'), String(refused)).toBe(true);
        expect((refused as Error).message).toContain('there is no database in it to read');
      }
      expect(readdirSync(disk.path)).toEqual([]);
    });
  });
});
