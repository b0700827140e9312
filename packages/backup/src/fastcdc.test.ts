import { testImplementations } from '@aios/utils/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from './engine/index.js';
import type { Engine } from './engine/types.js';
import { zstdContentSize } from './engine/zstd-frame.js';
import { boundaries, type ChunkerParams } from './fastcdc.js';

function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 24) & 0xff;
  }
  return out;
}

const PARAM_SETS: ChunkerParams[] = [
  { minSize: 64, avgSize: 256, maxSize: 1024 },
  { minSize: 2048, avgSize: 8192, maxSize: 32768 },
  { minSize: 4096, avgSize: 16384, maxSize: 65535 },
  { minSize: 256 * 1024, avgSize: 1024 * 1024, maxSize: 4 * 1024 * 1024 },
];

describe.each(testImplementations())('engine (%s)', (impl) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine(impl);
  });

  it('runs the requested implementation', () => {
    expect(engine.implementation).toBe(impl);
    expect(engine.report.core).toBe('@aios/backup');
  });

  it('chunks cover the input exactly and respect the bounds', () => {
    const params = PARAM_SETS[1] as ChunkerParams;
    const data = noise(500_000, 3);
    const chunks = engine.chunkBytes(data, params);
    let offset = 0;
    for (const [i, c] of chunks.entries()) {
      expect(c.offset).toBe(offset);
      if (i < chunks.length - 1) expect(c.length).toBeGreaterThanOrEqual(params.minSize);
      expect(c.length).toBeLessThanOrEqual(params.maxSize);
      expect(c.id).toBe(engine.hash(data.subarray(c.offset, c.offset + c.length)));
      offset += c.length;
    }
    expect(offset).toBe(data.length);
  });

  it('round-trips blobs and reports damaged ones', async () => {
    const data = noise(100_000, 9).map((b) => b & 0x0f);
    const id = engine.hash(data);
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'aios-engine-'));
    try {
      const path = join(dir, 'f');
      writeFileSync(path, data);
      const [blob] = await engine.compressRanges([{ path, offset: 0, length: data.length, id }], 3);
      if (!blob?.ok) throw new Error('compress failed');
      expect(zstdContentSize(blob.value)).toBe(data.length);
      const [ok] = await engine.decodeBlobs([{ data: blob.value, id, rawLength: data.length }]);
      expect(ok?.ok && Buffer.from(ok.value).equals(Buffer.from(data))).toBe(true);
      const damaged = Uint8Array.from(blob.value);
      const mid = Math.floor(damaged.length / 2);
      damaged[mid] = (damaged[mid] as number) ^ 0x20;
      const [bad] = await engine.decodeBlobs([{ data: damaged, id, rawLength: data.length }]);
      expect(bad).toMatchObject({ ok: false, code: 'CHUNK_DAMAGED' });
      // A damaged frame header (declared size) and a truncated frame are caught too.
      const header = Uint8Array.from(blob.value);
      header[6] = (header[6] as number) ^ 0xff;
      const truncated = blob.value.subarray(0, blob.value.length - 9);
      const results = await engine.decodeBlobs([
        { data: header, id, rawLength: data.length },
        { data: truncated, id, rawLength: data.length },
        { data: new Uint8Array(3), id, rawLength: data.length },
      ]);
      expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual([
        'CHUNK_DAMAGED',
        'CHUNK_DAMAGED',
        'CHUNK_DAMAGED',
      ]);
      const [changed] = await engine.compressRanges(
        [{ path, offset: 0, length: data.length, id: engine.hash(new Uint8Array([1])) }],
        3,
      );
      expect(changed).toMatchObject({ ok: false, code: 'FILE_CHANGED' });
      const [missing] = await engine.chunkFiles(
        [join(dir, 'nope')],
        PARAM_SETS[1] as ChunkerParams,
      );
      expect(missing).toMatchObject({ ok: false, code: 'IO_NOT_FOUND' });
      const [file] = await engine.chunkFiles([path], PARAM_SETS[1] as ChunkerParams);
      expect(file?.ok && file.value.chunks).toEqual(
        engine.chunkBytes(data, PARAM_SETS[1] as ChunkerParams),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects chunker sizes outside the FastCDC bounds', () => {
    expect(() =>
      engine.chunkBytes(new Uint8Array(10), { minSize: 1, avgSize: 2, maxSize: 3 }),
    ).toThrow(/INVALID_INPUT|expected|outside/);
  });
});

describe('native and js cut at the same places', () => {
  const impls = testImplementations();
  it.runIf(impls.length === 2)('on many inputs and parameter sets', async () => {
    const [native, js] = await Promise.all([createEngine('native'), createEngine('js')]);
    let cases = 0;
    for (const params of PARAM_SETS) {
      for (const [size, seed] of [
        [0, 1],
        [1, 2],
        [params.minSize, 3],
        [params.minSize + 1, 4],
        [params.maxSize * 3 + 7, 5],
        [3_000_000, 6],
      ] as const) {
        const data = noise(size, seed + params.avgSize);
        const n = native.chunkBytes(data, params);
        expect(js.chunkBytes(data, params)).toEqual(n);
        expect(boundaries(data, params)).toEqual(n.map((c) => [c.offset, c.length]));
        cases++;
      }
      // Low-entropy and repetitive data exercise the max-size and mask paths.
      const text = new TextEncoder().encode('the quick brown fox '.repeat(100_000));
      expect(js.chunkBytes(text, params)).toEqual(native.chunkBytes(text, params));
      const zeros = new Uint8Array(params.maxSize * 5 + 3);
      expect(js.chunkBytes(zeros, params)).toEqual(native.chunkBytes(zeros, params));
      cases += 2;
    }
    expect(cases).toBe(32);
  });
});
