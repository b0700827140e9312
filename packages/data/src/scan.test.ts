import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DataStore, openDataStore } from './index.js';
import { openTestStore, type StoreTarget, storeTargets } from './test-support.js';

/** More than one page of a native scan (2,000 fragments a page). */
const COUNT = 5_000;

async function filled(path: string, target: StoreTarget): Promise<DataStore> {
  const store = await openTestStore(target, path);
  const ids = Array.from({ length: COUNT }, (_, i) => `f${String(i).padStart(5, '0')}`);
  await store.fragments.put(
    ids.map((id, i) => ({
      id,
      text: `text of ${id}`,
      namespace: i % 2 === 0 ? 'even' : 'odd',
      metadata: i % 3 === 0 ? { n: i } : {},
      vector: new Float32Array([i, 1, 2]),
    })),
  );
  return store;
}

describe.each(storeTargets())('fragments.scan (%s)', (impl) => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('hands every fragment over once, with its fields, and vectors unless told not to', async () => {
    dir = mkdtempSync(join(tmpdir(), 'aios-data-scan-'));
    const store = await filled(join(dir, 'a.db'), impl);
    const seen: string[] = [];
    await store.fragments.scan(
      (page) => {
        for (const f of page) {
          seen.push(f.id);
          const i = Number(f.id.slice(1));
          expect(f.text).toBe(`text of ${f.id}`);
          expect(f.namespace).toBe(i % 2 === 0 ? 'even' : 'odd');
          expect(f.metadata).toEqual(i % 3 === 0 ? { n: i } : {});
          expect(f.vector).toBeNull();
        }
      },
      { vectors: false },
    );
    expect(seen.length).toBe(COUNT);
    expect(new Set(seen).size).toBe(COUNT);

    let vectors = 0;
    await store.fragments.scan((page) => {
      for (const f of page) {
        expect(Array.from(f.vector ?? [])).toEqual([Number(f.id.slice(1)), 1, 2]);
        vectors++;
      }
    });
    expect(vectors).toBe(COUNT);
    await expect(store.fragments.scan('no' as never)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await store.close();
  });

  // Only native stores share their file with other connections (a js one holds it alone).
  it.runIf(impl === 'native')(
    'reads one snapshot while another connection deletes, adds and VACUUMs (rowids renumbered)',
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'aios-data-scan-'));
      const path = join(dir, 'a.db');
      const store = await filled(path, impl);
      // Gaps in the rowids, so that a VACUUM renumbers the rows after them.
      const gone = Array.from(
        { length: COUNT / 10 },
        (_, i) => `f${String(i * 10).padStart(5, '0')}`,
      );
      await store.fragments.delete(gone);
      const before = new Set<string>();
      await store.fragments.scan((page) => {
        for (const f of page) before.add(f.id);
      });
      // Its compaction's WAL checkpoint waits for the scan's readers: not for long.
      const other = await openDataStore({ path, native: 'native', busyTimeoutMs: 50 });
      const seen: string[] = [];
      let writes: Promise<unknown> | undefined;
      await store.fragments.scan((page) => {
        for (const f of page) seen.push(f.id);
        // After the first page, from another connection: the scan must not see any of it.
        writes ??= (async () => {
          await other.fragments.delete(['f04999', 'f00001']);
          await other.fragments.put([{ id: 'f99999', text: 'added during the scan' }]);
          await other.compact();
        })();
      });
      await writes;
      expect(seen.length).toBe(before.size);
      expect(new Set(seen)).toEqual(before);
      const after = new Set<string>();
      await store.fragments.scan((page) => {
        for (const f of page) after.add(f.id);
      });
      expect(after.has('f99999')).toBe(true);
      expect(after.has('f04999')).toBe(false);
      expect(after.size).toBe(before.size - 1);
      await other.close();
      await store.close();
    },
  );
});
