import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from './memory.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-lexical-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TEXTS = Array.from(
  { length: 120 },
  (_, i) =>
    `note ${i}: the ${['river', 'garden', 'kitchen', 'orchard'][i % 4]} ${i % 3 === 0 ? 'lamp flickers' : 'door sticks'} on ${['monday', 'friday'][i % 2]}`,
);
const QUERIES = ['river lamp', 'garden door friday', 'orchard', 'kitchen flickers monday'];

interface Warning {
  details: Record<string, unknown>;
  message: string;
}

const lexicalFiles = (dir: string) => readdirSync(dir).filter((n) => /^lexical-\d+\.bin$/.test(n));

describe.each(testImplementations())('the lexical index file (%s)', (impl) => {
  async function open(home: string, warnings: Warning[] = []) {
    const data = await openDataStore({ path: join(home, 'aios.db'), native: impl });
    const memory = await openMemory({
      data,
      dir: join(home, 'carma'),
      native: impl,
      dimension: 64,
      logger: { warn: (details, message) => warnings.push({ details, message }) },
    });
    return {
      memory,
      data,
      async close() {
        await memory.close();
        await data.close();
      },
    };
  }

  const ranked = async (memory: Awaited<ReturnType<typeof open>>['memory']) =>
    Promise.all(
      QUERIES.map(async (q) =>
        (await memory.search(q, { k: 8, mode: 'lexical' })).map((h) => [h.id, h.score]),
      ),
    );

  it('is written with the index file and read on the next open, searching the same', async () => {
    const home = join(root, `${impl}-reopen`);
    const first = await open(home);
    await first.memory.addMany(TEXTS);
    expect(first.memory.lexicalOrigin).toBe('texts');
    const before = await ranked(first.memory);
    await first.close();
    expect(lexicalFiles(join(home, 'carma'))).toHaveLength(1);

    const warnings: Warning[] = [];
    const again = await open(home, warnings);
    expect(again.memory.lexicalOrigin).toBe('file');
    expect(await ranked(again.memory)).toEqual(before);
    // It goes on like an index built from the texts.
    const [added] = await again.memory.addMany(['a quince tree by the river']);
    expect((await again.memory.search('quince', { mode: 'lexical' }))[0]?.id).toBe(
      added?.fragment.id,
    );
    await again.close();
    expect(warnings).toEqual([]);
  });

  it('is brought up to date with what changed in the store since it was written', async () => {
    const home = join(root, `${impl}-changed`);
    const first = await open(home);
    const added = await first.memory.addMany(TEXTS);
    await first.close();
    // Another memory on the same database, without the directory: it writes no files.
    const data = await openDataStore({ path: join(home, 'aios.db'), native: impl });
    const other = await openMemory({ data, native: impl, dimension: 64 });
    const [deleted, updated] = added.map((a) => a.fragment.id) as [string, string];
    await other.delete(deleted);
    await other.update(updated, { text: 'the walnut shelf is crooked' });
    const [fresh] = await other.addMany(['a heron stands in the pond']);
    await other.close();
    await data.close();

    const again = await open(home);
    expect(again.memory.lexicalOrigin).toBe('file');
    const top = async (q: string) =>
      (await again.memory.search(q, { k: 3, mode: 'lexical' })).map((h) => h.id);
    expect(await top('walnut shelf')).toEqual([updated]);
    expect(await top('heron pond')).toEqual([fresh?.fragment.id]);
    expect(await top(TEXTS[0] as string)).not.toContain(deleted);
    expect(await top(TEXTS[1] as string)).not.toContain(updated);
    // The same answers as an index built from the texts now in the store.
    const rebuilt = await openMemory({
      data: again.data,
      native: impl,
      dimension: 64,
    });
    expect(rebuilt.lexicalOrigin).toBe('texts');
    expect(await ranked(again.memory)).toEqual(await ranked(rebuilt));
    await rebuilt.close();
    await again.close();
  });

  it('is rebuilt from the texts when damaged, with a warning', async () => {
    const home = join(root, `${impl}-damaged`);
    const first = await open(home);
    await first.memory.addMany(TEXTS);
    const before = await ranked(first.memory);
    await first.close();
    const dir = join(home, 'carma');
    const path = join(dir, lexicalFiles(dir)[0] as string);
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0x10;
    writeFileSync(path, bytes);

    const warnings: Warning[] = [];
    const again = await open(home, warnings);
    expect(again.memory.lexicalOrigin).toBe('texts');
    expect(await ranked(again.memory)).toEqual(before);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      details: { file: path, code: 'INDEX_CORRUPT' },
      message: 'the lexical index file cannot be trusted: rebuilt from the texts',
    });
    await again.close();
  });
});
