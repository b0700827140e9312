import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import type { EncodingName } from './types.js';

const require = createRequire(import.meta.url);

/**
 * The bytes of an encoding's vocabulary file: OpenAI's tiktoken file (one
 * `base64(token) rank` line per token), gzip'd, shipped once in this package's vocab/
 * folder and read by both implementations (the native one parses it in Rust).
 */
export function vocabularyFile(encoding: EncodingName): Buffer {
  return readFileSync(require.resolve(`@aios/luna/vocab/${encoding}.tiktoken.gz`));
}

/** An encoding's ordinary tokens for the js implementation. */
export interface JsVocabulary {
  /** Token bytes, as a latin1 string (one char per byte), to id. */
  ranks: Map<string, number>;
  /** `tokens[id]`: the bytes of token `id`. */
  tokens: Uint8Array[];
}

/** Parses a vocabulary file; ranks run 0, 1, 2... in file order. */
export function parseVocabulary(gzipped: Uint8Array): JsVocabulary {
  const text = gunzipSync(gzipped).toString('latin1');
  const ranks = new Map<string, number>();
  const tokens: Uint8Array[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const space = text.indexOf(' ', start);
    if (end > start) {
      const bytes = Buffer.from(text.slice(start, space), 'base64');
      ranks.set(bytes.toString('latin1'), tokens.length);
      tokens.push(bytes);
    }
    start = end + 1;
  }
  return { ranks, tokens };
}
