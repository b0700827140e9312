import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testImplementations } from '@aios/utils/testing';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kRanks from 'js-tiktoken/ranks/cl100k_base';
import o200kRanks from 'js-tiktoken/ranks/o200k_base';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLunaBinding } from '../binding.js';
import {
  createTokenizer,
  ENCODINGS,
  type EncodingName,
  type Tokenizer,
  VOCABULARY_SIZE,
} from './index.js';
import { exactPattern } from './js.js';

/**
 * The reference: js-tiktoken used directly, with tiktoken's pattern given Rust's meaning of
 * `\s` (see `exactPattern`). `cargo test` checks the same corpus against tiktoken-rs.
 */
const reference: Record<EncodingName, Tiktoken> = {
  o200k_base: new Tiktoken({ ...o200kRanks, pat_str: exactPattern(o200kRanks.pat_str) }),
  cl100k_base: new Tiktoken({ ...cl100kRanks, pat_str: exactPattern(cl100kRanks.pat_str) }),
};
const referenceIds = (encoding: EncodingName, text: string) =>
  reference[encoding].encode(text, [], []);

const CODE = `import { readFile } from 'node:fs/promises';

export async function load(path: string): Promise<Record<string, number>> {
\tconst raw = await readFile(path, 'utf8'); // comment with 'quotes'
\treturn JSON.parse(raw) as Record<string, number>;
}

fn main() { let v: Vec<u32> = (0..10).map(|x| x * 2).collect(); println!("{v:?}"); }
`;

const CORPUS: readonly string[] = [
  '',
  'a',
  'hello world',
  "Hello, World! It's a test; we'll see what's what. I'M SHOUTING, they've gone.",
  CODE,
  'emoji 😀👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 keycap 1️⃣ zwj 🏳️‍🌈',
  '日本語のテキスト、中文文本，한국어 텍스트。ภาษาไทย العربية עברית हिन्दी',
  'Ünïcödé çàfé naïve résumé ΑΒΓ δεζ кириллица Ωmega ﬁ ligature',
  `${' '.repeat(200)}x${'\t'.repeat(50)}\n${' '.repeat(33)}\n\n\n\n${' \n'.repeat(40)}end   `,
  '<|endoftext|> <|im_start|>user\nhi<|im_end|> <|fim_prefix|><|fim_middle|><|endofprompt|>',
  'numbers 1234567890 3.14159 -42 1e-10 0xDEADBEEF 1,000,000 ١٢٣ ⅷ',
  'CamelCaseWords HTTPServer getHTTPResponseCode snake_case_name kebab-case-name',
  '\r\n\r\nwindows\r\nlines\r\n\ttab\r\n',
  'https://example.com/path/to?query=1&b=%20#frag mailto:luna@example.org',
  '\u0000\u0001\u007f\u00a0\u2028\u2029\ufeff zero-width\u200bjoined',
  // Where JavaScript's \s differs from Unicode White_Space (NEL, BOM), and (?i)s matching ſ.
  '  \u0085\n x a\u0085 b\u0085\u0085c \u0085 \ufeff\ufeff y \ufeff\n\ufeff',
  "it'ſ he'S we'LL I'Ve",
];
/** Long runs without a break: one BPE piece each, the slow case of BPE merging. */
const LONG_RUNS = ['a'.repeat(1500), '🙂'.repeat(300)];
const ALL = [...CORPUS, ...LONG_RUNS];

function mixedText(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  let i = 0;
  while (size < bytes) {
    const part = `${CORPUS[i % CORPUS.length]}\nParagraph ${i}: The quick brown fox ${i * 7919} jumps.\n`;
    parts.push(part);
    size += Buffer.byteLength(part);
    i++;
  }
  return parts.join('');
}

/** Above the native implementation's parallel threshold (256 KiB). */
const LARGE = mixedText(300_000);

describe('preloading a vocabulary', () => {
  // The vocabulary of a process is loaded once: a process of its own, on the built package.
  const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  it.each(testImplementations())(
    'gives the first call the same ids, loaded or still loading (%s)',
    (impl) => {
      const script = `
        const { createTokenizer, preloadVocabulary } = await import(${JSON.stringify(dist)});
        preloadVocabulary({ encoding: 'nope' });
        preloadVocabulary({ encoding: 'o200k_base', native: '${impl}' });
        preloadVocabulary({ encoding: 'o200k_base', native: '${impl}' });
        const t = createTokenizer({ encoding: 'o200k_base', native: '${impl}' });
        const now = [...t.encode('hello world')];
        await new Promise((r) => setTimeout(r, 200));
        process.stdout.write(JSON.stringify([now, [...t.encode('hello world')]]));
      `;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      expect(child.stderr).toBe('');
      expect(JSON.parse(child.stdout)).toEqual([
        [24912, 2375],
        [24912, 2375],
      ]);
    },
  );
});

describe.each(testImplementations())('tokens (%s)', (impl) => {
  const tokenizers = {} as Record<EncodingName, Tokenizer>;
  beforeAll(() => {
    for (const encoding of ENCODINGS)
      tokenizers[encoding] = createTokenizer({ encoding, native: impl });
  });

  it('runs the requested implementation', () => {
    expect(tokenizers.o200k_base.implementation).toBe(impl);
    expect(tokenizers.o200k_base.report.core).toBe('@aios/luna');
  });

  it('knows the vocabulary sizes the native vocabularies have', () => {
    const { binding } = loadLunaBinding(impl);
    for (const encoding of ENCODINGS) {
      expect(tokenizers[encoding].vocabularySize).toBe(VOCABULARY_SIZE[encoding]);
      if (binding) expect(binding.vocabularySize(encoding)).toBe(VOCABULARY_SIZE[encoding]);
    }
  });

  it('gives the known ids', () => {
    expect([...tokenizers.cl100k_base.encode('hello world')]).toEqual([15339, 1917]);
    expect([...tokenizers.o200k_base.encode('hello world')]).toEqual([24912, 2375]);
  });

  it.each(ENCODINGS)('matches tiktoken on a varied corpus (%s)', (encoding) => {
    const tokenizer = tokenizers[encoding];
    for (const text of ALL) {
      const expected = referenceIds(encoding, text);
      expect([...tokenizer.encode(text)], JSON.stringify(text.slice(0, 40))).toEqual(expected);
      expect(tokenizer.count(text)).toBe(expected.length);
    }
  });

  it('encodes special-token-looking text as ordinary text', () => {
    const ids = tokenizers.cl100k_base.encode('<|endoftext|>');
    expect(ids).not.toContain(100257);
    expect(ids.length).toBeGreaterThan(1);
    expect(tokenizers.cl100k_base.decode(ids)).toBe('<|endoftext|>');
  });

  it('counts and encodes many texts in one call', async () => {
    for (const encoding of ENCODINGS) {
      const tokenizer = tokenizers[encoding];
      const expected = CORPUS.map((t) => referenceIds(encoding, t));
      expect([...tokenizer.countMany(CORPUS)]).toEqual(expected.map((ids) => ids.length));
      expect([...(await tokenizer.countManyAsync(CORPUS))]).toEqual(
        expected.map((ids) => ids.length),
      );
      expect(tokenizer.encodeMany(CORPUS).map((ids) => [...ids])).toEqual(expected);
      expect([...tokenizer.countMany([])]).toEqual([]);
    }
  });

  it('encodes a large text (off the JS thread when native) exactly', async () => {
    const text = LARGE;
    const tokenizer = tokenizers.o200k_base;
    const sync = tokenizer.encode(text);
    const async = await tokenizer.encodeAsync(text);
    expect(async).toEqual(sync);
    expect(tokenizer.count(text)).toBe(sync.length);
    expect(await tokenizer.countAsync(text)).toBe(sync.length);
    expect([...(await tokenizer.countManyAsync([text, 'tail']))]).toEqual([sync.length, 1]);
  });

  it('decodes ids back to the text', () => {
    for (const encoding of ENCODINGS) {
      for (const text of CORPUS) {
        expect(tokenizers[encoding].decode(tokenizers[encoding].encode(text))).toBe(text);
      }
      expect(tokenizers[encoding].decode([])).toBe('');
    }
  });

  it('truncates to a token limit at a boundary', () => {
    const tokenizer = tokenizers.o200k_base;
    const text = 'One sentence here. Another one 😀 follows, and then 日本語 ends it.';
    const total = tokenizer.count(text);
    expect(tokenizer.truncate(text, total)).toEqual({ text, tokens: total, truncated: false });
    for (let limit = 0; limit < total; limit++) {
      const cut = tokenizer.truncate(text, limit);
      expect(cut.truncated).toBe(true);
      expect(cut.tokens).toBeLessThanOrEqual(limit);
      expect(tokenizer.count(cut.text)).toBe(cut.tokens);
      expect(text.startsWith(cut.text)).toBe(true);
      expect(cut.text).not.toContain('\uFFFD');
    }
  });

  it('rejects bad input with INVALID_INPUT naming the field', () => {
    const tokenizer = tokenizers.o200k_base;
    expect(() => tokenizer.encode(42 as unknown as string)).toThrow(
      /text: expected a string, got 42/,
    );
    expect(() => tokenizer.countMany(['ok', null] as unknown as string[])).toThrow(/texts\[1\]/);
    expect(() => tokenizer.countMany('no' as unknown as string[])).toThrow(
      /texts: expected an array/,
    );
    expect(() => tokenizer.decode([1, 199_998])).toThrow(
      /ids\[1\]: expected a token id below 199998/,
    );
    expect(() => tokenizer.decode([-1])).toThrow(/ids: expected/);
    expect(() => tokenizer.truncate('x', -1)).toThrow(/maxTokens/);
    expect(() => createTokenizer({ encoding: 'gpt2' as EncodingName, native: impl })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });
});

describe('native and js agree', () => {
  const impls = testImplementations();
  it.runIf(impls.length === 2)('on random and mixed text, ids and counts', () => {
    for (const encoding of ENCODINGS) {
      const native = createTokenizer({ encoding, native: 'native' });
      const js = createTokenizer({ encoding, native: 'js' });
      let seed = 12345;
      const random = () => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return seed;
      };
      const alphabet = [...'aZ9 \n\t.,;\'"-_/<|>()é日本😀🏽‍  \r'];
      const texts = Array.from({ length: 60 }, (_, n) =>
        Array.from(
          { length: 1 + ((n * 37) % 400) },
          () => alphabet[random() % alphabet.length],
        ).join(''),
      );
      texts.push(LARGE, 'lone \ud800 surrogates \udc00x\ud83d', `${'🙂'.repeat(3)}\ud83d`);
      expect(native.vocabularySize).toBe(js.vocabularySize);
      expect([...native.countMany(texts)]).toEqual([...js.countMany(texts)]);
      for (const text of texts) expect(native.encode(text)).toEqual(js.encode(text));
    }
  });
});
