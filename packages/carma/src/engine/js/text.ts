import { hasUnspaced, termRuns, unspacedTerms } from '@aios/utils';

const WORD = /[\p{Alphabetic}\p{N}]+/gu;

/**
 * Lowercased alphanumeric runs of `text` (Unicode `Alphabetic` or `Numeric`), the same rule
 * as the Rust `text::tokenize`.
 */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/**
 * The BM25 terms of `text`: its runs of letters, digits and combining marks (`termRuns`),
 * those in scripts written without spaces as their overlapping pairs of characters
 * (`unspacedTerms`), as the Rust `text::lexical_tokens`. The embedder keeps `tokenize`.
 */
export function lexicalTokens(text: string): string[] {
  const runs = termRuns(text.toLowerCase());
  return hasUnspaced(text) ? unspacedTerms(runs) : runs;
}
