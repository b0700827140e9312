import { AiosError } from '@aios/utils';
import { describe, expect, it } from 'vitest';
import { FileReader } from './file-reader.js';

const corrupt = (what: string) => new AiosError('INDEX_CORRUPT', what);

describe('FileReader', () => {
  it('hands out aligned floats as a view on the bytes, others as a copy', () => {
    const floats = Float32Array.of(1.5, -2, 3.25);
    const bytes = new Uint8Array(4 + floats.byteLength);
    bytes.set(new Uint8Array(floats.buffer), 4);
    const view = new FileReader(bytes, 4, corrupt).f32View(3);
    expect(Array.from(view)).toEqual([1.5, -2, 3.25]);
    expect(view.buffer).toBe(bytes.buffer); // the file's bytes, not a second copy
    const copy = new FileReader(bytes, 4, corrupt).f32s(3);
    expect(copy.buffer).not.toBe(bytes.buffer);
    // Not aligned for a Float32Array: copied.
    const odd = new Uint8Array(1 + floats.byteLength);
    odd.set(new Uint8Array(floats.buffer), 1);
    const moved = new FileReader(odd, 1, corrupt).f32View(3);
    expect(Array.from(moved)).toEqual([1.5, -2, 3.25]);
    expect(moved.buffer).not.toBe(odd.buffer);
    expect(() => new FileReader(bytes, 4, corrupt).f32View(4)).toThrow('truncated');
  });
});
