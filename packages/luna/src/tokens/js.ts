import { createRequire } from 'node:module';
import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';
import type { EncodedBatch, EncodingName, TokenizerBackend } from './types.js';

const require = createRequire(import.meta.url);

/**
 * Unicode White_Space, what `\s` means in tiktoken's (Rust) regular expressions. JavaScript's
 * `\s` differs: it lacks U+0085 (NEL) and adds U+FEFF (BOM), so js-tiktoken's own pattern
 * cuts text around those characters differently from tiktoken.
 */
const WHITE_SPACE =
  '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/**
 * tiktoken's pattern with JavaScript semantics made equal to Rust's: `\s`/`\S` spelled out
 * as White_Space, and `(?i)'s` also matching `'ſ` (U+017F folds to s).
 */
export function exactPattern(pattern: string): string {
  return pattern
    .replaceAll('[^\\s\\p{L}\\p{N}]', `[^${WHITE_SPACE}\\p{L}\\p{N}]`)
    .replaceAll('\\S', `[^${WHITE_SPACE}]`)
    .replaceAll('\\s', `[${WHITE_SPACE}]`)
    .replaceAll("'s|'S|", "'s|'S|'\u017f|");
}

/** Most pieces kept in an encoding's cache of piece -> ids (then it starts over). */
const CACHE_LIMIT = 100_000;

interface JsEncoder {
  bpe: Tiktoken;
  pattern: RegExp;
  cache: Map<string, number[]>;
}

// Built on first use: parsing a vocabulary takes a moment, and most processes need one.
const encoders = new Map<EncodingName, JsEncoder>();

function encoder(encoding: EncodingName): JsEncoder {
  let found = encoders.get(encoding);
  if (!found) {
    const { Tiktoken: TiktokenClass } = require('js-tiktoken/lite') as {
      Tiktoken: new (ranks: TiktokenBPE) => Tiktoken;
    };
    // The CommonJS build of a vocabulary exports the ranks object itself.
    const ranks = require(`js-tiktoken/ranks/${encoding}`) as TiktokenBPE;
    const pat_str = exactPattern(ranks.pat_str);
    found = {
      bpe: new TiktokenClass({ ...ranks, pat_str }),
      pattern: new RegExp(pat_str, 'gu'),
      cache: new Map(),
    };
    encoders.set(encoding, found);
  }
  return found;
}

// Every input is ordinary text: text that looks like a special token is encoded as the
// characters it is made of, never as a control token (and never throws).
const NO_SPECIAL: string[] = [];

/**
 * The js implementation: js-tiktoken, the JavaScript port of OpenAI's tiktoken, with the
 * vocabularies its package ships.
 */
export function createJsBackend(encoding: EncodingName): TokenizerBackend {
  const { bpe, pattern, cache } = encoder(encoding);
  // Pieces repeat (words, indentation): each distinct piece is merged by js-tiktoken once,
  // then looked up. A piece encodes alone as it does in context (the pattern cuts it whole).
  const pieceIds = (piece: string): number[] => {
    let ids = cache.get(piece);
    if (ids === undefined) {
      ids = bpe.encode(piece, NO_SPECIAL, NO_SPECIAL);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(piece, ids);
    }
    return ids;
  };
  const encodeArray = (text: string): number[] => {
    const out: number[] = [];
    for (const match of text.matchAll(pattern)) {
      const ids = pieceIds(match[0]);
      for (let i = 0; i < ids.length; i++) out.push(ids[i] as number);
    }
    return out;
  };
  const countText = (text: string): number => {
    let n = 0;
    for (const match of text.matchAll(pattern)) n += pieceIds(match[0]).length;
    return n;
  };
  const encode = (text: string) => Uint32Array.from(encodeArray(text));
  const count = (text: string) => (text === '' ? 0 : countText(text));
  const countBatch = (texts: string[]) => Uint32Array.from(texts, count);
  return {
    encode,
    encodeAsync: async (text) => encode(text),
    count,
    countBatch,
    countBatchAsync: async (texts) => countBatch(texts),
    encodeBatch(texts): EncodedBatch {
      const parts = texts.map(encodeArray);
      const offsets = new Uint32Array(texts.length + 1);
      let total = 0;
      parts.forEach((part, i) => {
        total += part.length;
        offsets[i + 1] = total;
      });
      const ids = new Uint32Array(total);
      parts.forEach((part, i) => {
        ids.set(part, offsets[i]);
      });
      return { ids, offsets };
    },
    decode: (ids) => bpe.decode(Array.from(ids)),
  };
}
