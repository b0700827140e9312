import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAiosError } from '../errors.js';
import { smallDisk, smallDiskSkip } from '../testing-tools/small-disk.js';
import { isStale, type LockHolder, processStarted } from './holder.js';
import {
  acquireLease,
  exclusiveHolder,
  type LeaseOptions,
  leaseHolders,
  TEMP_ABANDONED_MS,
} from './lease.js';

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, '../../dist/index.js');

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'aios-lease-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fresh = (): string => join(root, `lock-${n++}`);
const options = (dir: string, operation: string, extra: Partial<LeaseOptions> = {}) => ({
  dir,
  operation,
  ...extra,
});

/** A pid that belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

function holderFile(pid: number, operation: string, extra: Partial<LockHolder> = {}): string {
  return JSON.stringify({ pid, hostname: hostname(), operation, time: 'then', ...extra });
}

describe('leases', () => {
  it('keeps a second exclusive taker out, naming the holder, until released', async () => {
    const dir = fresh();
    const first = await acquireLease('exclusive', options(dir, 'aios ingest', { detail: 'js' }));
    const refused = acquireLease('exclusive', options(dir, 'aios chat'));
    await expect(refused).rejects.toMatchObject({
      code: 'LOCK_BUSY',
      message: expect.stringContaining(`process ${process.pid} (aios ingest, js)`),
    });
    await first.release();
    await first.release(); // a second release is a no-op
    const second = await acquireLease('exclusive', options(dir, 'aios chat'));
    await second.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('lets shared holders overlap, and keeps shared and exclusive apart', async () => {
    const dir = fresh();
    const a = await acquireLease('shared', options(dir, 'reader a'));
    const b = await acquireLease('shared', options(dir, 'reader b'));
    await expect(acquireLease('exclusive', options(dir, 'writer'))).rejects.toMatchObject({
      code: 'LOCK_BUSY',
      message: expect.stringMatching(/reader [ab]/),
    });
    // The refused exclusive taker left nothing behind.
    expect(existsSync(join(dir, 'exclusive.json'))).toBe(false);
    await a.release();
    await b.release();
    const writer = await acquireLease('exclusive', options(dir, 'writer'));
    await expect(acquireLease('shared', options(dir, 'reader c'))).rejects.toMatchObject({
      code: 'LOCK_BUSY',
      details: { holder: { operation: 'writer', pid: process.pid } },
    });
    await writer.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('asks `conflicts` which holders of the other mode keep a taker out', async () => {
    const dir = fresh();
    const conflicts = (h: LockHolder) => h.operation === 'prune';
    const backup = await acquireLease('exclusive', options(dir, 'backup'));
    const reader = await acquireLease('shared', options(dir, 'restore', { conflicts }));
    await reader.release();
    await backup.release();
    const prune = await acquireLease('exclusive', options(dir, 'prune'));
    await expect(
      acquireLease('shared', options(dir, 'restore', { conflicts })),
    ).rejects.toMatchObject({ code: 'LOCK_BUSY' });
    await prune.release();
  });

  it('uses the error `busy` makes', async () => {
    const dir = fresh();
    const held = await acquireLease('exclusive', options(dir, 'one'));
    const busy = (h: LockHolder, holds: string) =>
      new Error(`held ${holds} by ${h.operation} (${h.pid})`);
    await expect(acquireLease('exclusive', options(dir, 'two', { busy }))).rejects.toThrow(
      `held exclusive by one (${process.pid})`,
    );
    await held.release();
  });

  it('clears the files of dead holders', async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const pid = await deadPid();
    writeFileSync(join(dir, 'exclusive.json'), holderFile(pid, 'killed writer'));
    writeFileSync(join(dir, 'shared-dead.json'), holderFile(pid, 'killed reader'));
    const lease = await acquireLease('exclusive', options(dir, 'next'));
    expect(readdirSync(dir)).toEqual(['exclusive.json']);
    await lease.release();
    // A stale exclusive holder keeps no shared taker out either.
    writeFileSync(join(dir, 'exclusive.json'), holderFile(pid, 'killed writer'));
    const reader = await acquireLease('shared', options(dir, 'reader'));
    expect(existsSync(join(dir, 'exclusive.json'))).toBe(false);
    await reader.release();
  });

  it('removes the temporary files of earlier takers that did not finish, never a live one', async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const token = () => randomBytes(16).toString('hex');
    const old = new Date(Date.now() - TEMP_ABANDONED_MS - 5_000);
    const temp = (kind: string, text: string, mtime?: Date) => {
      const name = `.${token()}.${kind}.tmp`;
      writeFileSync(join(dir, name), text);
      if (mtime) utimesSync(join(dir, name), mtime, mtime);
      return name;
    };
    const dead = await deadPid();
    const left = [
      temp('lock', ''), // empty, and young: a writer may be about to fill it
      temp('shared', holderFile(process.pid, 'a live taker', { token: token() }), old),
      temp('clearing', holderFile(dead, 'x', { token: token() }).slice(0, 9)), // young, partial
      'unrelated.tmp',
      '.abc.lock.tmp', // not of this module's naming
    ];
    writeFileSync(join(dir, 'unrelated.tmp'), '');
    writeFileSync(join(dir, '.abc.lock.tmp'), '');
    utimesSync(join(dir, '.abc.lock.tmp'), old, old);
    const gone = [
      temp('lock', '', old), // empty since long ago: its writer failed to fill it
      temp('shared', '{"pid":', old), // partial since long ago
      temp('clearing', holderFile(dead, 'killed taker', { token: token() })), // a dead holder's
    ];
    const lease = await acquireLease('exclusive', options(dir, 'next'));
    await lease.release();
    const names = readdirSync(dir);
    for (const name of left) expect(names).toContain(name);
    for (const name of gone) expect(names).not.toContain(name);
    expect(names.sort()).toEqual([...left].sort());
  });

  it('lists the live holders without taking the lease or clearing anything', async () => {
    const dir = fresh();
    expect(await leaseHolders({ dir })).toEqual({ exclusive: undefined, shared: [] });
    const a = await acquireLease('shared', options(dir, 'reader a'));
    const b = await acquireLease('shared', options(dir, 'reader b'));
    writeFileSync(join(dir, 'shared-dead.json'), holderFile(await deadPid(), 'killed reader'));
    const found = await leaseHolders({ dir });
    expect(found.exclusive).toBeUndefined();
    expect(found.shared.map((h) => h.operation).sort()).toEqual(['reader a', 'reader b']);
    expect(readdirSync(dir)).toContain('shared-dead.json'); // looked at, not cleared
    await a.release();
    await b.release();
    const writer = await acquireLease('exclusive', options(dir, 'writer'));
    expect((await leaseHolders({ dir })).exclusive).toMatchObject({ operation: 'writer' });
    await writer.release();
  });

  it('names the live exclusive holder without taking the lease', async () => {
    const dir = fresh();
    expect(await exclusiveHolder({ dir })).toBeUndefined();
    const lease = await acquireLease('exclusive', options(dir, 'writing'));
    expect(await exclusiveHolder({ dir })).toMatchObject({
      pid: process.pid,
      operation: 'writing',
    });
    await lease.release();
    expect(await exclusiveHolder({ dir })).toBeUndefined();
    // A dead holder's file, or one that cannot be read, is nobody's lease.
    writeFileSync(join(dir, 'exclusive.json'), holderFile(await deadPid(), 'killed writer'));
    expect(await exclusiveHolder({ dir })).toBeUndefined();
    writeFileSync(join(dir, 'exclusive.json'), '{"pid":');
    expect(await exclusiveHolder({ dir })).toBeUndefined();
  });

  it.runIf(processStarted(process.pid) !== undefined)(
    'tells a reused pid from its first owner by the start time',
    async () => {
      const started = processStarted(process.pid) as number;
      const reused = { pid: process.pid, hostname: hostname(), operation: 'x', time: '' };
      expect(isStale({ ...reused, started })).toBe(false);
      expect(isStale({ ...reused, started: started - 1 })).toBe(true);
      expect(isStale(reused)).toBe(false);
      expect(isStale({ ...reused, hostname: `${hostname()}-elsewhere`, started: 1 })).toBe(false);
    },
  );

  it('lets exactly one of many concurrent exclusive takers win, also over a stale holder', async () => {
    for (const stale of [false, true]) {
      const dir = fresh();
      if (stale) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'exclusive.json'), holderFile(await deadPid(), 'killed'));
      }
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => acquireLease('exclusive', options(dir, `t${i}`))),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won.length, stale ? 'over a stale holder' : 'fresh').toBe(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'LOCK_BUSY' });
      }
      await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it('never lets a shared and an exclusive taker racing each other both in', async () => {
    for (let round = 0; round < 20; round++) {
      const dir = fresh();
      const [s, x] = await Promise.allSettled([
        acquireLease('shared', options(dir, 'reader')),
        acquireLease('exclusive', options(dir, 'writer')),
      ]);
      expect(s.status === 'fulfilled' && x.status === 'fulfilled').toBe(false);
      // Each may see the other at first; withdrawing and trying again lets one in.
      expect(s.status === 'fulfilled' || x.status === 'fulfilled').toBe(true);
      for (const r of [s, x]) if (r.status === 'fulfilled') await r.value.release();
    }
  });

  it('waits out a holder that let go moments after it took its lease, not one held longer', async () => {
    const dir = fresh();
    const reader = await acquireLease('shared', options(dir, 'reader'));
    setTimeout(() => void reader.release(), 3);
    const writer = await acquireLease('exclusive', options(dir, 'writer'));
    await writer.release();
    mkdirSync(dir, { recursive: true });
    const long = new Date(Date.now() - 60_000).toISOString();
    writeFileSync(join(dir, 'shared-old.json'), holderFile(process.pid, 'server', { time: long }));
    await expect(acquireLease('exclusive', options(dir, 'writer'))).rejects.toMatchObject({
      code: 'LOCK_BUSY',
      message: expect.stringContaining('(server)'),
    });
  });
});

describe('leases across processes', () => {
  beforeAll(() => {
    if (!existsSync(built)) {
      throw new Error(
        'the cross-process lease tests run the built package: run `pnpm --filter @aios/utils build`',
      );
    }
  });

  /** Runs a child that takes a lease, prints `held`, then waits for its end. */
  function holder(dir: string, mode: string, end: 'kill' | 'exit') {
    const script = `
      const { acquireLease } = await import(${JSON.stringify(built)});
      await acquireLease(${JSON.stringify(mode)}, { dir: ${JSON.stringify(dir)}, operation: 'child' });
      process.stdout.write('held\\n');
      ${end === 'exit' ? 'process.stdin.on("end", () => process.exit(0)); process.stdin.resume();' : 'setInterval(() => {}, 1000);'}
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const held = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('held')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`child exited with ${code} before holding`)));
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    return { child, held, exited };
  }

  it('clears the lease of a SIGKILLed holder, and one left at a clean exit is gone', async () => {
    for (const mode of ['exclusive', 'shared']) {
      const dir = fresh();
      const killed = holder(dir, mode, 'kill');
      await killed.held;
      await expect(acquireLease('exclusive', options(dir, 'next'))).rejects.toMatchObject({
        code: 'LOCK_BUSY',
        details: { holder: { pid: killed.child.pid, operation: 'child' } },
      });
      killed.child.kill('SIGKILL');
      await killed.exited;
      expect(readdirSync(dir).length).toBe(1); // left behind by the kill
      const next = await acquireLease('exclusive', options(dir, 'next'));
      await next.release();

      const clean = holder(dir, mode, 'exit');
      await clean.held;
      clean.child.stdin.end(); // exits without releasing
      await clean.exited;
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it.skipIf(smallDiskSkip() !== undefined)(
    'on a full or read-only disk, fails with a coded error and leaves no file behind',
    async () => {
      const disk = smallDisk(1);
      try {
        const dir = join(disk.path, 'db.lease.lock');
        mkdirSync(dir);
        disk.fill();
        for (const mode of ['shared', 'exclusive'] as const) {
          const full = await acquireLease(mode, options(dir, 'aios ask')).catch((e: unknown) => e);
          expect(isAiosError(full, 'IO_DISK_FULL'), String(full)).toBe(true);
          expect((full as Error).message).toContain(
            `${dir}: no space left on the device (writing the ${mode} lease`,
          );
          expect(readdirSync(dir)).toEqual([]);
        }
        disk.free();
        disk.readOnly();
        const refused = await acquireLease('shared', options(dir, 'aios ask')).catch(
          (e: unknown) => e,
        );
        expect(isAiosError(refused, 'IO_READ_ONLY'), String(refused)).toBe(true);
      } finally {
        disk.remove();
      }
    },
  );
});
