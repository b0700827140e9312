import type * as UtilsNative from '../../native/index.cjs';
import { callNative } from '../native/call.js';
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
    callNative(() => this.inner.update(toBytes(data)));
    return this;
  }
  digest(): string {
    return callNative(() => this.inner.digest());
  }
  reset(): this {
    callNative(() => this.inner.reset());
    return this;
  }
}

/** The native implementation: the `blake3` crate through napi. */
export function createNativeBackend(binding: UtilsBinding): HashingBackend {
  return {
    hashSync: (data) => callNative(() => binding.hashBytes(data)),
    async hash(data) {
      if (data.byteLength < OFF_THREAD_BYTES) return callNative(() => binding.hashBytes(data));
      return callNative(() => binding.hashBytesAsync(data));
    },
    async hashFile(path) {
      return callNative(() => binding.hashFile(path));
    },
    createHasher: async () => new NativeContentHasher(callNative(() => new binding.NativeHasher())),
  };
}
