import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashing } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lexicalVersion1 } from './engine/file-versions.test-support.js';
import {
  type CarmaEngine,
  createEngine,
  LEXICAL_TOKENIZER,
  type LexicalIndex,
} from './engine/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'carma-lexical-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const QUERIES = [
  'boundary layer',
  'heat transfer boundary',
  'flutter',
  'ünïcode wörds',
  'layer layer plate',
  'nothing matches this',
];

/** Texts added, replaced and deleted, as a memory's history leaves an index. */
function churned(engine: CarmaEngine): LexicalIndex {
  const index = engine.createLexicalIndex({ k1: 1.1, b: 0.6 });
  const texts = Array.from(
    { length: 300 },
    (_, i) =>
      `document ${i % 17} on the boundary layer ${i % 5 === 0 ? 'heat transfer' : 'flat plate'} ${'layer '.repeat(i % 4)}`,
  );
  index.add(
    Uint32Array.from(texts, (_, i) => i + 1),
    texts,
  );
  index.remove(Uint32Array.from({ length: 60 }, (_, i) => 5 * i + 1));
  index.add(Uint32Array.of(2, 400), ['aircraft wing flutter', 'ünïcode wörds on a plate']);
  index.add(Uint32Array.of(401), ['Doctor Ruiz on Tuesday']);
  index.remove(Uint32Array.of(401));
  return index;
}

describe.each(testImplementations())('lexical index files (%s)', (impl) => {
  let engine: CarmaEngine;
  beforeAll(() => {
    engine = createEngine({ native: impl });
  });

  it('load into an index that searches like the one saved, in either implementation', async () => {
    const index = churned(engine);
    const path = join(dir, `churned-${impl}.bin`);
    await index.save(path);
    for (const reader of testImplementations()) {
      const loaded = await createEngine({ native: reader }).loadLexicalIndex(path);
      expect(loaded.size).toBe(index.size);
      for (const q of QUERIES) {
        for (const k of [1, 10, 500]) expect(loaded.search(q, k)).toEqual(index.search(q, k));
        const filter = Uint32Array.from({ length: 200 }, (_, i) => 2 * i);
        expect(loaded.search(q, 5, filter)).toEqual(index.search(q, 5, filter));
      }
      expect(loaded.idf(['layer', 'flutter', 'absent'])).toEqual(
        index.idf(['layer', 'flutter', 'absent']),
      );
      // The loaded index goes on like any other: removals and replacements included.
      // An add before the first removal, and its document removed with the others.
      const gone = Uint32Array.of(3, 4, 400, 9000);
      const copy = await createEngine({ native: reader }).loadLexicalIndex(path);
      const reference = churned(createEngine({ native: reader }));
      for (const target of [copy, reference]) {
        target.add(Uint32Array.of(9000, 9001), ['an added boundary', 'a kept boundary']);
        target.remove(gone);
      }
      for (const q of QUERIES) expect(copy.search(q, 50)).toEqual(reference.search(q, 50));
      loaded.add(Uint32Array.of(9), ['a new boundary']);
      expect(loaded.search('new', 1).labels[0]).toBe(9);
    }
    const bytes = readFileSync(path);
    // Both implementations write the same bytes; a deleted text leaves no word.
    const other = join(dir, `churned-other-${impl}.bin`);
    await churned(createEngine({ native: impl === 'js' ? 'native' : 'js' })).save(other);
    if (testImplementations().length === 2) expect(readFileSync(other).equals(bytes)).toBe(true);
    expect(bytes.includes(Buffer.from('ruiz'))).toBe(false);
    expect(bytes.includes(Buffer.from('flutter'))).toBe(true);
  });

  it('reads a version 1 file, and writes it again as version 2, the version of its terms', async () => {
    const index = churned(engine);
    const path = join(dir, `current-${impl}.bin`);
    await index.save(path);
    expect(readFileSync(path).readUInt32LE(8)).toBe(LEXICAL_TOKENIZER + 1);
    expect(index.tokenizer).toBe(LEXICAL_TOKENIZER);
    const hashing = await createHashing({ native: impl });
    const old = join(dir, `version1-${impl}.bin`);
    writeFileSync(
      old,
      lexicalVersion1(readFileSync(path), (b) => hashing.hashSync(b)),
    );
    expect(readFileSync(old).readUInt32LE(8)).toBe(1);
    const loaded = await engine.loadLexicalIndex(old);
    // Its terms come from the tokenizer before CJK pairs (a memory builds it again).
    expect(loaded.tokenizer).toBe(1);
    for (const q of QUERIES) expect(loaded.search(q, 50)).toEqual(index.search(q, 50));
    const again = join(dir, `again-${impl}.bin`);
    await loaded.save(again);
    // The current file's bytes, but for the version (2) and so the checksum.
    const current = Buffer.from(readFileSync(path));
    current.writeUInt32LE(2, 8);
    const body = current.subarray(0, current.length - 32);
    const expected = Buffer.concat([body, Buffer.from(hashing.hashSync(body), 'hex')]);
    expect(readFileSync(again).equals(expected)).toBe(true);
    expect((await engine.loadLexicalIndex(again)).tokenizer).toBe(1);
  });

  it('refuses a damaged file with INDEX_CORRUPT', async () => {
    const path = join(dir, `damaged-${impl}.bin`);
    await churned(engine).save(path);
    const bytes = readFileSync(path);
    const flipped = Buffer.from(bytes);
    flipped[64] = (flipped[64] as number) ^ 1;
    const cases: Array<[string, Buffer]> = [
      ['flipped', flipped],
      ['cut', bytes.subarray(0, bytes.length - 1)],
      ['not one', Buffer.from('CARMAVI1 and more bytes than a header')],
    ];
    for (const [name, damaged] of cases) {
      const file = join(dir, `damaged-${impl}-${name}.bin`);
      writeFileSync(file, damaged);
      await expect(engine.loadLexicalIndex(file), name).rejects.toMatchObject({
        code: 'INDEX_CORRUPT',
      });
    }
    await expect(engine.loadLexicalIndex(join(dir, 'missing.bin'))).rejects.toMatchObject({
      code: 'IO_NOT_FOUND',
    });
  });
});
