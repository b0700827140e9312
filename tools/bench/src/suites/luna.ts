import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openMemory } from '@aios/carma';
import {
  assemblePrompt,
  carmaMemory,
  classifyQuestion,
  createTokenizer,
  DEFAULT_TRAITS,
  generationSettings,
  type MemoryFragment,
  type MemoryProvider,
  systemPrompt,
  type Tokenizer,
} from '@aios/luna';
import * as gptTokenizer from 'gpt-tokenizer/encoding/o200k_base';
import { Tiktoken } from 'js-tiktoken/lite';
import o200kRanks from 'js-tiktoken/ranks/o200k_base';
import { measure } from '../measure.js';
import type { BenchResult, Suite } from '../types.js';
import { generateCorpus } from './carma.js';

const MiB = 1024 * 1024;

/** Prose, code, CJK, emoji, whitespace runs and special-token-looking text, repeated. */
const PIECES = [
  'The quick brown fox jumps over the lazy dog. It was not amused; the dog, however, slept on.',
  "Luna answers questions with CARMA's memory, within a token budget, in her own voice.",
  'export function add(a: number, b: number): number {\n  return a + b; // sum\n}\n',
  'fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * 2).collect();\n    println!("{v:?}");\n}\n',
  '日本語のテキストと中文文本，还有한국어 텍스트。',
  'emoji 😀👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵',
  `${' '.repeat(24)}indented\n\n\n\t\ttabs   trailing   \n`,
  '<|endoftext|> <|im_start|>user hello<|im_end|>',
  'Numbers 1234567890, 3.14159, 1e-10 and https://example.com/path?q=1&x=2#frag.',
];

function mixedText(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const part = `${PIECES[i % PIECES.length]} ${i}\n`;
    parts.push(part);
    size += Buffer.byteLength(part);
  }
  return parts.join('');
}

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const lunaSuite: Suite = {
  name: 'luna',
  description: 'o200k_base token counting and the retrieve + budget + prompt path',
  async run({ quick, scratch, log }) {
    const results: BenchResult[] = [];
    const native = createTokenizer({ native: 'native' });
    const js = createTokenizer({ native: 'js' });
    const tiktoken = new Tiktoken(o200kRanks);
    const ordinary = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };

    // 1. Counting a large mixed text.
    const bytes = quick ? MiB / 4 : MiB;
    const text = mixedText(bytes);
    const expected = native.encode(text);
    const peers = {
      js: () => js.encode(text),
      'js-tiktoken': () => tiktoken.encode(text, [], []),
      'gpt-tokenizer': () => gptTokenizer.encode(text, ordinary),
    };
    // Every subject must give the same ids, or its figure means nothing.
    for (const [name, fn] of Object.entries(peers)) {
      if (!same(fn(), expected)) throw new Error(`${name} disagrees with native on the ids`);
    }
    const label = quick ? '256KiB' : '1MiB';
    log(`counting ${label} of mixed text (${expected.length} tokens)`);
    const counted = await measure(
      [
        { subject: 'native', fn: () => native.count(text) },
        { subject: 'js', fn: () => js.count(text) },
        { subject: 'js-tiktoken', fn: () => tiktoken.encode(text, [], []).length },
        { subject: 'gpt-tokenizer', fn: () => gptTokenizer.countTokens(text, ordinary) },
      ],
      { timeMs: quick ? 150 : 3000, warmupMs: quick ? 50 : 500 },
    );
    for (const m of counted) {
      const params = {
        bytes: Buffer.byteLength(text),
        tokens: expected.length,
        encoding: 'o200k_base',
      };
      results.push(
        {
          suite: 'luna',
          case: `count-${label}`,
          subject: m.subject,
          metric: 'mb_per_s',
          value: Buffer.byteLength(text) / MiB / (m.p50_ms / 1000),
          params,
        },
        {
          suite: 'luna',
          case: `count-${label}`,
          subject: m.subject,
          metric: 'tokens_per_s',
          value: expected.length / (m.p50_ms / 1000),
          params,
        },
      );
    }

    // 2. Counting many short texts (500 characters of the mixed text) in one call.
    const many = Array.from({ length: quick ? 500 : 2000 }, (_, i) =>
      text.slice((i * 523) % (text.length - 600), ((i * 523) % (text.length - 600)) + 500),
    );
    const manyBytes = many.reduce((s, t) => s + Buffer.byteLength(t), 0);
    if (!same(native.countMany(many), js.countMany(many))) throw new Error('countMany disagrees');
    log(`counting ${many.length} fragments in one call`);
    const batched = await measure(
      [
        { subject: 'native', fn: () => native.countMany(many) },
        { subject: 'js', fn: () => js.countMany(many) },
        { subject: 'js-tiktoken', fn: () => many.map((t) => tiktoken.encode(t, [], []).length) },
        {
          subject: 'gpt-tokenizer',
          fn: () => many.map((t) => gptTokenizer.countTokens(t, ordinary)),
        },
      ],
      { timeMs: quick ? 150 : 1500 },
    );
    for (const m of batched) {
      results.push({
        suite: 'luna',
        case: `count-batch-${many.length}`,
        subject: m.subject,
        metric: 'mb_per_s',
        value: manyBytes / MiB / (m.p50_ms / 1000),
        params: { texts: many.length, bytes: manyBytes },
      });
    }

    // 3. Retrieval + budget + prompt assembly over a CARMA memory as a home holds it
    // (fragments in SQLite, index files in its directory), through Luna's provider; no LLM.
    const size = quick ? 10_000 : 100_000;
    const texts = generateCorpus(size, 1);
    const questions = generateCorpus(64, 2, 4, 12);
    const persona = systemPrompt(DEFAULT_TRAITS);
    const path = (memory: MemoryProvider, tokenizer: Tokenizer) => {
      let i = 0;
      return async () => {
        const question = questions[i++ % questions.length] as string;
        const found = await memory.search(question, { k: 8 });
        const needs = classifyQuestion(question);
        const settings = generationSettings(DEFAULT_TRAITS, needs.replyTokens);
        return assemblePrompt({
          tokenizer,
          contextWindow: 8192,
          replyTokens: settings.maxTokens,
          persona,
          question,
          fragments: found,
        });
      };
    };
    const retrieveOnly = (memory: MemoryProvider) => {
      let i = 0;
      return () => memory.search(questions[i++ % questions.length] as string, { k: 8 });
    };
    let found: MemoryFragment[] = [];
    // One memory, written by the native implementation and opened by each (both read the
    // same database and index files); the js insert path is far slower than its search.
    const dir = join(scratch, 'luna-carma');
    mkdirSync(dir, { recursive: true });
    log(`adding ${size} fragments to a CARMA memory in ${dir}`);
    const writer = await openMemory({ dir, native: 'native' });
    try {
      for (let i = 0; i < size; i += 5000) {
        await writer.addMany(texts.slice(i, i + 5000).map((text) => ({ text })));
      }
    } finally {
      await writer.close();
    }
    for (const [subject, tokenizer] of [
      ['native', native],
      ['js', js],
    ] as const) {
      const carma = await openMemory({ dir, native: subject });
      try {
        if (carma.size !== size) throw new Error(`${subject}: opened ${carma.size} fragments`);
        const memory = carmaMemory(carma);
        found = await memory.search(questions[0] as string, { k: 8 });
        if (found.length === 0) throw new Error(`${subject}: the CARMA memory found nothing`);
        log(`${subject}: retrieve + budget + prompt over ${size} fragments`);
        const timed = await measure(
          [
            { subject, fn: path(memory, tokenizer) },
            { subject: `${subject}:retrieve`, fn: retrieveOnly(memory) },
          ],
          { timeMs: quick ? 300 : 2000 },
        );
        const params = {
          fragments: size,
          k: 8,
          contextWindow: 8192,
          memory: 'CARMA (SQLite + index files, hybrid), carma corpus',
        };
        for (const m of timed) {
          const retrieve = m.subject.endsWith(':retrieve');
          results.push({
            suite: 'luna',
            case: retrieve ? `retrieve-${size / 1000}k` : `ask-path-${size / 1000}k`,
            subject,
            metric: 'p50_ms',
            value: m.p50_ms,
            params,
          });
        }
      } finally {
        await carma.close();
      }
    }
    const assembleOnly = (tokenizer: Tokenizer) => () =>
      assemblePrompt({
        tokenizer,
        contextWindow: 8192,
        replyTokens: 500,
        persona,
        question: questions[0] as string,
        fragments: found,
      });
    const assembled = await measure(
      [
        { subject: 'native', fn: assembleOnly(native) },
        { subject: 'js', fn: assembleOnly(js) },
      ],
      { timeMs: quick ? 150 : 1000 },
    );
    for (const m of assembled) {
      results.push({
        suite: 'luna',
        case: 'prompt-assembly-k8',
        subject: m.subject,
        metric: 'p50_ms',
        value: m.p50_ms,
        params: { k: 8, contextWindow: 8192 },
      });
    }
    return results;
  },
};
