import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashing } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { version1, version3 } from './engine/file-versions.test-support.js';
import { type CarmaEngine, createEngine } from './engine/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'carma-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DIM = 8;
const ROWS = 40;

/** A graph index file of ROWS rows, written by `engine`. */
async function written(engine: CarmaEngine, name: string): Promise<Buffer> {
  const index = engine.createVectorIndex(DIM, 'cosine', { m: 4, efConstruction: 20, seed: 9 });
  const data = Float32Array.from({ length: ROWS * DIM }, (_, i) => Math.sin(i * 0.7) + 0.1);
  index.add(
    Uint32Array.from({ length: ROWS }, (_, i) => i + 1),
    data,
  );
  const path = join(dir, name);
  await index.save(path);
  return readFileSync(path);
}

const ROWS_AT = 28 + 4 * ROWS + ROWS;
const GRAPH_AT = ROWS_AT + 4 * ROWS * DIM;

/** Damaged files, each with the reason both implementations give for refusing it. */
const DAMAGE: Array<[string, RegExp, (file: Buffer) => Buffer]> = [
  [
    'a flipped byte',
    /checksum mismatch/,
    (f) => {
      const out = Buffer.from(f);
      out.writeUInt8(out.readUInt8(ROWS_AT + 100) ^ 1, ROWS_AT + 100);
      return out;
    },
  ],
  ['a missing last byte', /checksum mismatch/, (f) => f.subarray(0, f.length - 1)],
  [
    'version 5',
    /unsupported version 5/,
    (f) => {
      const out = Buffer.from(f);
      out.writeUInt32LE(5, 8);
      return out;
    },
  ],
  [
    'a NaN row (version 1)',
    /row 3 holds a non-finite number/,
    (f) => {
      const out = version1(f);
      out.writeFloatLE(Number.NaN, ROWS_AT + 4 * 3 * DIM);
      return out;
    },
  ],
  [
    'a row of 1e30 (version 1)',
    /row 4 is longer than unit length/,
    (f) => {
      const out = version1(f);
      for (let i = 0; i < DIM; i++) out.writeFloatLE(1e30, ROWS_AT + 4 * (4 * DIM + i));
      return out;
    },
  ],
  [
    'a wrong entry level (version 1)',
    /entry level differs/,
    (f) => {
      const out = version1(f);
      out.writeUInt32LE(out.readUInt32LE(GRAPH_AT + 20) + 1, GRAPH_AT + 20);
      return out;
    },
  ],
  [
    'a link out of range (version 1)',
    /link out of range/,
    (f) => {
      const out = version1(f);
      out.writeUInt32LE(1000, GRAPH_AT + 24 + ROWS + 4);
      return out;
    },
  ],
  [
    'a neighbour list longer than the graph allows (version 1)',
    /a neighbour list longer than the graph allows/,
    (f) => {
      const out = version1(f);
      out.writeUInt32LE(1000, GRAPH_AT + 24 + ROWS);
      return out;
    },
  ],
  [
    'a byte after the end (version 1)',
    /bytes after the end marker/,
    (f) => Buffer.concat([version1(f), Buffer.of(0)]),
  ],
];

describe.each(testImplementations())('index files of the engine (%s)', (impl) => {
  const engine = createEngine({ native: impl });

  it.each(['1', '3'])('reads format version %s, and writes version 4', async (version) => {
    const blake3 = await createHashing({ native: impl });
    const older = (file: Buffer) =>
      version === '1' ? version1(file) : version3(file, (body) => blake3.hashSync(body));
    const file = await written(engine, `${impl}-v4.idx`);
    expect(file.readUInt32LE(8)).toBe(4);
    const path = join(dir, `${impl}-v${version}.idx`);
    writeFileSync(path, older(file));
    expect(readFileSync(path).readUInt32LE(8)).toBe(Number(version));
    const old = await engine.loadVectorIndex(path);
    expect(old.size).toBe(ROWS);
    expect(old.hnsw).toEqual({ m: 4, efConstruction: 20, seed: 9 });
    const query = await engine.loadVectorIndex(join(dir, `${impl}-v4.idx`));
    const probe = new Float32Array(DIM).fill(0.5);
    expect((await old.searchAsync(probe, 5)).labels).toEqual(
      (await query.searchAsync(probe, 5)).labels,
    );
    await old.save(path);
    expect(readFileSync(path)).toEqual(file);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('reads a file verified before for its structure only', async () => {
    const file = await written(engine, `${impl}-verified.idx`);
    const path = join(dir, `${impl}-verified-changed.idx`);
    // A changed checksum: passed over when the caller vouches for the bytes, else refused.
    const changed = Buffer.from(file);
    changed[changed.length - 1] = (changed[changed.length - 1] as number) ^ 1;
    writeFileSync(path, changed);
    const loaded = await engine.loadVectorIndex(path, { verified: true });
    expect(loaded.size).toBe(ROWS);
    await expect(engine.loadVectorIndex(path)).rejects.toMatchObject({ code: 'INDEX_CORRUPT' });
    // A link out of the graph is refused either way.
    const far = Buffer.from(file);
    far.writeUInt32LE(9999, far.length - 32 - 8 - 4);
    writeFileSync(path, far);
    await expect(engine.loadVectorIndex(path, { verified: true })).rejects.toMatchObject({
      code: 'INDEX_CORRUPT',
    });
    await expect(
      engine.loadVectorIndex(path, { verified: 'yes' } as unknown as { verified: boolean }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('gives the bytes of a file replaced by rename, readable after it is removed', async () => {
    const path = join(dir, `${impl}-bytes.bin`);
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
    writeFileSync(path, bytes);
    const read = await engine.fileBytes(path);
    expect(Buffer.from(read)).toEqual(bytes);
    // A write into the array changes the array, never the file.
    read[0] = 7;
    expect(read[0]).toBe(7);
    expect(readFileSync(path)).toEqual(bytes);
    rmSync(path);
    expect(Buffer.from(read.subarray(1))).toEqual(bytes.subarray(1));
    writeFileSync(path, Buffer.alloc(0));
    expect((await engine.fileBytes(path)).length).toBe(0);
    await expect(engine.fileBytes(join(dir, 'missing.bin'))).rejects.toMatchObject({
      code: 'IO_NOT_FOUND',
    });
  });

  it.each(DAMAGE)('refuses a file with %s', async (_, reason, damage) => {
    const path = join(dir, `${impl}-damaged.idx`);
    writeFileSync(path, damage(await written(engine, `${impl}-source.idx`)));
    await expect(engine.loadVectorIndex(path)).rejects.toMatchObject({
      code: 'INDEX_CORRUPT',
      message: expect.stringMatching(reason),
    });
  });
});

describe('native and js read each other index files the same way', () => {
  const impls = testImplementations();
  it.runIf(impls.length === 2)(
    'byte for byte, and refuse damage with the same message',
    async () => {
      const [native, js] = [createEngine({ native: 'native' }), createEngine({ native: 'js' })];
      const fromNative = await written(native, 'cross-native.idx');
      // The same but for the row codes only the native implementation writes.
      expect(version1(await written(js, 'cross-js.idx'))).toEqual(version1(fromNative));
      for (const [name, , damage] of DAMAGE) {
        const path = join(dir, 'cross-damaged.idx');
        writeFileSync(path, damage(fromNative));
        const errors = await Promise.all(
          [native, js].map((e) =>
            e.loadVectorIndex(path).then(
              () => undefined,
              (e) => e.message,
            ),
          ),
        );
        expect(errors[0], name).toBeDefined();
        expect(errors[0], name).toBe(errors[1]);
      }
    },
  );
});
