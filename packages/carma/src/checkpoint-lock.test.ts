import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { implementation as dataImplementation } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeCheckpointLock } from './checkpoint-lock.js';
import { openMemory } from './memory.js';
import type { MemoryOptions } from './memory-types.js';

const here = dirname(fileURLToPath(import.meta.url));
const writer = join(here, '../test/checkpoint-writer.mjs');

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-checkpoint-lock-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const freshDir = () => join(root, `m${n++}`);

const impls = testImplementations();
const nativeLoads = dataImplementation('auto').implementation === 'native';

/** The index files in `dir` (temporary files and records of checks aside). */
const indexFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => /^(?:index|lexical|labels)-\d+\.bin$/.test(name))
    .sort();

const notes = (tag: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${tag} note ${i}: mark${tag}n${i}`);

describe.each(impls)('index files written by one process at a time (%s)', (impl) => {
  const open = (dir: string, replayLimit?: number, more: MemoryOptions = {}) =>
    openMemory({
      dir,
      native: impl,
      dimension: 64,
      ...(replayLimit === undefined ? {} : { replayLimit }),
      ...more,
    });
  /** A memory that counts as large (see `deferCheckpointFrom`) from 30 fragments. */
  const openDeferring = (dir: string) => open(dir, 0, { deferCheckpointFrom: 30 });

  it('leaves a checkpoint to the process writing the files; the next open replays it', async () => {
    const dir = freshDir();
    const memory = await open(dir, 0);
    await memory.addMany(notes('a', 20));
    await memory.flush();
    const written = indexFiles(dir);
    expect(written).toHaveLength(3);
    // Another writer holds the lock: this memory's flush and close write nothing.
    const other = await takeCheckpointLock(dir, false);
    expect(other).toBeDefined();
    await memory.add('a later note: markbusy');
    await memory.flush();
    await memory.close();
    expect(indexFiles(dir)).toEqual(written);
    await other?.release();
    const reopened = await open(dir, 0);
    expect(reopened.allLoaded).toBe(false);
    expect(reopened.size).toBe(21);
    const [hit] = await reopened.search('markbusy', { k: 1 });
    expect(hit?.fragment.text).toBe('a later note: markbusy');
    // Free again, the next checkpoint writes the files.
    await reopened.add('one more');
    await reopened.close();
    expect(indexFiles(dir)).not.toEqual(written);
    expect(indexFiles(dir)).toHaveLength(3);
  });

  it('a large memory leaves its files to writeIndexFiles of another process', async () => {
    const dir = freshDir();
    const small = await openDeferring(dir);
    await small.addMany(notes('a', 20));
    await small.close();
    // Below the size given: written at close as before.
    expect(small.checkpointDeferred).toBe(false);
    const written = indexFiles(dir);
    expect(written).toHaveLength(3);
    const large = await openDeferring(dir);
    await large.addMany(notes('b', 20));
    await large.close();
    expect(large.checkpointDeferred).toBe(true);
    expect(indexFiles(dir)).toEqual(written);
    // While another process writes them already, nothing more is left due: no second writer.
    const busy = await openDeferring(dir);
    await busy.add('a note while another process writes the files: markwhilebusy');
    const other = await takeCheckpointLock(dir, false);
    await busy.close();
    await other?.release();
    expect(busy.checkpointDeferred).toBe(false);
    expect(indexFiles(dir)).toEqual(written);
    // Another process (here a memory that changes nothing) writes them.
    const writer = await open(dir);
    expect(writer.allLoaded).toBe(false);
    expect(await writer.writeIndexFiles()).toBe('written');
    expect(await writer.writeIndexFiles()).toBe('current');
    await writer.close();
    expect(writer.checkpointDeferred).toBe(false);
    expect(indexFiles(dir)).not.toEqual(written);
    const next = await open(dir, 0);
    expect(next.size).toBe(41);
    expect(await next.writeIndexFiles()).toBe('current');
    const [hit] = await next.search('markbn7', { k: 1 });
    expect(hit?.fragment.text).toBe('b note 7: markbn7');
    await next.close();
  });

  it('writes the graph of a large memory into the files another process writes for it', async () => {
    const dir = freshDir();
    // A graph from the first fragment; over more than 1,000 rows it is built in the background.
    const hnsw = { m: 8, efConstruction: 40 };
    const large = await open(dir, 0, { deferCheckpointFrom: 30, hnsw });
    await large.addMany(notes('g', 1500));
    await large.close();
    expect(large.checkpointDeferred).toBe(true);
    // The process that writes them opens the memory without a graph and builds it anew.
    const writer = await open(dir, undefined, { hnsw });
    expect(await writer.writeIndexFiles()).toBe('written');
    await writer.close();
    const next = await open(dir, 0, { hnsw });
    expect(next.indexOrigin).toBe('file');
    expect((await next.stats()).hnsw).toMatchObject({ m: 8, efConstruction: 40 });
    const [hit] = await next.search('markgn700', { k: 1 });
    expect(hit?.fragment.text).toBe('g note 700: markgn700');
    await next.close();
  });

  it('an erase waits for the files being written, then writes its own without the texts', async () => {
    const dir = freshDir();
    const memory = await open(dir, 0);
    await memory.addMany(notes('kept', 10));
    await memory.add({ text: 'secretword in a note to erase', namespace: 'gone' });
    await memory.flush();
    const other = await takeCheckpointLock(dir, false);
    let erased = false;
    const erasing = memory.eraseNamespace('gone').then((report) => {
      erased = true;
      return report;
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(erased).toBe(false);
    await other?.release();
    expect((await erasing).fragments).toBe(1);
    for (const name of indexFiles(dir)) {
      expect(readFileSync(join(dir, name)).includes('secretword'), name).toBe(false);
    }
    await memory.close();
  });
});

describe.runIf(impls.includes('native') && nativeLoads)('checkpoints of several processes', () => {
  beforeAll(() => {
    if (!existsSync(join(here, '../dist/index.js'))) {
      throw new Error(
        'checkpoint-lock.test.ts runs the built package: run `pnpm --filter @aios/carma build`',
      );
    }
  });

  it('leave the files of one checkpoint, which the next open reads', async () => {
    const dir = freshDir();
    const first = await openMemory({ dir, native: 'native', dimension: 64 });
    await first.close();
    const rounds = 15;
    const runs = ['p', 'q'].map(
      (tag) =>
        new Promise<string>((resolve) => {
          const child = spawn(process.execPath, [writer, dir, tag, String(rounds)]);
          let err = '';
          child.stderr.on('data', (chunk: Buffer) => {
            err += chunk.toString();
          });
          child.on('exit', (code) => resolve(`${code} ${err}`.trim()));
        }),
    );
    expect(await Promise.all(runs)).toEqual(['0', '0']);
    expect(indexFiles(dir)).toHaveLength(3);
    const third = await openMemory({ dir, native: 'native', dimension: 64 });
    // Opened from the three files (their labels agree), with what came after replayed.
    expect(third.allLoaded).toBe(false);
    expect(third.size).toBe(2 * rounds * 10);
    for (const tag of ['p', 'q']) {
      for (const round of [0, 7, rounds - 1]) {
        const mark = `mark${tag}r${round}n3`;
        const [hit] = await third.search(mark, { k: 1 });
        expect(hit?.fragment.text).toContain(mark);
      }
    }
    await third.close();
  });

  it('an open while another process writes checkpoints reads them, never rebuilding with a warning', async () => {
    const dir = freshDir();
    const first = await openMemory({ dir, native: 'native', dimension: 64, replayLimit: 0 });
    await first.addMany(notes('base', 200));
    await first.close();
    const rounds = 60;
    let running = true;
    const writing = new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [writer, dir, 'w', String(rounds)]);
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.on('exit', (code) => {
        running = false;
        resolve(`${code} ${err}`.trim());
      });
    });
    const warnings: string[] = [];
    let opens = 0;
    while (running) {
      const reader = await openMemory({
        dir,
        native: 'native',
        dimension: 64,
        logger: { warn: (_details, message) => warnings.push(message) },
      });
      expect(reader.size).toBeGreaterThanOrEqual(200);
      const [hit] = await reader.search('markbasen123', { k: 1 });
      expect(hit?.fragment.text).toBe('base note 123: markbasen123');
      await reader.close();
      opens++;
    }
    expect(await writing).toBe('0');
    expect(warnings).toEqual([]);
    expect(opens).toBeGreaterThan(2);
  });
});
