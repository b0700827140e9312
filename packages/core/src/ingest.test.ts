import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkFile, chunkText, collectFiles, MAX_CHUNK } from './ingest.js';

/** A small ChatGPT data export (`conversations.json`), as the export writes it. */
function chatGptExport(): unknown[] {
  const node = (
    id: string,
    parent: string | null,
    role: string | null,
    text: string,
    t: number,
  ) => ({
    id,
    parent,
    children: [],
    message: role
      ? { id, author: { role }, create_time: t, content: { content_type: 'text', parts: [text] } }
      : null,
  });
  return [
    {
      title: 'Sourdough starter',
      id: 'conv-1',
      current_node: 'm3',
      mapping: {
        root: node('root', null, null, '', 0),
        m1: node('m1', 'root', 'system', 'You are helpful.', 1_700_000_000),
        m2: node(
          'm2',
          'm1',
          'user',
          'How often should I feed my sourdough starter?',
          1_700_000_010,
        ),
        m3: node(
          'm3',
          'm2',
          'assistant',
          'Feed the sourdough starter once a day at room temperature.',
          1_700_000_020,
        ),
        old: node('old', 'm2', 'assistant', 'An abandoned answer.', 1_700_000_015),
      },
    },
  ];
}

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

  it('ends fragments at sentence ends, or between words for a very long sentence', () => {
    const sentences = Array.from(
      { length: 60 },
      (_, i) =>
        `Sentence number ${i} says ${'very '.repeat(i % 7)}little${i % 3 === 0 ? '!' : '.'}`,
    );
    const chunks = chunkText(sentences.join(' '), '/s.txt');
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) {
      expect(c.text.length).toBeLessThanOrEqual(MAX_CHUNK);
      expect(c.text).toMatch(/[.!]$/);
      expect(c.text).toMatch(/^Sentence number \d+/);
    }
    const words = Array.from({ length: 150 }, (_, i) => `word${i}`).join(' ');
    const cut = chunkText(words, '/w.txt');
    expect(cut.length).toBeGreaterThan(1);
    for (const c of cut) expect(c.text).toMatch(/^word\d+( word\d+)*$/);
    expect(cut.map((c) => c.text).join(' ')).toBe(words);
  });

  it('never ends a fragment at an abbreviation or inside a number', () => {
    // Sentences of about 60 characters with "e.g." and "3.5" at every place a cut could fall.
    const sentences = Array.from(
      { length: 40 },
      (_, i) => `Note ${i} runs at 3.5 GHz, e.g. on the laptop of Dr. Brown.`,
    );
    const chunks = chunkText(sentences.join(' '), '/n.txt');
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) {
      expect(c.text).toMatch(/^Note \d+ runs at 3\.5 GHz, e\.g\. on the laptop of Dr\. Brown\./);
      expect(c.text).toMatch(/Dr\. Brown\.$/);
    }
  });

  it('reads a ChatGPT export by its shape: the kept thread, with conversation, role and time', async () => {
    const file = join(dir, 'conversations.json');
    writeFileSync(file, JSON.stringify(chatGptExport()));
    const chunks = await chunkFile(file);
    expect(chunks.map((c) => [c.text, c.kind, c.meta?.role])).toEqual([
      ['How often should I feed my sourdough starter?', 'chatgpt', 'user'],
      ['Feed the sourdough starter once a day at room temperature.', 'chatgpt', 'assistant'],
    ]);
    expect(chunks[1]?.meta).toMatchObject({
      conversation: 'Sourdough starter',
      conversationId: 'conv-1',
      time: new Date(1_700_000_020_000).toISOString(),
    });
    writeFileSync(
      file,
      JSON.stringify([{ title: 'Broken', mapping: { a: { message: { content: {} } } } }]),
    );
    await expect(chunkFile(file)).rejects.toMatchObject({
      code: 'INGEST_INVALID',
      message: expect.stringContaining('not a valid ChatGPT export'),
    });
    writeFileSync(file, JSON.stringify([{ title: 'Broken', mapping: 'nope' }]));
    await expect(chunkFile(file)).rejects.toMatchObject({ code: 'INGEST_INVALID' });
  });
});
