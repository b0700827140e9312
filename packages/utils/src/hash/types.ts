import { invalidInput } from '../errors.js';

/** Bytes, or a string hashed as its UTF-8 encoding. */
export type BinaryLike = Uint8Array | string;

/** An incremental BLAKE3 hasher for data that arrives in pieces. */
export interface ContentHasher {
  update(data: BinaryLike): this;
  /** Hex digest of everything fed so far; the hasher stays usable. */
  digest(): string;
  reset(): this;
}

/** What each implementation provides; the facade adds validation and error mapping. */
export interface HashingBackend {
  hashSync(data: Uint8Array): string;
  hash(data: Uint8Array): Promise<string>;
  hashFile(path: string): Promise<string>;
  createHasher(): Promise<ContentHasher>;
}

const encoder = new TextEncoder();

export function toBytes(data: unknown, field = 'data'): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return encoder.encode(data);
  throw invalidInput(field, data, 'a Uint8Array, Buffer or string');
}
