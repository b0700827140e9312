import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImplementations } from '../testing.js';
import { createHashing, type Hashing } from './index.js';

// Official BLAKE3 vectors use the input pattern i % 251.
const pattern = (length: number) => Uint8Array.from({ length }, (_, i) => i % 251);
const EMPTY = 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262';
const KIB = '42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-hash-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(testImplementations())('hashing (%s)', (impl) => {
  let hashing: Hashing;
  beforeAll(async () => {
    hashing = await createHashing({ native: impl });
  });

  it('runs the requested implementation', () => {
    expect(hashing.implementation).toBe(impl);
    expect(hashing.report.core).toBe('@aios/utils');
  });

  it('matches the official BLAKE3 test vectors', async () => {
    expect(hashing.hashSync(new Uint8Array())).toBe(EMPTY);
    expect(await hashing.hash(pattern(1024))).toBe(KIB);
  });

  it('hashes strings as UTF-8', async () => {
    const text = 'héllo wörld ✓ 日本';
    expect(await hashing.hash(text)).toBe(hashing.hashSync(Buffer.from(text, 'utf8')));
  });

  it('gives the same id sync, async, off-thread and streamed', async () => {
    const big = pattern(3 * 1024 * 1024 + 5);
    const expected = hashing.hashSync(big);
    expect(await hashing.hash(big)).toBe(expected);
    const hasher = await hashing.createHasher();
    for (let offset = 0; offset < big.length; offset += 100_003) {
      hasher.update(big.subarray(offset, offset + 100_003));
    }
    expect(hasher.digest()).toBe(expected);
    expect(hasher.digest()).toBe(expected); // digest does not consume the state
    expect(hasher.reset().digest()).toBe(EMPTY);
  });

  it('hashes files of any size like their bytes', async () => {
    for (const size of [0, 17, 200_000, 5 * 1024 * 1024]) {
      const data = pattern(size);
      const path = join(dir, `${impl}-${size}.bin`);
      writeFileSync(path, data);
      expect(await hashing.hashFile(path)).toBe(hashing.hashSync(data));
    }
  });

  it('reports a missing file, a directory and bad arguments with codes', async () => {
    await expect(hashing.hashFile(join(dir, 'nope'))).rejects.toMatchObject({
      code: 'IO_NOT_FOUND',
    });
    await expect(hashing.hashFile(dir)).rejects.toMatchObject({ code: 'IO_NOT_A_FILE' });
    await expect(hashing.hash(42 as unknown as string)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('got 42 (number)'),
    });
    expect(() => hashing.hashSync(null as unknown as string)).toThrow(/data: expected/);
    await expect(hashing.hashFile('')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('native and js agree', () => {
  const impls = testImplementations();
  it.runIf(impls.length === 2)('on random inputs of many sizes', async () => {
    const [native, js] = await Promise.all([
      createHashing({ native: 'native' }),
      createHashing({ native: 'js' }),
    ]);
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed;
    };
    for (const size of [1, 63, 64, 65, 1023, 1025, 4096, 65_537, 1_048_577]) {
      const data = Uint8Array.from({ length: size }, () => random() & 0xff);
      expect(native.hashSync(data)).toBe(js.hashSync(data));
    }
  });
});
