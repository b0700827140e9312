import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataStore } from './index.js';

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'aios-data-snapshot-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe.each(testImplementations())('snapshotTo (%s)', (impl) => {
  it('copies every committed row into a database the other implementation opens', async () => {
    const dir = mkdtempSync(join(base, `${impl}-`));
    const store = await openDataStore({ path: join(dir, 'live.db'), native: impl });
    const vector = new Float32Array([0.25, -1, 3.5]);
    await store.fragments.put([{ id: 'f1', text: 'kept', vector, namespace: 'notes' }]);
    await store.events.add([{ type: 'test.event', value: 7 }]);
    const copyPath = join(dir, 'copy', 'aios.db');
    await expect(store.snapshotTo(copyPath)).rejects.toMatchObject({
      code: expect.stringMatching(/^(DATA_CANNOT_OPEN|IO_NOT_FOUND)$/),
    });
    rmSync(join(dir, 'copy'), { recursive: true, force: true });

    writeFileSync(join(dir, 'aios.db'), 'an older copy');
    const { path, bytes } = await store.snapshotTo(join(dir, 'aios.db'));
    expect(bytes).toBeGreaterThan(0);
    // Written after the copy: must not be in it.
    await store.fragments.put([{ id: 'f2', text: 'later', vector }]);
    await store.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const other = impl === 'native' ? 'js' : 'native';
    for (const mode of [impl, other] as const) {
      const copy = await openDataStore({ path, native: mode });
      expect(await copy.integrityCheck()).toBe('ok');
      expect((await copy.fragments.list()).map((f) => f.id)).toEqual(['f1']);
      const f1 = await copy.fragments.get('f1');
      expect(f1?.namespace).toBe('notes');
      expect(Array.from(f1?.vector ?? [])).toEqual(Array.from(vector));
      expect(await copy.events.count()).toBe(1);
      await copy.close();
    }
  });

  it('refuses an in-memory store and a bad path with a code', async () => {
    const mem = await openDataStore({ path: ':memory:', native: impl });
    await expect(mem.snapshotTo(join(base, 'x.db'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await mem.close();
    const store = await openDataStore({ path: join(base, `${impl}-bad.db`), native: impl });
    await expect(store.snapshotTo('')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.snapshotTo(42 as unknown as string)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await store.close();
  });
});
