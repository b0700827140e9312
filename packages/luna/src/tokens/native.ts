import { callNative } from '@aios/utils';
import type { LunaBinding } from '../binding.js';
import type { EncodingName, TokenizerBackend } from './types.js';
import { vocabularyFile } from './vocabulary.js';

/**
 * Below this many UTF-16 code units a thread-pool round trip costs more than encoding on
 * the JS thread (the Rust encoder does ~100 kB in well under a millisecond).
 */
const OFF_THREAD_CHARS = 64 * 1024;

/**
 * The native implementation: crates/luna through napi. It reads the same vocabulary file as
 * the js one, handed over once per process (the binary carries no vocabulary).
 */
export function createNativeBackend(
  binding: LunaBinding,
  encoding: EncodingName,
): TokenizerBackend {
  callNative(() => binding.loadVocabulary(encoding, vocabularyFile(encoding)));
  return {
    encode: (text) => callNative(() => binding.encode(encoding, text)),
    async encodeAsync(text) {
      if (text.length < OFF_THREAD_CHARS) return callNative(() => binding.encode(encoding, text));
      return callNative(() => binding.encodeAsync(encoding, text));
    },
    count: (text) => callNative(() => binding.count(encoding, text)),
    countBatch: (texts) => callNative(() => binding.countBatch(encoding, texts)),
    async countBatchAsync(texts) {
      let size = 0;
      for (const text of texts) size += text.length;
      if (size < OFF_THREAD_CHARS) return callNative(() => binding.countBatch(encoding, texts));
      return callNative(() => binding.countBatchAsync(encoding, texts));
    },
    encodeBatch: (texts) => callNative(() => binding.encodeBatch(encoding, texts)),
    decode: (ids) => callNative(() => binding.decode(encoding, ids)),
  };
}
