import { cjkTerms, hasCjk } from '@aios/utils';

const WORD = /[\p{Alphabetic}\p{N}]+/gu;

/**
 * Lowercased alphanumeric runs of `text` (Unicode `Alphabetic` or `Numeric`), the same rule
 * as the Rust `text::tokenize`.
 */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/**
 * The BM25 terms of `text`: `tokenize`'s runs, those in scripts written without spaces
 * (Han, kana, Hangul) as their overlapping pairs of characters (`cjkTerms`), as the Rust
 * `text::lexical_tokens`. The embedder keeps the whole runs.
 */
export function lexicalTokens(text: string): string[] {
  const runs = tokenize(text);
  return hasCjk(text) ? cjkTerms(runs) : runs;
}
