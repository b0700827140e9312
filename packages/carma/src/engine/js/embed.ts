import { tokenize } from './text.js';

/**
 * The built-in offline embedder in TypeScript: the same features, hashes and weights as
 * crates/carma/src/embed.rs (see there), so both implementations give the same vectors
 * within float rounding.
 */
export const WORD_WEIGHT = 1.0;
export const BIGRAM_WEIGHT = 0.25;
export const CHAR_WEIGHT = 1.0;
const CHAR_NGRAM_MIN = 3;
const CHAR_NGRAM_MAX = 5;
const MAX_WORD_CHARS = 64;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnvUnit(h: number, unit: number): number {
  return Math.imul(h ^ unit, FNV_PRIME) >>> 0;
}

function fnvStr(h: number, s: string): number {
  let x = h;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), FNV_PRIME);
  return x >>> 0;
}

export function fmix32(input: number): number {
  let h = input >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const TAG_WORD = fnvUnit(FNV_OFFSET, 1);
const TAG_BIGRAM = fnvUnit(FNV_OFFSET, 2);
const TAG_CHAR = fnvUnit(FNV_OFFSET, 3);

interface Feature {
  count: number;
  weight: number;
}

function count(map: Map<number, Feature>, h: number, weight: number): void {
  const f = map.get(h);
  if (f) {
    f.count++;
    f.weight += weight;
  } else map.set(h, { count: 1, weight });
}

/** Feature value: sublinear tf times the mean weight of its occurrences. */
function value(f: Feature): number {
  return (1 + Math.log(f.count)) * (f.weight / f.count);
}

function addFamily(out: Float64Array, features: Map<number, Feature>, weight: number): void {
  if (features.size === 0) return;
  let sq = 0;
  for (const f of features.values()) {
    const w = value(f);
    sq += w * w;
  }
  if (!(sq > 0)) return;
  const scale = weight / Math.sqrt(sq);
  const dim = out.length;
  for (const [h, f] of features) {
    const bucket = h % dim;
    const sign = (fmix32((h ^ 0x9e3779b9) >>> 0) & 1) === 1 ? -1 : 1;
    out[bucket] = (out[bucket] ?? 0) + sign * scale * value(f);
  }
}

/**
 * Embeds one text into `out` (its length is the dimension). `tokenWeights` (in `tokenize`
 * order; missing, negative or non-finite ones count 1) scale each word's features, its
 * character n-grams and (geometric mean) its bigrams.
 */
export function embedInto(text: string, out: Float32Array, tokenWeights?: ArrayLike<number>): void {
  embedTokensInto(tokenize(text), out, tokenWeights);
}

/** `embedInto` for a text already tokenised, so a query is tokenised once per search. */
export function embedTokensInto(
  tokens: string[],
  out: Float32Array,
  tokenWeights?: ArrayLike<number>,
): void {
  const weights = tokens.map((_, i) => {
    const w = tokenWeights?.[i];
    return w !== undefined && Number.isFinite(w) && w >= 0 ? w : 1;
  });
  const words = new Map<number, Feature>();
  const bigrams = new Map<number, Feature>();
  const grams = new Map<number, Feature>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    const w = weights[i] as number;
    count(words, fmix32(fnvStr(TAG_WORD, token)), w);
    if (i > 0) {
      const prev = tokens[i - 1] as string;
      const wb = Math.sqrt(w * (weights[i - 1] as number));
      count(bigrams, fmix32(fnvStr(fnvUnit(fnvStr(TAG_BIGRAM, prev), 0x20), token)), wb);
    }
    const chars = ['<', ...Array.from(token).slice(0, MAX_WORD_CHARS), '>'];
    for (let n = CHAR_NGRAM_MIN; n <= CHAR_NGRAM_MAX && n <= chars.length; n++) {
      for (let start = 0; start + n <= chars.length; start++) {
        let h = TAG_CHAR;
        for (let j = start; j < start + n; j++) h = fnvStr(h, chars[j] as string);
        count(grams, fmix32(h), w);
      }
    }
  }
  const acc = new Float64Array(out.length);
  addFamily(acc, words, WORD_WEIGHT);
  addFamily(acc, bigrams, BIGRAM_WEIGHT);
  addFamily(acc, grams, CHAR_WEIGHT);
  let sq = 0;
  for (let i = 0; i < acc.length; i++) sq += (acc[i] as number) * (acc[i] as number);
  const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  for (let i = 0; i < acc.length; i++) out[i] = (acc[i] as number) * inv;
}

export function embedBatch(texts: string[], dimension: number): Float32Array {
  const out = new Float32Array(texts.length * dimension);
  for (let i = 0; i < texts.length; i++) {
    embedInto(texts[i] as string, out.subarray(i * dimension, (i + 1) * dimension));
  }
  return out;
}
