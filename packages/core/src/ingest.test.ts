import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkFile, chunkText, collectFiles, MAX_CHUNK } from './ingest.js';

const dir = mkdtempSync(join(tmpdir(), 'aios-ingest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('chunking', () => {
  it('packs paragraphs, starts a fragment at each Markdown heading, keeps offsets and lines', () => {
    const text = '# One\n\nAlpha paragraph.\n\nBeta paragraph.\n\n## Two\n\nGamma.\n';
    const chunks = chunkText(text, '/x.md', 'markdown');
    expect(chunks.map((c) => c.text)).toEqual([
      '# One\n\nAlpha paragraph.\n\nBeta paragraph.',
      '## Two\n\nGamma.',
    ]);
    for (const c of chunks) expect(text.slice(c.offset).startsWith(c.text.slice(0, 6))).toBe(true);
    expect(chunks.map((c) => c.line)).toEqual([1, 7]);
  });

  it('cuts long paragraphs under the limit', () => {
    const long = Array.from({ length: 200 }, (_, i) => `Sentence ${i} is here.`).join(' ');
    const chunks = chunkText(long, '/long.txt');
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.text.length).toBeLessThanOrEqual(MAX_CHUNK);
    expect(chunks.map((c) => c.text).join(' ')).toBe(long);
  });

  it('reads JSON arrays and JSONL records, naming the bad line', async () => {
    const json = join(dir, 'a.json');
    writeFileSync(json, JSON.stringify([{ title: 'T', text: 'Body one' }, 'Plain two', { n: 3 }]));
    expect((await chunkFile(json)).map((c) => c.text)).toEqual([
      'T\n\nBody one',
      'Plain two',
      '{\n "n": 3\n}',
    ]);
    const jsonl = join(dir, 'b.jsonl');
    writeFileSync(jsonl, '{"content":"first"}\n\n{"content":"second"}\n');
    const lines = await chunkFile(jsonl);
    expect(lines.map((c) => [c.text, c.line, c.offset])).toEqual([
      ['first', 1, 0],
      ['second', 3, 21],
    ]);
    writeFileSync(jsonl, '{"content":"first"}\n{oops\n');
    await expect(chunkFile(jsonl)).rejects.toMatchObject({ code: 'INGEST_INVALID' });
  });

  it('walks folders for known extensions only, skipping hidden entries', async () => {
    mkdirSync(join(dir, 'tree', 'sub'), { recursive: true });
    mkdirSync(join(dir, 'tree', '.git'), { recursive: true });
    for (const f of [
      'tree/a.md',
      'tree/sub/b.txt',
      'tree/c.png',
      'tree/.git/d.md',
      'tree/e.jsonl',
    ]) {
      writeFileSync(join(dir, f), 'x');
    }
    const files = await collectFiles([join(dir, 'tree')]);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual([
      'tree/a.md',
      'tree/e.jsonl',
      'tree/sub/b.txt',
    ]);
    await expect(collectFiles([join(dir, 'missing')])).rejects.toMatchObject({
      code: 'IO_NOT_FOUND',
    });
  });
});
