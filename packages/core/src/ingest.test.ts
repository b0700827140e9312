import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testDocx, testEpub, testImplementations, testOdt, testPdf } from '@aios/utils/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createAios } from './aios.js';
import { type Importer, readerMissing } from './ingest/readers.js';
import {
  binaryReason,
  chunkFile,
  chunkText,
  collectFiles,
  ingest,
  MAX_CHUNK,
  MAX_JSON_DEPTH,
  type SkippedFile,
} from './ingest.js';

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
    const other: string[] = [];
    const files = await collectFiles([join(dir, 'tree')], { onOtherKind: (p) => other.push(p) });
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual([
      'tree/a.md',
      'tree/e.jsonl',
      'tree/sub/b.txt',
    ]);
    expect(other).toEqual([join(dir, 'tree/c.png')]);
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

/** Prose of about `bytes` characters: numbered sentences in paragraphs, some lines wrapped. */
function prose(bytes: number): string {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const para = `Note ${i} says the heron fished at pond ${i % 17} at dawn.${i % 3 === 0 ? '\nA wrapped line of the same note.' : ''} It rained ${i % 5} times.\n\n`;
    out.push(para);
    size += para.length;
  }
  return out.join('');
}

describe('chunking, large inputs', () => {
  it('is linear: 4 MB in a few seconds (each line was looked up from the start: minutes)', () => {
    const text = prose(4 * 1024 * 1024);
    const started = performance.now();
    const chunks = chunkText(text, '/big.txt');
    const seconds = (performance.now() - started) / 1000;
    expect(chunks.length).toBeGreaterThan(8000);
    expect(seconds).toBeLessThan(20);
    // Lines are still exact: checked against a plain count at a sample of chunks.
    for (const c of [chunks[0], chunks[1], chunks[4321], chunks[chunks.length - 1]]) {
      if (!c) throw new Error('missing chunk');
      expect(c.line).toBe(text.slice(0, c.offset).split('\n').length);
      expect(text.startsWith(c.text.slice(0, 20), c.offset)).toBe(true);
    }
  });

  it('refuses JSON nested too deeply, naming the file and the line, instead of overflowing the stack', async () => {
    const deep = join(dir, 'deep.json');
    writeFileSync(deep, `{\n"a":\n${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    await expect(chunkFile(deep)).rejects.toMatchObject({
      code: 'INGEST_TOO_DEEP',
      message: `${deep}:3: JSON nested more than ${MAX_JSON_DEPTH} levels deep; not ingested`,
    });
    const lines = join(dir, 'deep.jsonl');
    writeFileSync(lines, `{"text":"fine"}\n\n${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    await expect(chunkFile(lines)).rejects.toMatchObject({
      code: 'INGEST_TOO_DEEP',
      details: { path: lines, line: 3 },
    });
    // Up to the limit is fine, and brackets inside strings do not count.
    const ok = join(dir, 'ok.json');
    const nested = `${'['.repeat(MAX_JSON_DEPTH - 1)}"${'['.repeat(1000)}"${']'.repeat(MAX_JSON_DEPTH - 1)}`;
    writeFileSync(ok, JSON.stringify([{ text: 'deep but fine' }, JSON.parse(nested)]));
    const chunks = await chunkFile(ok);
    expect(chunks[0]?.text).toBe('deep but fine');
    expect(chunks.slice(1).every((c) => c.kind === 'json' && c.offset >= 1)).toBe(true);
  });

  it('refuses a ChatGPT export with a time that is no time or an id that is no string', async () => {
    const file = join(dir, 'odd-conversations.json');
    const exported = (message: Record<string, unknown>, conversation = {}) => [
      {
        title: 'Odd',
        ...conversation,
        mapping: {
          a: {
            id: 'a',
            message: {
              id: 'm1',
              author: { role: 'user' },
              content: { parts: ['hello there'] },
              ...message,
            },
          },
        },
      },
    ];
    for (const [message, conversation, expected] of [
      [{ create_time: 1e20 }, {}, 'create_time that is not a time'],
      [{ create_time: 'yesterday' }, {}, 'create_time that is not a time'],
      [{}, { id: { toString: 1 } }, 'has an id that is not a string'],
      [{ id: ['m'] }, {}, 'has an id that is not a string'],
    ] as const) {
      writeFileSync(file, JSON.stringify(exported(message, conversation)));
      await expect(chunkFile(file)).rejects.toMatchObject({
        code: 'INGEST_INVALID',
        message: expect.stringContaining(expected),
      });
    }
    writeFileSync(file, JSON.stringify(exported({ id: 7, create_time: 1_700_000_000 }, { id: 3 })));
    expect((await chunkFile(file))[0]?.meta).toMatchObject({
      conversationId: '3',
      messageId: '7',
      time: new Date(1_700_000_000_000).toISOString(),
    });
  });
});

describe('what ingest reads', () => {
  it('tells binary from text by the first KiB, as git does', () => {
    expect(binaryReason(new TextEncoder().encode('plain text, café'))).toBeUndefined();
    expect(binaryReason(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 1]))).toContain('NUL');
    // Not UTF-8, but 8-bit text (Windows-1252): text. With a control byte: binary.
    expect(binaryReason(Uint8Array.from([0x63, 0x61, 0x66, 0xe9]))).toBeUndefined();
    expect(binaryReason(Uint8Array.from([0x61, 0xff, 0x01, 0x61]))).toBe(
      'binary (neither UTF-8 nor 8-bit text in the first KiB)',
    );
    // UTF-16 with its byte order mark is text, NUL bytes and all; a NUL character is not.
    expect(binaryReason(Buffer.from('\uFEFFtext', 'utf16le'))).toBeUndefined();
    expect(binaryReason(Buffer.from('\uFEFFte\0xt', 'utf16le'))).toBe(
      'binary (control characters in UTF-16LE in the first KiB)',
    );
    // A multi-byte character cut by the end of the sample is still text.
    const cut = new TextEncoder().encode(`${'a'.repeat(1023)}é`);
    expect(cut.length).toBe(1025);
    expect(binaryReason(cut)).toBeUndefined();
    // Only the first KiB counts.
    expect(binaryReason(Uint8Array.from([...new Uint8Array(1024).fill(0x61), 0]))).toBeUndefined();
  });

  it('reads regular files only: FIFOs and devices are refused when named, skipped in folders', async () => {
    const tree = join(dir, 'special');
    mkdirSync(tree);
    writeFileSync(join(tree, 'a.md'), 'A note.\n');
    writeFileSync(join(tree, 'b.txt'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1]));
    execFileSync('mkfifo', [join(tree, 'pipe.txt')]);
    symlinkSync(tree, join(tree, 'loop')); // a folder reached twice is walked once
    const skipped: SkippedFile[] = [];
    const files = await collectFiles([tree], { onSkip: (s) => skipped.push(s) });
    expect(files).toEqual([join(tree, 'a.md'), join(tree, 'b.txt')]);
    expect(skipped).toEqual([{ path: join(tree, 'pipe.txt'), reason: 'a FIFO' }]);
    await expect(collectFiles([join(tree, 'pipe.txt')])).rejects.toMatchObject({
      code: 'IO_NOT_A_FILE',
      message: expect.stringContaining('a FIFO'),
    });
    await expect(collectFiles(['/dev/zero'])).rejects.toMatchObject({
      code: 'IO_NOT_A_FILE',
      message: expect.stringContaining('a character device'),
    });
    // The binary file is read by nobody: chunkFile gives nothing.
    expect(await chunkFile(join(tree, 'b.txt'))).toEqual([]);
  });

  it('reads UTF-16 with a byte order mark, and 8-bit text that is not UTF-8 as Windows-1252', async () => {
    const text = 'Grüße aus Köln — “quoted”, 5 €, 日本語 🎉';
    const utf16be = Buffer.from(`\uFEFF${text}\n`, 'utf16le').swap16();
    const files: Array<[string, Buffer, string]> = [
      ['utf16le.txt', Buffer.from(`\uFEFF${text}\n`, 'utf16le'), text],
      ['utf16be.txt', utf16be, text],
      ['utf16le.jsonl', Buffer.from(`\uFEFF${JSON.stringify({ text })}\n`, 'utf16le'), text],
      // café crème, 5 € – “quoted” in Windows-1252.
      [
        'cp1252.txt',
        Buffer.from([
          0x63, 0x61, 0x66, 0xe9, 0x20, 0x63, 0x72, 0xe8, 0x6d, 0x65, 0x2c, 0x20, 0x35, 0x20, 0x80,
          0x20, 0x96, 0x20, 0x93, 0x71, 0x75, 0x6f, 0x74, 0x65, 0x64, 0x94,
        ]),
        'café crème, 5 € – “quoted”',
      ],
      // The first KiB is ASCII, the é past it is Latin-1: all of it is read as such.
      [
        'late.txt',
        Buffer.concat([
          Buffer.from(`${'word '.repeat(300)}`),
          Buffer.from([0x6e, 0x61, 0xef, 0x76, 0x65]),
        ]),
        `${'word '.repeat(300)}naïve`,
      ],
    ];
    for (const [name, bytes, want] of files) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      expect((await chunkFile(file)).map((c) => c.text).join(' '), name).toBe(want);
    }
    // UTF-8 stays UTF-8, even past the first KiB, and a binary tail of it is not taken for
    // Windows-1252.
    const utf8 = join(dir, 'utf8.txt');
    writeFileSync(utf8, `${'word '.repeat(300)}naïve`);
    expect((await chunkFile(utf8)).map((c) => c.text).join(' ')).toBe(
      `${'word '.repeat(300)}naïve`,
    );
    const tail = join(dir, 'tail.txt');
    writeFileSync(
      tail,
      Buffer.concat([Buffer.from('word '.repeat(300)), Buffer.from([0xe9, 0x01])]),
    );
    expect((await chunkFile(tail)).map((c) => c.text).join(' ')).toBe(
      `${'word '.repeat(300)}\uFFFD\u0001`,
    );
  });

  it('reads Chinese, Japanese and Korean files in their legacy encodings', async () => {
    // [encoding, the file's bytes, its text]
    const files: Array<[string, string, string]> = [
      [
        'gb18030',
        'b1b1bea9cac7d6d0b9fab5c4cad7b6bca3acb3a4b3c7badcb3a4a1a3',
        '北京是中国的首都，长城很长。',
      ],
      ['big5', 'a578a55fac4fa578c657b3cca46aaabaabb0a5aba143', '台北是台灣最大的城市。'],
      ['shift_jis', '938c8b9e82cd93fa967b82cc8ef1937382c582b78142', '東京は日本の首都です。'],
      [
        'euc-jp',
        'c9d9bbcebbb3a4cfc6fccbdca4c7b0ecc8d6b9e2a4a4bbb3a4c7a4b9a1a3',
        '富士山は日本で一番高い山です。',
      ],
      ['euc-kr', 'bcadbfefc0ba20c7d1b1b9c0c720bcf6b5b5c0d4b4cfb4d92e', '서울은 한국의 수도입니다.'],
    ];
    for (const [encoding, hex, want] of files) {
      const bytes = Buffer.from(hex, 'hex');
      expect(binaryReason(bytes), encoding).toBeUndefined();
      const file = join(dir, `${encoding}.txt`);
      writeFileSync(file, Buffer.concat([bytes, Buffer.from('\n')]));
      expect((await chunkFile(file)).map((c) => c.text).join(' '), encoding).toBe(want);
    }
    // Western 8-bit text stays Windows-1252, however short (chardet is not sure of it).
    for (const word of ['Größe', 'Zürich', 'Señor Muñoz', 'Ça coûte 10 € à l’hôtel.']) {
      const file = join(dir, 'western.txt');
      writeFileSync(file, Buffer.from(word.replace('€', '\x80').replace('’', '\x92'), 'latin1'));
      expect((await chunkFile(file)).map((c) => c.text).join(' '), word).toBe(word);
    }
  });

  it('reads a UTF-8 file with a stray byte as UTF-8, the byte as U+FFFD', async () => {
    const text = 'Le café — “déjà vu”, 日本語. ';
    const bytes = Buffer.concat([
      Buffer.from(text.repeat(3)),
      Buffer.from('A Latin-1 byte: '),
      Buffer.from([0xe9]),
      Buffer.from(' here.'),
    ]);
    // Neither UTF-8 nor Windows-1252 (the quote's 0x9d is undefined there), yet text.
    expect(binaryReason(bytes)).toBeUndefined();
    const file = join(dir, 'stray.txt');
    writeFileSync(file, bytes);
    expect((await chunkFile(file)).map((c) => c.text).join(' ')).toBe(
      `${text.repeat(3)}A Latin-1 byte: \uFFFD here.`,
    );
  });

  it("reads an HTML page as its readable text, each fragment citing the page's line", async () => {
    const page = [
      '<!DOCTYPE html>',
      '<html><head><meta charset="utf-8">',
      '<title>Boiler &amp; heating</title>',
      '<style>p { color: red }</style><script>var tracking = "beacon";</script>',
      '</head><body>',
      '<nav><a href="/">Home</a> <a href="/about">About</a></nav>',
      '<div hidden>Cookie banner</div><button>Accept all</button><span aria-hidden="true">★</span>',
      '<h2>Service history</h2>',
      '<p>The boiler was serviced on <b>3&nbsp;March</b>',
      '   by Anna&#39;s plumbing.<p>Unclosed, as browsers allow.',
      '<ul><li>Pressure: 1.5 bar</li><li>Filter replaced</ul>',
      '<table><tr><th>Part<th>Cost<tr><td>Pump<td>120 &euro;</table>',
      '<h2>Warranty</h2><p>Ends in <i>2027</i>.<br>Keep the invoice.</p>',
      '</body></html>',
    ].join('\n');
    const file = join(dir, 'boiler.html');
    writeFileSync(file, page);
    const chunks = await chunkFile(file);
    expect(chunks.map((c) => [c.text, c.line, c.kind])).toEqual([
      [
        [
          '# Boiler & heating',
          '## Service history',
          "The boiler was serviced on 3 March by Anna's plumbing.",
          'Unclosed, as browsers allow.',
          '- Pressure: 1.5 bar\n- Filter replaced',
          'Part | Cost\nPump | 120 €',
        ].join('\n\n'),
        3,
        'html',
      ],
      ['## Warranty\n\nEnds in 2027.\nKeep the invoice.', 13, 'html'],
    ]);
    // The offset is where the text starts in the page's source.
    expect(page.slice(chunks[1]?.offset).startsWith('Warranty</h2>')).toBe(true);
    // An SVG's title is no page title.
    // A footnote's mark and the link back from the note are no text.
    const noted = join(dir, 'noted.html');
    writeFileSync(
      noted,
      '<body><p>The reef ran the Grace aground.<a role="doc-noteref" href="#n1">1</a></p><aside><p id="n1">Called the Teeth. <a epub:type="backlink" href="#r1">↩</a></p></aside></body>',
    );
    expect((await chunkFile(noted)).map((c) => c.text)).toEqual([
      'The reef ran the Grace aground.\n\nCalled the Teeth.',
    ]);
    const untitled = join(dir, 'logo.html');
    writeFileSync(untitled, '<body><svg><title>Logo</title></svg><p>Boiler serviced.</p></body>');
    expect((await chunkFile(untitled)).map((c) => c.text)).toEqual(['Boiler serviced.']);
  });

  it('reads a PDF page by page: lines made paragraphs, hyphenated words joined, its page as its line', async () => {
    const file = join(dir, 'boiler.pdf');
    writeFileSync(
      file,
      testPdf([
        [
          ['Boiler log'],
          ['The boiler was ser-', 'viced on 3 March by Anna (plumbing),', 'as every spring.'],
          ['Pressure: 1.5 bar.'],
        ],
        [['Warranty'], ['It ends in 2027.', 'Keep the invoice.'], ['Call 555-0100.']],
      ]),
    );
    const chunks = await chunkFile(file);
    expect(chunks.map((c) => [c.text, c.line, c.kind])).toEqual([
      [
        'Boiler log\n\nThe boiler was serviced on 3 March by Anna (plumbing), as every spring.\n\nPressure: 1.5 bar.',
        1,
        'pdf',
      ],
      ['Warranty\n\nIt ends in 2027. Keep the invoice.\n\nCall 555-0100.', 2, 'pdf'],
    ]);
    // Offsets count in the pages' text, joined by form feeds.
    expect(chunks[1]?.offset).toBe((chunks[0]?.text.length as number) + 1);
  });

  it("leaves out a PDF's running heads and page numbers, but the first page's title", async () => {
    const file = join(dir, 'manual.pdf');
    const page = (n: number, body: string[]) => [
      [`Boiler manual, chapter 1, page ${n}`],
      body,
      [n === 2 ? '- 2 -' : String(n)],
    ];
    writeFileSync(
      file,
      testPdf([
        page(1, ['Bleed the radiators', 'every autumn.']),
        page(2, ['Check the pressure', 'every month.']),
        page(3, ['Service the pump', 'every spring.']),
      ]),
    );
    expect((await chunkFile(file)).map((c) => c.text)).toEqual([
      'Boiler manual, chapter 1, page 1\n\nBleed the radiators every autumn.',
      'Check the pressure every month.',
      'Service the pump every spring.',
    ]);
  });

  it('reads a Word document by its styles: headings stay headings', async () => {
    const file = join(dir, 'boiler.docx');
    writeFileSync(
      file,
      testDocx([
        { text: 'Boiler', heading: 1 },
        { text: 'Service history', heading: 2 },
        { text: 'Serviced on 3 March by Anna & Co.' },
        { text: 'Pressure: 1.5 bar.' },
        { text: 'Warranty', heading: 2 },
        { text: 'It ends in 2027.' },
      ]),
    );
    const chunks = await chunkFile(file);
    expect(chunks.map((c) => [c.text, c.kind])).toEqual([
      [
        '# Boiler\n\n## Service history\n\nServiced on 3 March by Anna & Co.\n\nPressure: 1.5 bar.',
        'docx',
      ],
      ['## Warranty\n\nIt ends in 2027.', 'docx'],
    ]);
  });

  it("reads an EPUB book's chapters in reading order, under the book's title, refusing one under DRM", async () => {
    const chapters = [
      [
        { text: 'The Storm', heading: 1 },
        { text: 'The lighthouse on Skerry Point was built in 1871.' },
      ],
      [
        { text: 'The Rescue', heading: 1 },
        { text: 'Martha rowed out at dawn & found nine sailors.' },
      ],
    ];
    const file = join(dir, 'keeper.epub');
    writeFileSync(file, testEpub(chapters, { title: 'The Keeper' }));
    const chunks = await chunkFile(file);
    // The chapters' <title> (the book's again) is left out; the navigation page is no chapter.
    expect(chunks.map((c) => [c.text, c.kind])).toEqual([
      ['# The Keeper\n\n# The Storm\n\nThe lighthouse on Skerry Point was built in 1871.', 'epub'],
      ['# The Rescue\n\nMartha rowed out at dawn & found nine sailors.', 'epub'],
    ]);
    // A first page that starts with the title does not get it twice.
    const titled = join(dir, 'titled.epub');
    writeFileSync(
      titled,
      testEpub([[{ text: 'The Keeper', heading: 1 }, { text: 'By A. Writer.' }]], {
        title: 'The Keeper',
      }),
    );
    expect((await chunkFile(titled)).map((c) => c.text)).toEqual(['# The Keeper\n\nBy A. Writer.']);
  });

  it('reads an OpenDocument text: headings by level, lists, tables, footnotes after the body; not comments, deletions or the table of contents', async () => {
    const file = join(dir, 'boiler.odt');
    writeFileSync(
      file,
      testOdt(
        [
          '<text:table-of-content><text:index-body><text:p>Service history 1</text:p></text:index-body></text:table-of-content>',
          '<text:tracked-changes><text:changed-region><text:deletion><text:p>Old pump model</text:p></text:deletion></text:changed-region></text:tracked-changes>',
          '<text:h text:outline-level="2">Service history</text:h>',
          '<text:p>Serviced on 3\u00a0March<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body><text:p>By Anna &amp; Co.</text:p></text:note-body></text:note> by the<text:s text:c="3"/>plumber.<office:annotation><text:p>check this</text:p></office:annotation></text:p>',
          '<text:list><text:list-item><text:p>Pressure: 1.5 bar</text:p></text:list-item><text:list-item><text:p>Filter replaced</text:p></text:list-item></text:list>',
          '<table:table><table:table-row><table:table-cell><text:p>Part</text:p></table:table-cell><table:table-cell><text:p>Cost</text:p></table:table-cell></table:table-row><table:table-row><table:table-cell><text:p>Pump</text:p></table:table-cell><table:table-cell><text:p>120 €</text:p></table:table-cell></table:table-row></table:table>',
        ].join(''),
      ),
    );
    expect((await chunkFile(file)).map((c) => [c.text, c.kind])).toEqual([
      [
        [
          '## Service history',
          'Serviced on 3 March by the plumber.',
          '- Pressure: 1.5 bar\n- Filter replaced',
          'Part | Cost\nPump | 120 €',
          'By Anna & Co.',
        ].join('\n\n'),
        'odt',
      ],
    ]);
  });

  it('says which package reads a kind of file when it is not installed', async () => {
    const absent: Importer = async (name) => {
      throw Object.assign(new Error(`Cannot find package '${name}'`), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    };
    expect(await readerMissing('pdf', absent)).toEqual({
      reason:
        'reading PDFs needs the unpdf package: npm i unpdf beside @aios/core (with -g for a global aios)',
      reader: 'unpdf',
    });
    expect((await readerMissing('docx', absent))?.reason).toMatch(
      /^reading Word documents needs the mammoth/,
    );
    expect((await readerMissing('html', absent))?.reason).toMatch(
      /^reading HTML pages needs the htmlparser2/,
    );
    // Books and OpenDocument texts need two: both are named, once.
    expect(await readerMissing('epub', absent)).toEqual({
      reason:
        'reading EPUB books needs the packages fflate and htmlparser2: npm i fflate htmlparser2 beside @aios/core (with -g for a global aios)',
      reader: 'fflate htmlparser2',
    });
    const onlyZip: Importer = async (name) => {
      if (name === 'fflate') throw new Error(`Cannot find package '${name}'`);
      return import(name);
    };
    expect(await readerMissing('odt', onlyZip)).toMatchObject({ reader: 'fflate' });
    // Text, Markdown and JSON need none; installed readers are found.
    for (const kind of ['text', 'markdown', 'json', 'jsonl'] as const) {
      expect(await readerMissing(kind, absent)).toBeUndefined();
    }
    for (const kind of ['html', 'pdf', 'docx', 'epub', 'odt'] as const) {
      expect(await readerMissing(kind)).toBeUndefined();
    }
  });

  it('drops a UTF-8 byte order mark, so JSON files written with one parse', async () => {
    const file = join(dir, 'bom.json');
    writeFileSync(file, `\uFEFF${JSON.stringify([{ text: 'after the mark' }])}`);
    expect((await chunkFile(file)).map((c) => c.text)).toEqual(['after the mark']);
  });
});

describe.each(testImplementations())('ingest into a memory (AIOS_NATIVE=%s)', (impl) => {
  const open = async () => {
    const home = mkdtempSync(join(tmpdir(), 'aios-ingest-mem-'));
    const { config } = loadConfig({ cwd: home, env: { AIOS_HOME: home, AIOS_NATIVE: impl } });
    return { home, aios: await createAios({ config, offline: true }) };
  };

  it('stops between batches once aborted: what it reports stored is stored, nothing else', async () => {
    const { home, aios } = await open();
    try {
      const file = join(home, 'long.txt');
      writeFileSync(file, prose(200_000));
      const total = chunkText(prose(200_000), file).length;
      const stop = new AbortController();
      let reported = 0;
      const result = await ingest(aios.memory, [file], {
        signal: stop.signal,
        batchSize: 16,
        onProgress: (p) => {
          reported = p.chunksDone;
          if (p.chunksDone >= 48) stop.abort('SIGINT');
        },
      });
      expect(result.interrupted).toBe('SIGINT');
      expect(result.chunks).toBe(reported);
      expect(result.chunks).toBe(48);
      expect(result.chunks).toBeLessThan(total);
      expect(result.files).toEqual([]);
      expect(result.partial).toMatchObject({ path: file, chunks: 48 });
      expect(result.partial?.line).toBeGreaterThan(1);
      expect(aios.memory.stats().fragments).toBe(result.added);
      // What was stored is the start of the file, in order.
      const texts = new Set((await aios.memory.list()).map((f) => f.text));
      for (const c of chunkText(prose(200_000), file).slice(0, 48)) {
        expect(texts.has(c.text)).toBe(true);
      }
      // Running again stores the rest and nothing twice.
      const again = await ingest(aios.memory, [file]);
      expect(again.interrupted).toBeUndefined();
      expect(again.duplicate).toBe(result.added + result.duplicate);
      expect(aios.memory.stats().fragments).toBe(result.added + again.added);
    } finally {
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('reads the pages, PDFs, Word documents, books and OpenDocument texts of a folder, skips broken ones, and counts the files of kinds it leaves', async () => {
    const { home, aios } = await open();
    try {
      const notes = join(home, 'notes');
      mkdirSync(notes);
      writeFileSync(
        join(notes, 'heron.htm'),
        '<html><head><title>Birds</title><script>const beacon = "zyxwvut";</script></head>' +
          '<body><p>The heron fished at dawn by the weir.</p></body></html>',
      );
      const manual = testPdf([
        [['Boiler manual'], ['Bleed the radiators', 'every autumn.']],
        [['Warranty'], ['Keep the invoice of the pump,', 'the warranty needs it.']],
      ]);
      writeFileSync(join(notes, 'manual.pdf'), manual);
      writeFileSync(join(notes, 'cut.pdf'), manual.subarray(0, 200));
      writeFileSync(join(notes, 'renamed.pdf'), 'a note saved under the wrong name\n');
      const letter = testDocx([
        { text: 'Letter to the council', heading: 1 },
        { text: 'The hedge on Mill Lane blocks the footpath.' },
      ]);
      writeFileSync(join(notes, 'letter.DOCX'), letter);
      writeFileSync(join(notes, 'draft.docx'), letter.subarray(0, 100));
      writeFileSync(
        join(notes, 'keeper.epub'),
        testEpub([[{ text: 'Martha rowed out to the schooner at dawn.' }]], {
          title: 'The Keeper',
        }),
      );
      writeFileSync(
        join(notes, 'minutes.odt'),
        testOdt([{ text: 'The allotment fees rise to 40 pounds in April.' }]),
      );
      writeFileSync(join(notes, 'minutes-old.odt'), 'saved as text by mistake\n');
      writeFileSync(join(notes, 'locked.epub'), testEpub([[{ text: 'x' }]], { encrypted: true }));
      writeFileSync(join(notes, 'locked.odt'), testOdt([{ text: 'x' }], { encrypted: true }));
      writeFileSync(
        join(notes, 'sheet.odt'),
        testOdt('', { mimetype: 'application/vnd.oasis.opendocument.spreadsheet' }),
      );
      writeFileSync(join(notes, 'budget.xlsx'), 'PK');
      writeFileSync(join(notes, 'scan.XLSX'), 'PK');
      writeFileSync(join(notes, 'LICENSE'), 'MIT\n');
      const result = await ingest(aios.memory, [notes]);
      expect(result.otherKinds).toEqual({ '.xlsx': 2, '': 1 });
      expect(result.files.map((f) => f.path)).toEqual([
        join(notes, 'heron.htm'),
        join(notes, 'keeper.epub'),
        join(notes, 'letter.DOCX'),
        join(notes, 'manual.pdf'),
        join(notes, 'minutes.odt'),
      ]);
      // Those that do not start as their kind are skipped before any is read, the others in
      // their turn: by path, for the comparison.
      const skipped = [...result.skipped].sort((a, b) => a.path.localeCompare(b.path));
      expect(skipped).toEqual([
        { path: join(notes, 'cut.pdf'), reason: expect.stringMatching(/^a damaged PDF \(/) },
        {
          path: join(notes, 'draft.docx'),
          reason: expect.stringMatching(/^a damaged Word document \(/),
        },
        {
          path: join(notes, 'locked.epub'),
          reason: 'an encrypted (DRM) EPUB book: ingest reads books without DRM',
        },
        {
          path: join(notes, 'locked.odt'),
          reason: 'a password-protected OpenDocument text: ingest cannot read it',
        },
        {
          path: join(notes, 'minutes-old.odt'),
          reason: 'not an OpenDocument text (an .odt is a ZIP archive; this is none)',
        },
        {
          path: join(notes, 'renamed.pdf'),
          reason: 'not a PDF (no %PDF- header in the first KiB)',
        },
        {
          path: join(notes, 'sheet.odt'),
          reason:
            'not an OpenDocument text (the archive says it is application/vnd.oasis.opendocument.spreadsheet)',
        },
      ]);
      const [book] = await aios.memory.search('Martha rowed schooner', { k: 1 });
      expect(book?.fragment.text).toBe('# The Keeper\n\nMartha rowed out to the schooner at dawn.');
      expect(book?.fragment.metadata).toMatchObject({ kind: 'epub' });
      const [odt] = await aios.memory.search('allotment fees April', { k: 1 });
      expect(odt?.fragment.metadata).toMatchObject({ kind: 'odt' });
      const [word] = await aios.memory.search('hedge footpath', { k: 1 });
      expect(word?.fragment.text).toBe(
        '# Letter to the council\n\nThe hedge on Mill Lane blocks the footpath.',
      );
      expect(word?.fragment.metadata).toMatchObject({ kind: 'docx' });
      const [page] = await aios.memory.search('heron weir', { k: 1 });
      expect(page?.fragment.text).toBe('# Birds\n\nThe heron fished at dawn by the weir.');
      expect(page?.fragment.metadata).toMatchObject({ kind: 'html', line: 1 });
      // What the page's script holds is not the page's text.
      expect(await aios.memory.search('zyxwvut', { k: 1, mode: 'lexical' })).toEqual([]);
      const [pdf] = await aios.memory.search('invoice pump warranty', { k: 1 });
      expect(pdf?.fragment.text).toBe(
        'Warranty\n\nKeep the invoice of the pump, the warranty needs it.',
      );
      expect(pdf?.fragment.metadata).toMatchObject({ kind: 'pdf', line: 2 });
      // Read again, the same text: nothing new.
      const again = await ingest(aios.memory, [notes]);
      expect(again.added).toBe(0);
      expect(again.duplicate).toBe(result.added);
    } finally {
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('skips binary files with a notice and stores the rest', async () => {
    const { home, aios } = await open();
    try {
      writeFileSync(join(home, 'image.md'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]));
      writeFileSync(join(home, 'note.md'), 'The heron fished at dawn.\n');
      const skipped: SkippedFile[] = [];
      const result = await ingest(aios.memory, [join(home, 'image.md'), join(home, 'note.md')], {
        onSkip: (s) => skipped.push(s),
      });
      expect(skipped).toEqual([
        { path: join(home, 'image.md'), reason: 'binary (a NUL byte in the first KiB)' },
      ]);
      expect(result.skipped).toEqual(skipped);
      expect(result.files.map((f) => f.path)).toEqual([join(home, 'note.md')]);
      expect(result.added).toBe(1);
    } finally {
      await aios.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
