import { fromNativeError } from '@aios/utils';
import type { LunaBinding } from '../binding.js';
import type { EncodingName, TokenizerBackend } from './types.js';
import { vocabularyFile } from './vocabulary.js';

/**
 * Below this many UTF-16 code units a thread-pool round trip costs more than encoding on
 * the JS thread (the Rust encoder does ~100 kB in well under a millisecond).
 */
const OFF_THREAD_CHARS = 64 * 1024;

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw fromNativeError(error);
  }
}

/**
 * The native implementation: crates/luna through napi. It reads the same vocabulary file as
 * the js one, handed over once per process (the binary carries no vocabulary).
 */
export function createNativeBackend(
  binding: LunaBinding,
  encoding: EncodingName,
): TokenizerBackend {
  wrap(() => binding.loadVocabulary(encoding, vocabularyFile(encoding)));
  return {
    encode: (text) => wrap(() => binding.encode(encoding, text)),
    async encodeAsync(text) {
      if (text.length < OFF_THREAD_CHARS) return wrap(() => binding.encode(encoding, text));
      try {
        return await binding.encodeAsync(encoding, text);
      } catch (error) {
        throw fromNativeError(error);
      }
    },
    count: (text) => wrap(() => binding.count(encoding, text)),
    countBatch: (texts) => wrap(() => binding.countBatch(encoding, texts)),
    async countBatchAsync(texts) {
      let size = 0;
      for (const text of texts) size += text.length;
      if (size < OFF_THREAD_CHARS) return wrap(() => binding.countBatch(encoding, texts));
      try {
        return await binding.countBatchAsync(encoding, texts);
      } catch (error) {
        throw fromNativeError(error);
      }
    },
    encodeBatch: (texts) => wrap(() => binding.encodeBatch(encoding, texts)),
    decode: (ids) => wrap(() => binding.decode(encoding, ids)),
  };
}
