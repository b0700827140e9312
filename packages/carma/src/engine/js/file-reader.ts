import { endianness } from 'node:os';
import type { AiosError } from '@aios/utils';

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Reads little-endian values from an index file's bytes; past their end, the error of
 * `corrupt('truncated')` (each file names itself in its messages).
 */
export class FileReader {
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    private readonly corrupt: (what: string) => AiosError,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get atEnd(): boolean {
    return this.pos === this.bytes.length;
  }
  take(n: number): Uint8Array {
    if (this.pos + n > this.bytes.length) throw this.corrupt('truncated');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u32(): number {
    const at = this.pos;
    this.take(4);
    return this.view.getUint32(at, true);
  }
  f64(): number {
    const at = this.pos;
    this.take(8);
    return this.view.getFloat64(at, true);
  }
  u32s(count: number): Uint32Array {
    const raw = this.take(count * 4);
    const out = new Uint32Array(count);
    // Copied byte for byte: the buffer may not be 4-byte aligned.
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
  /**
   * `count` floats: a view on the bytes where they are aligned for one and the machine is
   * little-endian like the file (for bytes the caller owns and keeps: a loaded file's),
   * else a copy.
   */
  f32View(count: number): Float32Array {
    const at = this.bytes.byteOffset + this.pos;
    if (at % 4 !== 0 || !LITTLE_ENDIAN) return this.f32s(count);
    this.take(count * 4);
    return new Float32Array(this.bytes.buffer, at, count);
  }
  f32s(count: number): Float32Array {
    const raw = this.take(count * 4);
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(raw);
    return out;
  }
}
