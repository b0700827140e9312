import type * as UtilsNative from '../../native/index.cjs';
import { fromNativeError } from '../errors.js';
import { type ContentHasher, type HashingBackend, toBytes } from './types.js';

export type UtilsBinding = typeof UtilsNative;

/**
 * Below this size a thread-pool round trip costs more than hashing on the JS thread
 * (BLAKE3 runs at several GB/s; 1 MiB takes ~0.2 ms).
 */
const OFF_THREAD_BYTES = 1024 * 1024;

class NativeContentHasher implements ContentHasher {
  constructor(private readonly inner: InstanceType<UtilsBinding['NativeHasher']>) {}
  update(data: Uint8Array | string): this {
    this.inner.update(toBytes(data));
    return this;
  }
  digest(): string {
    return this.inner.digest();
  }
  reset(): this {
    this.inner.reset();
    return this;
  }
}

/** The native implementation: the `blake3` crate through napi. */
export function createNativeBackend(binding: UtilsBinding): HashingBackend {
  return {
    hashSync: (data) => binding.hashBytes(data),
    async hash(data) {
      if (data.byteLength < OFF_THREAD_BYTES) return binding.hashBytes(data);
      try {
        return await binding.hashBytesAsync(data);
      } catch (error) {
        throw fromNativeError(error);
      }
    },
    async hashFile(path) {
      try {
        return await binding.hashFile(path);
      } catch (error) {
        throw fromNativeError(error);
      }
    },
    createHasher: async () => new NativeContentHasher(new binding.NativeHasher()),
  };
}
