import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomicWriteFile } from './index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-data-files-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('atomicWriteFile', () => {
  it('writes strings, bytes, and sync or async chunks, replacing the old content', async () => {
    const path = join(dir, 'state.json');
    await atomicWriteFile(path, '{"v":1}');
    expect(readFileSync(path, 'utf8')).toBe('{"v":1}');
    await atomicWriteFile(path, new Uint8Array([104, 105]));
    expect(readFileSync(path, 'utf8')).toBe('hi');
    await atomicWriteFile(path, ['a', Buffer.from('b'), 'c']);
    expect(readFileSync(path, 'utf8')).toBe('abc');
    async function* chunks() {
      for (let i = 0; i < 3; i++) yield `${i};`;
    }
    await atomicWriteFile(path, chunks());
    expect(readFileSync(path, 'utf8')).toBe('0;1;2;');
    expect(readdirSync(dir)).toEqual(['state.json']); // no temporary file left behind
  });

  it('keeps the old file whole when writing fails half-way', async () => {
    const path = join(dir, 'keep.txt');
    writeFileSync(path, 'old content');
    function* failing() {
      yield 'new ';
      throw new Error('producer failed');
    }
    await expect(atomicWriteFile(path, failing())).rejects.toThrow(/producer failed/);
    expect(readFileSync(path, 'utf8')).toBe('old content');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a bad path with a code', async () => {
    await expect(atomicWriteFile('', 'x')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(atomicWriteFile(join(dir, 'no/such/dir/f'), 'x')).rejects.toMatchObject({
      code: 'IO_NOT_FOUND',
    });
  });
});
