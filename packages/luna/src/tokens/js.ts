import type { EncodedBatch, EncodingName, TokenizerBackend } from './types.js';
import { type JsVocabulary, parseVocabulary, vocabularyFile } from './vocabulary.js';

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

/** tiktoken's patterns (JavaScript spelling of the case-insensitive contractions). */
const PATTERNS: Record<EncodingName, string> = {
  o200k_base:
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  cl100k_base:
    "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

/** Most pieces kept in an encoding's cache of piece -> ids (then it starts over). */
const CACHE_LIMIT = 100_000;

interface JsEncoder {
  vocabulary: JsVocabulary;
  pattern: RegExp;
  cache: Map<string, number[]>;
}

// Built on first use: parsing a vocabulary takes a moment, and most processes need one.
const encoders = new Map<EncodingName, JsEncoder>();

function encoder(encoding: EncodingName): JsEncoder {
  let found = encoders.get(encoding);
  if (!found) {
    found = {
      vocabulary: parseVocabulary(vocabularyFile(encoding)),
      pattern: new RegExp(exactPattern(PATTERNS[encoding]), 'gu'),
      cache: new Map(),
    };
    encoders.set(encoding, found);
  }
  return found;
}

const MAX_RANK = Number.MAX_SAFE_INTEGER;

/**
 * Byte-pair merging of one piece (given as a latin1 string of its UTF-8 bytes), as tiktoken
 * does it: from single bytes, merge the adjacent pair of lowest rank until none is a token.
 */
export function bytePairEncode(ranks: Map<string, number>, piece: string): number[] {
  const whole = ranks.get(piece);
  if (whole !== undefined) return [whole];
  const starts: number[] = [];
  const pairRanks: number[] = [];
  for (let i = 0; i < piece.length - 1; i++) {
    starts.push(i);
    pairRanks.push(ranks.get(piece.slice(i, i + 2)) ?? MAX_RANK);
  }
  starts.push(piece.length - 1, piece.length);
  pairRanks.push(MAX_RANK, MAX_RANK);
  const rankAt = (i: number) =>
    i + 3 < starts.length
      ? (ranks.get(piece.slice(starts[i] as number, starts[i + 3] as number)) ?? MAX_RANK)
      : MAX_RANK;
  for (;;) {
    let min = MAX_RANK;
    let at = -1;
    for (let i = 0; i < pairRanks.length - 1; i++) {
      const rank = pairRanks[i] as number;
      if (rank < min) {
        min = rank;
        at = i;
      }
    }
    if (at < 0) break;
    if (at > 0) pairRanks[at - 1] = rankAt(at - 1);
    pairRanks[at] = rankAt(at);
    starts.splice(at + 1, 1);
    pairRanks.splice(at + 1, 1);
  }
  const ids: number[] = [];
  for (let i = 0; i + 1 < starts.length; i++) {
    ids.push(ranks.get(piece.slice(starts[i] as number, starts[i + 1] as number)) as number);
  }
  return ids;
}

/**
 * The js implementation: tiktoken's algorithm (pattern, then byte-pair merges) over the
 * vocabulary files this package ships, the ones the native implementation reads.
 */
export function createJsBackend(encoding: EncodingName): TokenizerBackend {
  const { vocabulary, pattern, cache } = encoder(encoding);
  const { ranks, tokens } = vocabulary;
  // Pieces repeat (words, indentation): each distinct piece is merged once, then looked up.
  // A piece encodes alone as it does in context (the pattern cuts it whole).
  const pieceIds = (piece: string): number[] => {
    let ids = cache.get(piece);
    if (ids === undefined) {
      ids = bytePairEncode(ranks, Buffer.from(piece, 'utf8').toString('latin1'));
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
    decode(ids) {
      let length = 0;
      for (const id of ids) length += (tokens[id] as Uint8Array).length;
      const bytes = new Uint8Array(length);
      let at = 0;
      for (const id of ids) {
        const token = tokens[id] as Uint8Array;
        bytes.set(token, at);
        at += token.length;
      }
      return new TextDecoder().decode(bytes);
    },
  };
}
