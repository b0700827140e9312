import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKED_SUFFIX, SETTLED_MS } from './checked-files.js';
import { CARMA_META_KEY } from './data-fragment-store.js';
import { version1 } from './engine/file-versions.test-support.js';
import type { StoreMeta } from './fragment-store.js';
import { removeStaleIndexTempFiles, verifyIndexFiles } from './index.js';
import { type MemoryOptions, openMemory } from './memory.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-integrity-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TEXTS = Array.from(
  { length: 24 },
  (_, i) =>
    `Note ${i}: the ${['red', 'green', 'blue', 'amber'][i % 4]} ${['kettle', 'bicycle', 'lantern', 'violin', 'compass', 'teapot'][i % 6]} sits in room ${i * 7}`,
);

const indexFiles = (dir: string) => readdirSync(dir).filter((n) => /^index-\d+\.bin$/.test(n));
const tempFiles = (dir: string) => readdirSync(dir).filter((n) => /\.tmp-\d+$/.test(n));

/** Where the float32 rows of an index file start (see the format in crates/carma/src/vector.rs). */
function rowsOffset(file: Buffer): { offset: number; dim: number; slots: number } {
  const dim = file.readUInt32LE(12);
  const slots = file.readUInt32LE(20);
  return { offset: 28 + 4 * slots + slots + ((4 - (slots % 4)) % 4), dim, slots };
}

/** A pid that was alive a moment ago and is not any more. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid as number;
}

interface Warning {
  details: Record<string, unknown>;
  message: string;
}

describe.each(testImplementations())('index files (%s)', (impl) => {
  const open = (dir: string, warnings: Warning[] = [], extra: MemoryOptions = {}) =>
    openMemory({
      dir,
      native: impl,
      logger: { warn: (details, message) => warnings.push({ details, message }) },
      ...extra,
    });

  async function writeMemory(name: string): Promise<string> {
    const dir = join(root, `${impl}-${name}`);
    const m = await open(dir);
    await m.addMany(TEXTS);
    await m.close();
    expect(indexFiles(dir)).toHaveLength(1);
    return dir;
  }

  it.each([
    ['4 KiB of random bytes in the middle', 'random'],
    ['one vector set to 1e30', 'huge'],
  ] as const)('rebuilds a file with %s, and logs why', async (_, damage) => {
    const dir = await writeMemory(`damaged-${damage}`);
    const name = indexFiles(dir)[0] as string;
    const path = join(dir, name);
    const file = readFileSync(path);
    const { offset, dim } = rowsOffset(file);
    if (damage === 'random') {
      const middle = Math.floor(file.length / 2) - 2048;
      expect(middle).toBeGreaterThan(offset);
      let s = 12345;
      for (let i = 0; i < 4096; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        file[middle + i] = s >>> 24;
      }
    } else {
      for (let i = 0; i < dim; i++) file.writeFloatLE(1e30, offset + 4 * (5 * dim + i));
    }
    writeFileSync(path, file);
    const warnings: Warning[] = [];
    const m = await open(dir, warnings);
    for (const text of [TEXTS[3], TEXTS[17]] as string[]) {
      const [hit] = await m.search(text, { k: 1, mode: 'vector' });
      expect(hit?.fragment.text).toBe(text);
      expect(hit?.score).toBeLessThanOrEqual(1.0001);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.details).toMatchObject({ file: path, code: 'INDEX_CORRUPT' });
    expect(warnings[0]?.message).toMatch(/rebuilt/);
    await m.add('A new fragment after the rebuild');
    await m.close();
    // The next write replaced it with a sound file.
    expect(indexFiles(dir)).toHaveLength(1);
    expect(indexFiles(dir)[0]).not.toBe(name);
    expect((await verifyIndexFiles(dir)).every((c) => c.ok)).toBe(true);
    const again: Warning[] = [];
    const m2 = await open(dir, again);
    expect(m2.size).toBe(TEXTS.length + 1);
    await m2.close();
    expect(again).toEqual([]);
  });

  it('checks a settled file in full once, then its structure only, until it changes', async () => {
    const dir = await writeMemory('settled');
    const name = indexFiles(dir)[0] as string;
    const path = join(dir, name);
    const records = () =>
      readdirSync(dir)
        .filter((n) => n.endsWith(CHECKED_SUFFIX))
        .sort();
    await sleep(SETTLED_MS + 200);
    const first = await open(dir);
    await first.close();
    const generation = name.replace(/^index-|\.bin$/g, '');
    expect(records()).toEqual(
      ['index', 'labels', 'lexical'].map((f) => `${f}-${generation}.bin${CHECKED_SUFFIX}`),
    );
    // Damage written in place, its modification time set back: seen all the same.
    const file = readFileSync(path);
    const { offset, dim } = rowsOffset(file);
    for (let i = 0; i < dim; i++) file.writeFloatLE(1e30, offset + 4 * (5 * dim + i));
    const { atime, mtime } = statSync(path);
    writeFileSync(path, file);
    utimesSync(path, atime, mtime);
    const warnings: Warning[] = [];
    const m = await open(dir, warnings);
    const [hit] = await m.search(TEXTS[5] as string, { k: 1, mode: 'vector' });
    expect(hit?.fragment.text).toBe(TEXTS[5]);
    expect(warnings.map((w) => w.details.code)).toEqual(['INDEX_CORRUPT']);
    // The next checkpoint removes the files of the old generation with their records.
    await m.add('A change that writes a new checkpoint');
    await m.close();
    expect(records()).toEqual([]);
  });

  it('reads a file of format version 1, and rewrites it in version 3 with the next change', async () => {
    const dir = await writeMemory('version-1');
    const path = join(dir, indexFiles(dir)[0] as string);
    writeFileSync(path, version1(readFileSync(path)));
    const warnings: Warning[] = [];
    const m = await open(dir, warnings);
    expect((await m.search(TEXTS[9] as string, { k: 1, mode: 'vector' }))[0]?.fragment.text).toBe(
      TEXTS[9],
    );
    await m.close();
    // Loaded, not rebuilt: a file that fails to load is logged.
    expect(warnings).toEqual([]);
    expect((await verifyIndexFiles(dir))[0]?.reason).toMatch(/version 1/);
    const writer = await open(dir);
    await writer.add('A change that rewrites the index file');
    await writer.close();
    const generation = (indexFiles(dir)[0] as string).replace('index-', '');
    expect(await verifyIndexFiles(dir)).toEqual([
      { file: join(dir, `index-${generation}`), ok: true },
      { file: join(dir, `lexical-${generation}`), ok: true },
    ]);
  });

  it('refuses a version 1 file with a row longer than unit length or not finite', async () => {
    for (const value of [1e30, Number.NaN]) {
      const dir = await writeMemory(`version-1-${value}`);
      const path = join(dir, indexFiles(dir)[0] as string);
      const file = version1(readFileSync(path));
      const { offset, dim } = rowsOffset(file);
      for (let i = 0; i < dim; i++) file.writeFloatLE(value, offset + 4 * (2 * dim + i));
      writeFileSync(path, file);
      const warnings: Warning[] = [];
      const m = await open(dir, warnings);
      const [hit] = await m.search(TEXTS[11] as string, { k: 1, mode: 'vector' });
      expect(hit?.fragment.text).toBe(TEXTS[11]);
      await m.close();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.details.reason).toMatch(/row 2 (is longer than unit|holds a non-finite)/);
    }
  });

  it('opening to read writes no index file, whatever state the file is in', async () => {
    const dir = await writeMemory('read-only');
    // The database changes (accesses are recorded); the index files do not.
    const snapshot = () =>
      Object.fromEntries(indexFiles(dir).map((n) => [n, statSync(join(dir, n)).mtimeMs]));
    const read = async () => {
      const m = await open(dir);
      await m.search(TEXTS[2] as string, { k: 3 });
      m.stats();
      await m.list();
      await m.close();
    };
    // Up to date.
    let before = snapshot();
    await read();
    expect(snapshot()).toEqual(before);
    // Missing: rebuilt in memory on each open, written only by a memory that changes.
    rmSync(join(dir, indexFiles(dir)[0] as string));
    before = snapshot();
    await read();
    await read();
    expect(indexFiles(dir)).toEqual([]);
    const writer = await open(dir);
    await writer.add('Written by a memory that changes something');
    await writer.close();
    expect(indexFiles(dir)).toHaveLength(1);
  });

  it('a reader of a file behind the database leaves it and the meta as they are', async () => {
    const dir = join(root, `${impl}-behind`);
    const data = await openDataStore({ path: join(root, `${impl}-behind.db`), native: impl });
    const m1 = await open(dir, [], { data });
    await m1.addMany(TEXTS.slice(0, 10));
    await m1.close();
    const file = indexFiles(dir)[0] as string;
    // Changes the index file does not have (a memory without a directory writes none).
    const m2 = await openMemory({ data, native: impl });
    await m2.addMany(TEXTS.slice(10));
    await m2.close();
    const meta = (await data.meta.get(CARMA_META_KEY)) as unknown as StoreMeta;
    const mtime = statSync(join(dir, file)).mtimeMs;
    const m3 = await open(dir, [], { data });
    expect((await m3.search(TEXTS[20] as string, { k: 1, mode: 'vector' }))[0]?.fragment.text).toBe(
      TEXTS[20],
    );
    await m3.close();
    expect(indexFiles(dir)).toEqual([file]);
    expect(statSync(join(dir, file)).mtimeMs).toBe(mtime);
    expect(await data.meta.get(CARMA_META_KEY)).toEqual(meta);
    await data.close();
  });

  it('removes its temporary file when writing the index fails', async () => {
    const dir = join(root, `${impl}-failed-save`);
    const m = await open(dir);
    await m.addMany(TEXTS);
    // The next file's name is taken by a directory: the rename fails.
    mkdirSync(join(dir, 'index-1.bin', 'occupied'), { recursive: true });
    await expect(m.flush()).rejects.toMatchObject({ code: expect.stringMatching(/^IO_/) });
    expect(tempFiles(dir)).toEqual([]);
    await m.close().catch(() => undefined);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('cleans the temporary files of dead processes on open, and only those', async () => {
    const dir = await writeMemory('stale-temp');
    const dead = deadPid();
    const stale = [`index-7.bin.tmp-${dead}`, `index-7.tmp-${dead}`];
    const live = [`index-8.bin.tmp-${process.pid}`, `index-9.bin.tmp-${process.ppid}`];
    for (const name of [...stale, ...live]) writeFileSync(join(dir, name), 'partial');
    const m = await open(dir);
    expect(tempFiles(dir).sort()).toEqual([...live].sort());
    await m.close();
    for (const name of live) rmSync(join(dir, name));
  });
});

describe('checking index files without opening the memory', () => {
  const impl = testImplementations()[0];

  it('verifies each file, and removes the temporary files of dead processes', async () => {
    const dir = join(root, 'doctor');
    const m = await openMemory({ dir, native: impl });
    await m.addMany(TEXTS);
    await m.close();
    const [name] = indexFiles(dir);
    const good = join(dir, name as string);
    const lexical = good.replace(/index-(\d+)\.bin$/, 'lexical-$1.bin');
    expect(await verifyIndexFiles(dir)).toEqual([
      { file: good, ok: true },
      { file: lexical, ok: true },
    ]);

    const bytes = readFileSync(good);
    writeFileSync(join(dir, 'index-90.bin'), bytes.subarray(0, bytes.length - 100));
    const flipped = Buffer.from(bytes);
    const middle = Math.floor(bytes.length / 2);
    flipped.writeUInt8(flipped.readUInt8(middle) ^ 0x40, middle);
    writeFileSync(join(dir, 'index-91.bin'), flipped);
    writeFileSync(join(dir, 'index-92.bin'), 'not an index');
    const lexicalBytes = Buffer.from(readFileSync(lexical));
    lexicalBytes.writeUInt8(lexicalBytes.readUInt8(40) ^ 1, 40);
    writeFileSync(join(dir, 'lexical-92.bin'), lexicalBytes);
    const checks = await verifyIndexFiles(dir);
    expect(checks.map((c) => [c.file, c.ok])).toEqual([
      [good, true],
      [lexical, true],
      [join(dir, 'index-90.bin'), false],
      [join(dir, 'index-91.bin'), false],
      [join(dir, 'index-92.bin'), false],
      [join(dir, 'lexical-92.bin'), false],
    ]);
    expect(checks[3]?.reason).toMatch(/checksum/);
    expect(checks[4]?.reason).toMatch(/not a CARMA index file/);
    expect(checks[5]?.reason).toMatch(/checksum/);

    const dead = deadPid();
    writeFileSync(join(dir, `index-93.bin.tmp-${dead}`), 'partial');
    writeFileSync(join(dir, `index-94.bin.tmp-${process.pid}`), 'partial');
    writeFileSync(join(dir, `lexical-93.bin.tmp-${dead}`), 'partial');
    expect(await removeStaleIndexTempFiles(dir)).toEqual([
      join(dir, `index-93.bin.tmp-${dead}`),
      join(dir, `lexical-93.bin.tmp-${dead}`),
    ]);
    expect(tempFiles(dir)).toEqual([`index-94.bin.tmp-${process.pid}`]);

    expect(await verifyIndexFiles(join(root, 'no-such-dir'))).toEqual([]);
    await expect(verifyIndexFiles('')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
