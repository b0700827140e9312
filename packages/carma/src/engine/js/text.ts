const WORD = /[\p{Alphabetic}\p{N}]+/gu;

/**
 * Lowercased alphanumeric runs of `text` (Unicode `Alphabetic` or `Numeric`), the same rule
 * as the Rust `text::tokenize`.
 */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}
