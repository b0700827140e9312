import { searchTerms } from '@aios/utils';

const WORD = /[\p{Alphabetic}\p{N}]+/gu;

/**
 * Lowercased alphanumeric runs of `text` (Unicode `Alphabetic` or `Numeric`), the same rule
 * as the Rust `text::tokenize`.
 */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/**
 * The BM25 terms of `text`: `@aios/utils`' `searchTerms`, as the Rust
 * `text::lexical_tokens`. The embedder keeps `tokenize`.
 */
export const lexicalTokens: (text: string) => string[] = searchTerms;
