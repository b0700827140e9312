import { loadUtilsBinding } from '../binding.js';
import { invalidInput } from '../errors.js';
import type { ImplementationReport, NativeMode } from '../native/index.js';
import { createJsBackend } from './js.js';
import { createNativeBackend } from './native.js';
import { type BinaryLike, type ContentHasher, toBytes } from './types.js';

export type { BinaryLike, ContentHasher } from './types.js';

/** BLAKE3 content ids (lowercase hex, 64 chars) of bytes, strings and files. */
export interface Hashing {
  readonly implementation: ImplementationReport['implementation'];
  readonly report: ImplementationReport;
  /** Hash on the calling thread. Fine for small inputs. */
  hashSync(data: BinaryLike): string;
  /** Hash; large inputs are hashed off the JS thread by the native implementation. */
  hash(data: BinaryLike): Promise<string>;
  /** Hash a file's contents without loading it whole into JS memory. */
  hashFile(path: string): Promise<string>;
  /** An incremental hasher. */
  createHasher(): Promise<ContentHasher>;
}

export interface HashingOptions {
  /** Overrides `AIOS_NATIVE` for this instance. */
  native?: NativeMode;
}

export async function createHashing(options: HashingOptions = {}): Promise<Hashing> {
  const { binding, report } = loadUtilsBinding(options.native);
  const backend = binding ? createNativeBackend(binding) : await createJsBackend();
  return {
    implementation: report.implementation,
    report,
    hashSync: (data) => backend.hashSync(toBytes(data)),
    hash: async (data) => backend.hash(toBytes(data)),
    hashFile: async (path) => {
      if (typeof path !== 'string' || path === '') {
        throw invalidInput('path', path, 'a non-empty file path');
      }
      return backend.hashFile(path);
    },
    createHasher: () => backend.createHasher(),
  };
}

let shared: Promise<Hashing> | undefined;

/** The process-wide instance behind `contentId` and `hashFile` (mode from `AIOS_NATIVE`). */
export function defaultHashing(): Promise<Hashing> {
  shared ??= createHashing().catch((error: unknown) => {
    shared = undefined; // let a later call retry, e.g. after AIOS_NATIVE changed
    throw error;
  });
  return shared;
}

/** BLAKE3 hex content id of bytes or a UTF-8 string. */
export async function contentId(data: BinaryLike): Promise<string> {
  return (await defaultHashing()).hash(data);
}

/** BLAKE3 hex checksum of a file. */
export async function hashFile(path: string): Promise<string> {
  return (await defaultHashing()).hashFile(path);
}
