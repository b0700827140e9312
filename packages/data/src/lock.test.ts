import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Implementation } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { implementation, lockDatabase, openDataStore } from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
const childScript = join(here, '../test/lock-child.mjs');

let dir: string;
let n = 0;
beforeAll(() => {
  if (!existsSync(join(here, '../dist/index.js'))) {
    throw new Error('lock.test.ts runs the built package: run `pnpm --filter @aios/data build`');
  }
  dir = mkdtempSync(join(tmpdir(), 'aios-data-lock-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const freshDb = () => join(dir, `db-${n++}.db`);

const impls = testImplementations();
const nativeLoads = implementation('auto').implementation === 'native';
if (impls.includes('native') && !nativeLoads) {
  console.warn('lock.test.ts: no native binary for @aios/data here; the native cases are skipped');
}
const native = impls.includes('native') && nativeLoads;
const pairs: Array<[Implementation, Implementation]> = native
  ? [
      ['native', 'js'],
      ['js', 'native'],
      ['js', 'js'],
    ]
  : [['js', 'js']];

interface Child {
  proc: ChildProcessWithoutNullStreams;
  lines: string[];
  /** Resolves once a line starting with `prefix` was printed. */
  line(prefix: string): Promise<string>;
  exit: Promise<number | null>;
}

function runChild(
  path: string,
  impl: Implementation,
  mode: 'hold' | 'write',
  tag: string,
  count = 1,
) {
  const proc = spawn(process.execPath, [childScript, path, impl, mode, tag, String(count)]);
  const lines: string[] = [];
  const waiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    out += chunk;
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((w) => line.startsWith(w.prefix))) w.resolve(line);
    }
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const child: Child = {
    proc,
    lines,
    exit,
    line: (prefix) =>
      new Promise<string>((resolve, reject) => {
        const seen = lines.find((l) => l.startsWith(prefix));
        if (seen !== undefined) return resolve(seen);
        waiters.push({ prefix, resolve });
        exit.then((code) =>
          reject(new Error(`child exited (${code}) before printing "${prefix}": ${err}`)),
        );
      }),
  };
  return child;
}

/** Every fragment of the acknowledged batches of `tag` is there, whole. */
async function expectAcked(path: string, impl: Implementation, acked: Record<string, number>) {
  const store = await openDataStore({ path, native: impl });
  try {
    expect(await store.integrityCheck()).toBe('ok');
    for (const [tag, batches] of Object.entries(acked)) {
      const ids = Array.from(
        { length: batches * 20 },
        (_, i) => `${tag}-${Math.floor(i / 20)}-${i % 20}`,
      );
      expect((await store.fragments.getMany(ids)).length, tag).toBe(ids.length);
    }
  } finally {
    await store.close();
  }
}

const acks = (c: Child) => c.lines.filter((l) => l.startsWith('ack ')).length;

describe.each(pairs)('a %s store holding the database, then a %s open', (first, second) => {
  it('is refused at once with DATA_BUSY naming the holder; nothing is lost or damaged', async () => {
    const path = freshDb();
    const holder = runChild(path, first, 'hold', 'holder');
    await holder.line('ack 0');
    const refused = openDataStore({ path, native: second, operation: 'second opener' });
    await expect(refused).rejects.toMatchObject({
      code: 'DATA_BUSY',
      message: `${path.split('/').pop()} is in use by process ${holder.proc.pid} (lock test holder, ${first} implementation)`,
      details: { path, pid: holder.proc.pid, operation: 'lock test holder' },
    });
    // The same from another process.
    const other = runChild(path, second, 'write', 'other');
    expect(await other.line('refused')).toContain(`DATA_BUSY`);
    expect(await other.exit).toBe(3);
    holder.proc.stdin.end();
    expect(await holder.exit).toBe(0);
    await expectAcked(path, second, { holder: 1 });
    // Released on close: nothing is left in the lease directory.
    expect(readdirSync(`${path}.lease.lock`)).toEqual([]);
  });
});

describe.runIf(native)('native stores on one database', () => {
  it('share it: two processes write at once and every batch is there', async () => {
    const path = freshDb();
    const holder = runChild(path, 'native', 'hold', 'holder');
    await holder.line('ack 0');
    const inProcess = await openDataStore({ path, native: 'native' });
    const writers = [
      runChild(path, 'native', 'write', 'w1', 10),
      runChild(path, 'native', 'write', 'w2', 10),
    ];
    await inProcess.fragments.put([{ id: 'mine', text: 'written alongside' }]);
    expect(await Promise.all(writers.map((w) => w.exit))).toEqual([0, 0]);
    holder.proc.stdin.end();
    expect(await holder.exit).toBe(0);
    expect(await inProcess.fragments.count()).toBe(20 + 2 * 10 * 20 + 1);
    await inProcess.close();
    await expectAcked(path, 'js', { holder: 1, w1: 10, w2: 10 });
  });
});

describe.runIf(native)('a native and a js process starting at once', () => {
  it('never both write: the database stays intact with every acknowledged batch', async () => {
    for (let round = 0; round < 4; round++) {
      const path = freshDb();
      const order: Implementation[] = round % 2 === 0 ? ['native', 'js'] : ['js', 'native'];
      const children = order.map((impl, i) => runChild(path, impl, 'write', `c${i}`, 30));
      const codes = await Promise.all(children.map((c) => c.exit));
      for (const [i, c] of children.entries()) {
        expect([0, 3], c.lines.join('\n')).toContain(codes[i]);
        if (codes[i] === 3) expect(c.lines.join('\n')).toContain('DATA_BUSY');
      }
      await expectAcked(path, 'native', {
        c0: acks(children[0] as Child),
        c1: acks(children[1] as Child),
      });
    }
  });
});

describe.each(impls.filter((i) => i === 'js' || native))('a SIGKILLed %s holder', (impl) => {
  it('does not keep the next opener out', async () => {
    const path = freshDb();
    const holder = runChild(path, impl, 'hold', 'killed');
    await holder.line('ack 0');
    holder.proc.kill('SIGKILL');
    await holder.exit;
    expect(readdirSync(`${path}.lease.lock`)).toHaveLength(1); // left by the kill
    for (const next of pairs.map((p) => p[0])) await expectAcked(path, next, { killed: 1 });
  });
});

describe('lockDatabase', () => {
  it.each(impls.filter((i) => i === 'js' || native))(
    'an exclusive lease (a restore) keeps %s stores out, and waits for none',
    async (impl) => {
      const path = freshDb();
      const lock = await lockDatabase(path, {
        mode: 'exclusive',
        operation: 'aios backup restore',
      });
      await expect(openDataStore({ path, native: impl })).rejects.toMatchObject({
        code: 'DATA_BUSY',
        message: expect.stringContaining(`process ${process.pid} (aios backup restore)`),
      });
      await lock.release();
      await lock.release();
      const store = await openDataStore({ path, native: impl });
      await expect(
        lockDatabase(path, { mode: 'exclusive', operation: 'aios backup restore' }),
      ).rejects.toMatchObject({ code: 'DATA_BUSY' });
      await store.close();
    },
  );

  it('refuses bad arguments with INVALID_INPUT', async () => {
    const path = freshDb();
    for (const [p, o] of [
      [':memory:', { mode: 'shared', operation: 'x' }],
      ['', { mode: 'shared', operation: 'x' }],
      [path, { mode: 'both', operation: 'x' }],
      [path, { mode: 'shared', operation: '' }],
      [path, null],
    ] as const) {
      await expect(lockDatabase(p, o as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    await expect(openDataStore({ path, operation: '' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});
