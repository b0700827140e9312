import { type ImplementationReport, invalidInput, type NativeMode } from '@aios/utils';
import { loadLunaBinding } from '../binding.js';
import { createJsBackend } from './js.js';
import { createNativeBackend } from './native.js';
import {
  checkEncoding,
  checkIds,
  checkText,
  checkTexts,
  type EncodingName,
  type TokenizerBackend,
  VOCABULARY_SIZE,
} from './types.js';
import { vocabularyFile } from './vocabulary.js';

export { ENCODINGS, type EncodingName, VOCABULARY_SIZE } from './types.js';

/** A text cut to a token limit. */
export interface Truncated {
  text: string;
  /** Tokens of `text` (at most the limit). */
  tokens: number;
  truncated: boolean;
}

/**
 * Exact BPE tokens of one encoding. Every input is ordinary text: special tokens such as
 * `<|endoftext|>` are never produced, so user text cannot smuggle control tokens in.
 * Both implementations give identical ids.
 */
export interface Tokenizer {
  readonly encoding: EncodingName;
  readonly implementation: ImplementationReport['implementation'];
  readonly report: ImplementationReport;
  /** Number of ordinary tokens; valid ids are `0 .. vocabularySize - 1`. */
  readonly vocabularySize: number;
  encode(text: string): Uint32Array;
  /** Like `encode`; the native implementation encodes large texts off the JS thread. */
  encodeAsync(text: string): Promise<Uint32Array>;
  count(text: string): number;
  /** Like `count`; the native implementation counts large texts off the JS thread. */
  countAsync(text: string): Promise<number>;
  /** Token counts of many texts in one call. */
  countMany(texts: readonly string[]): Uint32Array;
  /** Like `countMany`; the native implementation counts large batches off the JS thread. */
  countManyAsync(texts: readonly string[]): Promise<Uint32Array>;
  /** Token ids of many texts in one call. */
  encodeMany(texts: readonly string[]): Uint32Array[];
  /** Text of token ids; a cut inside a character decodes to U+FFFD. */
  decode(ids: Uint32Array | readonly number[]): string;
  /** The longest prefix of `text` (cut at a token boundary) of at most `maxTokens` tokens. */
  truncate(text: string, maxTokens: number): Truncated;
}

export interface TokenizerOptions {
  /** Defaults to `o200k_base`. */
  encoding?: EncodingName;
  /** Overrides `AIOS_NATIVE` for this instance. */
  native?: NativeMode;
}

const TRAILING_REPLACEMENT = /\uFFFD+$/u;

/** Encodings whose vocabulary `preloadVocabulary` started loading. */
const preloading = new Set<string>();

/**
 * Starts loading an encoding's vocabulary off the JS thread (native implementation; the
 * 200k-token file takes about 40 ms to parse), so that the tokenizer's first call finds it
 * loaded, or waits only for the rest: a command that will count tokens calls this before it
 * opens the memory, and the two overlap. The js implementation parses on the JS thread
 * anyway: nothing is started. Never throws; a vocabulary that cannot be loaded is reported
 * by the first call that needs it.
 */
export function preloadVocabulary(options: TokenizerOptions = {}): void {
  try {
    const encoding = checkEncoding(options.encoding ?? 'o200k_base');
    const { binding } = loadLunaBinding(options.native);
    if (!binding || preloading.has(encoding)) return;
    preloading.add(encoding);
    binding.loadVocabularyAsync(encoding, vocabularyFile(encoding)).catch(() => undefined);
  } catch {
    // Reported by the first call that needs the vocabulary.
  }
}

export function createTokenizer(options: TokenizerOptions = {}): Tokenizer {
  const encoding = checkEncoding(options.encoding ?? 'o200k_base');
  const { binding, report } = loadLunaBinding(options.native);
  // Built on first use: loading an encoding's ranks costs hundreds of milliseconds in js,
  // which commands that never count tokens (memory, backup, health) should not pay.
  let built: TokenizerBackend | undefined;
  const backend = () =>
    (built ??= binding ? createNativeBackend(binding, encoding) : createJsBackend(encoding));
  const tokenizer: Tokenizer = {
    encoding,
    implementation: report.implementation,
    report,
    vocabularySize: VOCABULARY_SIZE[encoding],
    encode: (text) => backend().encode(checkText(text)),
    encodeAsync: async (text) => backend().encodeAsync(checkText(text)),
    count: (text) => backend().count(checkText(text)),
    countAsync: async (text) => (await backend().countBatchAsync([checkText(text)]))[0] ?? 0,
    countMany: (texts) => backend().countBatch(checkTexts(texts)),
    countManyAsync: async (texts) => backend().countBatchAsync(checkTexts(texts)),
    encodeMany(texts) {
      const { ids, offsets } = backend().encodeBatch(checkTexts(texts));
      const out: Uint32Array[] = [];
      for (let i = 0; i + 1 < offsets.length; i++) {
        out.push(ids.subarray(offsets[i], offsets[i + 1]));
      }
      return out;
    },
    decode: (ids) => backend().decode(checkIds(ids, encoding)),
    truncate(text, maxTokens) {
      checkText(text);
      if (!Number.isInteger(maxTokens) || maxTokens < 0) {
        throw invalidInput('maxTokens', maxTokens, 'a non-negative integer');
      }
      const ids = backend().encode(text);
      if (ids.length <= maxTokens) return { text, tokens: ids.length, truncated: false };
      // Decode a prefix of the ids; drop a character cut in half, and re-count (a prefix
      // re-encodes to at most as many tokens, but check rather than assume).
      for (let k = maxTokens; k > 0; k--) {
        const prefix = backend().decode(ids.subarray(0, k)).replace(TRAILING_REPLACEMENT, '');
        const tokens = backend().count(prefix);
        if (tokens <= maxTokens) return { text: prefix, tokens, truncated: true };
      }
      return { text: '', tokens: 0, truncated: true };
    },
  };
  return tokenizer;
}
