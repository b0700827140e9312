import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiosError } from '../errors.js';
import {
  atomicWriteFile,
  atomicWriteFileSync,
  removeStaleTemps,
  tempFileFor,
} from './atomic-write.js';
import { fsyncDir, fsyncDirSync } from './sync-dir.js';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'aios-utils-atomic-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function freshDir(): string {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  return dir;
}

describe('atomicWriteFile', () => {
  it('writes text, bytes, sync and async chunks and streams, replacing the old content', async () => {
    const dir = freshDir();
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
    const big = Buffer.alloc(300_000, 7);
    await atomicWriteFile(path, Readable.from([big.subarray(0, 100_000), big.subarray(100_000)]));
    expect(readFileSync(path).equals(big)).toBe(true);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('keeps the old file whole and removes the temporary one when the producer fails', async () => {
    const dir = freshDir();
    const path = join(dir, 'keep.txt');
    writeFileSync(path, 'old content');
    async function* failing() {
      yield 'new ';
      throw new Error('producer failed');
    }
    await expect(atomicWriteFile(path, failing())).rejects.toThrow(/producer failed/);
    expect(readFileSync(path, 'utf8')).toBe('old content');
    expect(readdirSync(dir)).toEqual(['keep.txt']);
  });

  it('puts the temporary file where it is told, and creates the directory on request', async () => {
    const dir = freshDir();
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const target = join(dir, 'a', 'b', 'file');
    await atomicWriteFile(target, 'x', { tempDir: tmp, createDirectory: true });
    expect(readFileSync(target, 'utf8')).toBe('x');
    expect(readdirSync(tmp)).toEqual([]);
    const named = join(dir, 'index.bin');
    await atomicWriteFile(named, 'y', { tempPath: `${named}.tmp-${process.pid}` });
    expect(readFileSync(named, 'utf8')).toBe('y');
    expect(readdirSync(dir).sort()).toEqual(['a', 'index.bin', 'tmp']);
  });

  it('reports bad paths and a missing directory with codes', async () => {
    await expect(atomicWriteFile('', 'x')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(atomicWriteFile('a\0b', 'x')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(atomicWriteFile(join(root, 'no/such/dir/f'), 'x')).rejects.toMatchObject({
      code: 'IO_NOT_FOUND',
    });
    const dir = freshDir();
    await expect(atomicWriteFile(dir, 'x')).rejects.toBeInstanceOf(AiosError);
  });
});

describe('atomicWriteFileSync', () => {
  it('writes and replaces, and a failing check leaves the target as it was', () => {
    const dir = freshDir();
    const path = join(dir, 'config.json');
    atomicWriteFileSync(path, ['{"a":', '1}']);
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}');
    const verdict = new AiosError('CONFIG_INVALID', 'refused');
    let seen = '';
    expect(() =>
      atomicWriteFileSync(path, '{"a":2}', {
        check: (temp) => {
          seen = readFileSync(temp, 'utf8');
          throw verdict;
        },
      }),
    ).toThrow(verdict);
    expect(seen).toBe('{"a":2}');
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}');
    expect(readdirSync(dir)).toEqual(['config.json']);
    atomicWriteFileSync(join(dir, 'deep', 'er.json'), '{}', { createDirectory: true });
    expect(readFileSync(join(dir, 'deep', 'er.json'), 'utf8')).toBe('{}');
  });

  it('reports a missing directory with a code', () => {
    expect(() => atomicWriteFileSync(join(root, 'none', 'f'), 'x')).toThrow(
      expect.objectContaining({ code: 'IO_NOT_FOUND' }),
    );
  });
});

describe('removeStaleTemps', () => {
  it('removes what killed writers of a path left, and nothing a running one or another path has', async () => {
    const dir = freshDir();
    const target = join(dir, 'restored');
    // A process that ran and is gone: its pid names no running process now.
    const gone = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    const left = join(dir, `.restored.${gone}.0123456789ab.tmp`);
    mkdirSync(join(left, 'carma'), { recursive: true });
    writeFileSync(join(left, 'carma', 'index.bin'), 'half');
    const leftFile = join(dir, `.restored.${gone}.ba9876543210.tmp`);
    writeFileSync(leftFile, 'half');
    const running = tempFileFor(target);
    mkdirSync(running);
    const other = join(dir, `.restored-2.${gone}.0123456789ab.tmp`);
    writeFileSync(other, 'another target');
    const notOurs = join(dir, `.restored.${gone}.notes.tmp`);
    writeFileSync(notOurs, 'a name of the user');

    expect((await removeStaleTemps(target)).sort()).toEqual([left, leftFile].sort());
    expect(readdirSync(dir).sort()).toEqual(
      [running, other, notOurs].map((p) => p.slice(dir.length + 1)).sort(),
    );
    expect(await removeStaleTemps(join(dir, 'missing', 'x'))).toEqual([]);
    expect(existsSync(running)).toBe(true);
  });
});

describe('fsyncDir', () => {
  it('syncs an existing directory and fails on a missing one', async () => {
    const dir = freshDir();
    await fsyncDir(dir);
    fsyncDirSync(dir);
    await expect(fsyncDir(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => fsyncDirSync(join(dir, 'missing'))).toThrow(/ENOENT/);
  });
});
