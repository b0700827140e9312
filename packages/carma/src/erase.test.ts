import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from './engine/index.js';
import { openMemory } from './memory.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-erase-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PRIVATE = [
  'The safe in the study opens with 4417',
  'Grandma keeps the spare key under the blue flower pot',
  'The old alarm code was 8812 before it was changed',
  'Doctor Ruiz sees the twins every second Tuesday',
];
const PUBLIC = ['The bakery on the corner opens at seven', 'The library closes on Mondays'];

/** Every file under `dir` whose bytes hold `text`. */
function holders(dir: string, text: string): string[] {
  const needle = Buffer.from(text);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (readFileSync(p).includes(needle)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

describe.each(testImplementations())('erasing a namespace (%s)', (impl) => {
  it('removes every fragment, vector, index entry and history row of it, and rewrites the index file', async () => {
    const home = join(root, impl);
    const data = await openDataStore({ path: join(home, 'aios.db'), native: impl });
    const dir = join(home, 'carma');
    const memory = await openMemory({ data, dir, native: impl, dimension: 64 });
    const added = await memory.addMany([
      ...PRIVATE.map((text) => ({ text, namespace: 'private' })),
      ...PUBLIC.map((text) => ({ text, namespace: 'public' })),
    ]);
    const ids = added.map((a) => a.fragment.id);
    const [safe, key, alarm] = ids as [string, string, string];
    // An earlier text in history, a deleted fragment, a link from another namespace.
    await memory.update(safe, { text: 'The safe in the study opens with 9031' });
    await memory.delete(alarm);
    await memory.flush();
    const [generation] = readdirSync(dir).filter((n) => n.startsWith('index-'));
    expect(generation).toBeDefined();
    // The lexical file holds the words of the texts (lowercased, as BM25 sees them).
    expect(holders(dir, 'ruiz')).toEqual([
      join(dir, generation?.replace('index-', 'lexical-') as string),
    ]);
    expect(await memory.history(alarm)).toHaveLength(2);
    expect((await memory.history(safe))[0]?.namespace).toBe('private');

    const erased = await memory.eraseNamespace('private');
    expect(erased).toMatchObject({ namespace: 'private', fragments: 3, vectors: 3 });
    expect([...erased.ids].sort()).toEqual([...ids.slice(0, PRIVATE.length)].sort());
    expect(await memory.list({ namespace: 'private' })).toEqual([]);
    expect(memory.namespaces()).toEqual({ public: 2 });
    for (const text of [...PRIVATE, 'opens with 9031']) {
      const hits = await memory.search(text, { k: 10 });
      expect(hits.map((h) => h.fragment.namespace)).not.toContain('private');
    }
    for (const id of [safe, key, alarm]) {
      expect(await memory.get(id)).toBeUndefined();
      await expect(memory.history(id)).rejects.toMatchObject({ code: 'FRAGMENT_NOT_FOUND' });
    }
    // A new index file, holding only the fragments left.
    const files = readdirSync(dir).filter((n) => n.startsWith('index-'));
    expect(files).toHaveLength(1);
    expect(files[0]).not.toBe(generation);
    const index = await createEngine({ native: impl }).loadVectorIndex(
      join(dir, files[0] as string),
    );
    expect(index.size).toBe(PUBLIC.length);
    expect(index.slots).toBe(PUBLIC.length);

    await memory.close();
    await data.compact();
    await data.close();
    for (const text of [...PRIVATE, 'The safe in the study opens with 9031']) {
      expect(holders(home, text), text).toEqual([]);
    }
    // Nor a word only they had.
    expect(holders(home, 'ruiz')).toEqual([]);
    expect(holders(home, PUBLIC[0] as string)).not.toEqual([]);

    // Reopened, nothing of it comes back.
    const data2 = await openDataStore({ path: join(home, 'aios.db'), native: impl });
    const again = await openMemory({ data: data2, dir, native: impl, dimension: 64 });
    expect(again.namespaces()).toEqual({ public: 2 });
    await again.close();
    await data2.close();
    expect(existsSync(join(dir, files[0] as string))).toBe(true);
  });

  it('is followed by another memory on the same database', async () => {
    const path = join(root, `${impl}-follow.db`);
    const data = await openDataStore({ path, native: impl });
    const a = await openMemory({ data, native: impl, dimension: 64 });
    const b = await openMemory({ data, native: impl, dimension: 64 });
    await a.addMany(PRIVATE.map((text) => ({ text, namespace: 'private' })));
    await b.refresh();
    expect(b.namespaces()).toEqual({ private: PRIVATE.length });
    await a.eraseNamespace('private');
    await b.refresh();
    expect(b.namespaces()).toEqual({});
    expect(await b.search(PRIVATE[0] as string)).toEqual([]);
    await expect(a.eraseNamespace(undefined as unknown as string)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await a.close();
    await b.close();
    await data.close();
  });
});
