import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InPlaceSwap, recoverSwaps } from './swap.js';

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'aios-backup-swap-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
/** A directory with `db` (old), `keep` (not replaced) and `dir/old.txt`. */
function home(): string {
  const dir = join(base, `home-${n++}`);
  mkdirSync(join(dir, 'dir'), { recursive: true });
  writeFileSync(join(dir, 'db'), 'old db');
  writeFileSync(join(dir, 'db-wal'), 'old wal');
  writeFileSync(join(dir, 'keep'), 'untouched');
  writeFileSync(join(dir, 'dir', 'old.txt'), 'old');
  return dir;
}

function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const path = join(dir, name);
    try {
      out[name] = readFileSync(path, 'utf8');
    } catch {
      out[name] = 'dir';
    }
  }
  return out;
}

const REPLACED = { db: 'new db', dir: 'dir', 'dir/new.txt': 'new', keep: 'untouched' };

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

/** Builds a swap of `db`, `dir` and (removed) `db-wal` as a process `pid` would leave it. */
function plantSwap(parent: string, pid: number, committed: boolean): string {
  const dir = join(parent, `.restore-${pid}-abc123`);
  mkdirSync(join(dir, 'new', 'dir'), { recursive: true });
  writeFileSync(join(dir, 'new', 'db'), 'new db');
  writeFileSync(join(dir, 'new', 'dir', 'new.txt'), 'new');
  const owner = {
    version: 1,
    pid,
    hostname: hostname(),
    time: new Date().toISOString(),
    extra: [],
  };
  writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner));
  if (committed) {
    const moves = [
      { to: join(parent, 'db-wal') },
      { from: join(dir, 'new', 'db'), to: join(parent, 'db') },
      { from: join(dir, 'new', 'dir'), to: join(parent, 'dir') },
    ].map((m, i) => ({ ...m, aside: join(parent, `.restore-${pid}-abc123.${i}.old`) }));
    writeFileSync(join(dir, 'journal.json'), JSON.stringify({ version: 1, moves }));
  }
  return dir;
}

describe('in-place swap', () => {
  it('replaces the given entries, removes what they replaced and nothing else', async () => {
    const parent = home();
    const swap = await InPlaceSwap.begin(parent);
    mkdirSync(join(swap.staging, 'dir'));
    writeFileSync(join(swap.staging, 'dir', 'new.txt'), 'new');
    writeFileSync(join(swap.staging, 'db'), 'new db');
    // Until the commit, the directory is as it was (but for the swap's own folder).
    expect(contents(parent)).toMatchObject({ db: 'old db', 'dir/old.txt': 'old' });
    await swap.commit([
      { to: join(parent, 'db-wal') },
      { from: join(swap.staging, 'db'), to: join(parent, 'db') },
      { from: join(swap.staging, 'dir'), to: join(parent, 'dir') },
    ]);
    expect(contents(parent)).toEqual(REPLACED);
  });

  it('a discarded swap touches nothing', async () => {
    const parent = home();
    const before = contents(parent);
    const swap = await InPlaceSwap.begin(parent);
    const side = join(parent, 'side-file');
    await swap.track(side);
    writeFileSync(side, 'staged beside');
    writeFileSync(join(swap.staging, 'db'), 'new db');
    await swap.discard();
    expect(contents(parent)).toEqual(before);
  });

  it('rolls a committed swap of a dead process forward from any point', async () => {
    const pid = deadPid();
    // The journal's moves are applied one after the other: a kill may land before any,
    // between the set-aside and the rename of one, or after some.
    const crashes: Array<(parent: string, dir: string) => void> = [
      () => undefined,
      (parent) => renameSync(join(parent, 'db-wal'), join(parent, `.restore-${pid}-abc123.0.old`)),
      (parent, dir) => {
        rmSync(join(parent, 'db-wal'));
        renameSync(join(parent, 'db'), join(parent, `.restore-${pid}-abc123.1.old`));
        renameSync(join(dir, 'new', 'db'), join(parent, 'db'));
        renameSync(join(parent, 'dir'), join(parent, `.restore-${pid}-abc123.2.old`));
      },
    ];
    for (const crash of crashes) {
      const parent = home();
      const dir = plantSwap(parent, pid, true);
      crash(parent, dir);
      const recovered = await recoverSwaps(parent);
      expect(recovered).toEqual({ completed: [dir], discarded: [], busy: [] });
      expect(contents(parent)).toEqual(REPLACED);
      // Done: a second recovery finds nothing.
      expect((await recoverSwaps(parent)).completed).toEqual([]);
    }
  });

  it('replaying a finished swap leaves what was written after it alone', async () => {
    const pid = deadPid();
    const parent = home();
    const dir = plantSwap(parent, pid, true);
    // Every move was made, then the process died before removing its folder; since then
    // the database got a new WAL.
    renameSync(join(parent, 'db-wal'), join(parent, `.restore-${pid}-abc123.0.old`));
    renameSync(join(dir, 'new', 'db'), join(parent, 'db'));
    renameSync(join(parent, 'dir'), join(parent, `.restore-${pid}-abc123.2.old`));
    renameSync(join(dir, 'new', 'dir'), join(parent, 'dir'));
    writeFileSync(join(parent, 'db-wal'), 'later writes');
    expect((await recoverSwaps(parent)).completed).toEqual([dir]);
    expect(contents(parent)).toEqual({ ...REPLACED, 'db-wal': 'later writes' });
  });

  it('a database replaced with its companions never meets a stale WAL, however often replayed', async () => {
    const pid = deadPid();
    const parent = home();
    const dir = join(parent, `.restore-${pid}-def456`);
    mkdirSync(join(dir, 'new'), { recursive: true });
    writeFileSync(join(dir, 'new', 'db'), 'new db');
    const owner = { version: 1, pid, hostname: hostname(), time: '', extra: [] };
    writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner));
    const aside = join(parent, `.restore-${pid}-def456.0.old`);
    const move = {
      from: join(dir, 'new', 'db'),
      to: join(parent, 'db'),
      aside,
      companions: ['-wal'],
    };
    writeFileSync(join(dir, 'journal.json'), JSON.stringify({ version: 1, moves: [move] }));
    // Killed after the old WAL was set aside; a reader of the old database then made a new one.
    renameSync(join(parent, 'db-wal'), `${aside}-wal`);
    writeFileSync(join(parent, 'db-wal'), 'a WAL of the old database');
    await recoverSwaps(parent);
    expect(contents(parent)).toEqual({
      db: 'new db',
      dir: 'dir',
      'dir/old.txt': 'old',
      keep: 'untouched',
    });
  });

  it('a swap marked done is only cleaned up', async () => {
    const pid = deadPid();
    const parent = home();
    const dir = plantSwap(parent, pid, true);
    renameSync(join(parent, 'db-wal'), join(parent, `.restore-${pid}-abc123.0.old`));
    renameSync(join(dir, 'new', 'db'), join(parent, 'db'));
    renameSync(join(parent, 'dir'), join(parent, `.restore-${pid}-abc123.2.old`));
    renameSync(join(dir, 'new', 'dir'), join(parent, 'dir'));
    renameSync(join(dir, 'journal.json'), join(dir, 'done.json'));
    // Cleaning up had begun: the first set-aside entry is gone already.
    rmSync(join(parent, `.restore-${pid}-abc123.0.old`));
    writeFileSync(join(parent, 'db-wal'), 'later writes');
    expect((await recoverSwaps(parent)).completed).toEqual([dir]);
    expect(contents(parent)).toEqual({ ...REPLACED, 'db-wal': 'later writes' });
  });

  it('removes an uncommitted swap of a dead process and leaves live ones alone', async () => {
    const parent = home();
    const before = contents(parent);
    const dead = plantSwap(parent, deadPid(), false);
    const legacy = join(parent, `.restore-${deadPid()}-1764158400000`);
    mkdirSync(join(legacy, 'tmp', 'home'), { recursive: true });
    writeFileSync(join(legacy, 'tmp', 'home', 'aios.db'), 'half restored');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const live = plantSwap(parent, child.pid as number, true);
      const recovered = await recoverSwaps(parent);
      expect(recovered).toEqual({ completed: [], discarded: [dead, legacy].sort(), busy: [live] });
      expect(existsSync(live)).toBe(true);
      expect(contents(parent)).toMatchObject(before);
      // A caller that holds a lock no swapping process can hold finishes it.
      expect((await recoverSwaps(parent, { force: true })).completed).toEqual([live]);
      expect(contents(parent)).toEqual(REPLACED);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
