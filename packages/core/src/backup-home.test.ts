import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  watch,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { acquireLease } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { cli, expectOneLineError, runCli, tempHomes } from './testing/cli.js';

// `aios backup` against the faults a home meets: moved or symlinked homes, a database in
// use, killed restores, damaged repository files, devices and FIFOs as export targets, a
// full or read-only disk. The built CLI in child processes, offline, on both implementations.

const tempHome = tempHomes('aios-backup-home-');
const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
if (!isRoot) {
  console.warn(
    'backup-home.test.ts: device, FIFO and tmpfs cases skipped (they need root on Linux)',
  );
}

interface Snapshot {
  id: string;
  paths: string[];
  summary: { files: number };
}

interface IndexFile {
  pack: string;
  blobs: Array<{ id: string; offset: number; length: number }>;
}

/** Flips one byte in the middle of the first chunk of the file `suffix` of the snapshot. */
function damageChunkOf(home: string, snapshot: string, suffix: string): void {
  const snap = JSON.parse(
    readFileSync(join(home, 'backups', 'snapshots', `${snapshot}.json`), 'utf8'),
  ) as { entries: Array<{ path: string; chunks?: string[] }> };
  const chunk = snap.entries.find((e) => e.path.endsWith(suffix))?.chunks?.[0];
  const index = join(home, 'backups', 'index');
  let flipped = 0;
  for (const name of readdirSync(index)) {
    const f = JSON.parse(readFileSync(join(index, name), 'utf8')) as IndexFile;
    const blob = f.blobs.find((b) => b.id === chunk);
    if (!blob) continue;
    const path = join(home, 'backups', 'data', f.pack.slice(0, 2), f.pack);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from([0x5a]), 0, 1, blob.offset + Math.floor(blob.length / 2));
    closeSync(fd);
    flipped++;
  }
  expect(flipped).toBeGreaterThan(0);
}

/** The names under `home` that restores in place leave while they run. */
const leftovers = (home: string) => readdirSync(home).filter((n) => n.startsWith('.restore-'));

/** Runs `aios ...args` in the background; resolves when it exits (killed or not). */
function start(home: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [cli, '--offline', ...args], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.on('exit', (code, signal) => ok({ code, signal })),
  );
  return { child, exited };
}

// Each case runs the CLI a dozen times or more: minutes on a busy machine.
describe.each(testImplementations())(
  'aios backup of a home (AIOS_NATIVE=%s)',
  { timeout: 240_000 },
  (impl) => {
    const env = { AIOS_NATIVE: impl };
    const aios = (home: string, ...args: string[]) => runCli(home, ['--offline', ...args], env);
    const ok = (home: string, ...args: string[]) => {
      const r = aios(home, ...args);
      expect({ code: r.code, stderr: r.stderr }, `aios ${args.join(' ')}`).toEqual({
        code: 0,
        stderr: expect.any(String),
      });
      return r;
    };
    const fragments = (home: string) =>
      JSON.parse(ok(home, 'memory', 'stats', '--json').stdout).fragments as number;
    const create = (home: string) =>
      JSON.parse(ok(home, 'backup', 'create', '--json').stdout).snapshot as Snapshot;
    /** A home with a database (the demo's notes) and a file of its own. */
    const demoHome = (home: string) => {
      mkdirSync(join(home, 'files'), { recursive: true });
      ok(home, 'demo');
      writeFileSync(join(home, 'files', 'blob.bin'), Buffer.alloc(300_000, 7));
      return fragments(home);
    };

    it('restores in place into a home that was moved, and backs up a symlinked home', () => {
      const root = tempHome();
      const home = join(root, 'home');
      const count = demoHome(home);
      create(home);
      const moved = join(root, 'home2');
      renameSync(home, moved);
      const restored = aios(moved, 'backup', 'restore', 'latest');
      expect(restored.stderr).toBe('');
      expect(restored.code).toBe(0);
      expect(restored.stdout).toContain(`to ${moved}`);
      expect(existsSync(join(moved, 'aios.db'))).toBe(true);
      expect(fragments(moved)).toBe(count);

      // Through a symlink, the snapshot holds the directory it points to.
      const link = join(root, 'link');
      symlinkSync(moved, link);
      const snapshot = create(link);
      expect(snapshot.paths).toEqual([realpathSync(moved)]);
      expect(snapshot.summary.files).toBeGreaterThanOrEqual(3); // the database, an index, blob.bin
      ok(link, 'backup', 'restore', 'latest');
      expect(fragments(link)).toBe(count);
      expect(leftovers(moved)).toEqual([]);
    });

    it('restores under --target a directory that opens as a home', () => {
      const home = tempHome();
      const count = demoHome(home);
      create(home);
      const target = join(home, 'elsewhere');
      // What a restore to the same target killed part-way left (its process is gone).
      const gone = spawnSync(process.execPath, [
        '-e',
        'process.stdout.write(String(process.pid))',
      ]).stdout.toString();
      const killed = join(home, `.elsewhere.${gone}.0123456789ab.tmp`);
      mkdirSync(join(killed, 'carma'), { recursive: true });
      writeFileSync(join(killed, 'aios.db'), 'half');
      ok(home, 'backup', 'restore', 'latest', '--target', target);
      expect(readdirSync(target).sort()).toEqual(['aios.db', 'carma', 'files']);
      expect(existsSync(killed)).toBe(false);
      expect(fragments(target)).toBe(count);
      const again = aios(home, 'backup', 'restore', 'latest', '--target', target);
      expect(again.code).toBe(1);
      expectOneLineError(again.stderr, 'TARGET_NOT_EMPTY');
      // A file where the target would be, or above it, is refused as such and left alone.
      const file = join(home, 'a-file');
      writeFileSync(file, 'mine');
      for (const [path, why] of [
        [file, 'is a file, not a directory'],
        [join(file, 'below'), 'lies below a file'],
      ] as const) {
        const refused = aios(home, 'backup', 'restore', 'latest', '--target', path);
        expect(refused.code).toBe(1);
        expectOneLineError(refused.stderr, 'INVALID_INPUT');
        expect(refused.stderr).toContain(`${path} ${why}: restore into a new or empty directory`);
      }
      expect(readFileSync(file, 'utf8')).toBe('mine');
    });

    it('a restore under --target that cannot read every file leaves no home behind', () => {
      const home = tempHome();
      demoHome(home);
      const { id } = create(home);
      damageChunkOf(home, id, '/.database-copy/aios.db');
      const parent = join(home, 'out');
      mkdirSync(parent);
      const fresh = join(parent, 'fresh');
      const empty = join(parent, 'empty');
      mkdirSync(empty);
      for (const target of [fresh, empty]) {
        const r = aios(home, 'backup', 'restore', 'latest', '--target', target);
        expect(r.code).toBe(1);
        expect(r.stdout).not.toMatch(/^restored/m);
        expect(r.stdout).not.toContain('a home of its own');
        expect(r.stdout).toContain(
          `not restored: 1 file of ${id.slice(0, 12)} could not be read; nothing was written to ${target}`,
        );
        expect(r.stdout).toMatch(/error: \.database-copy\/aios\.db: .*\[CHUNK_DAMAGED\]/);
      }
      // Neither a half home nor a staging directory is left: the new target was not made,
      // the empty one stays empty.
      expect(readdirSync(parent).sort()).toEqual(['empty']);
      expect(readdirSync(empty)).toEqual([]);
      // The in-place restore of the same snapshot still refuses and leaves the home alone.
      const inPlace = aios(home, 'backup', 'restore', 'latest');
      expect(inPlace.code).toBe(1);
      expect(inPlace.stdout).toContain(`${home} is unchanged`);
    });

    it('forget refuses a policy that keeps nothing; every command takes latest; ids have a dry run', () => {
      const home = tempHome();
      writeFileSync(join(home, 'a.txt'), 'one\n');
      const first = create(home);
      writeFileSync(join(home, 'a.txt'), 'two\n');
      const second = create(home);
      const ids = () =>
        (JSON.parse(ok(home, 'backup', 'list', '--json').stdout) as Snapshot[]).map((s) => s.id);
      const all = [first.id, second.id];
      expect(ids()).toEqual(all);

      // Tags no snapshot carries keep nothing: refused as --keep-last 0 is, in words.
      for (const args of [
        ['--keep-tag', 'nope', '--prune'],
        ['--keep-tag', 'nope', '--dry-run'],
        ['--keep-last', '0', '--keep-tag', 'nope'],
      ]) {
        const r = aios(home, 'backup', 'forget', ...args);
        expect(r.code, args.join(' ')).toBe(1);
        expectOneLineError(r.stderr, 'INVALID_INPUT');
        expect(r.stderr).toContain('forgetting every snapshot is refused');
        expect(r.stderr).toMatch(/a policy to keep .*those tagged "nope", which keeps none of/);
        expect(r.stdout).toBe('');
      }
      const zero = aios(home, 'backup', 'forget', '--keep-last', '0');
      expect(zero.code).toBe(1);
      expectOneLineError(zero.stderr, 'INVALID_INPUT');
      expect(zero.stderr).toContain('got a policy to keep the last 0 snapshots [');
      expect(zero.stderr).not.toContain('Object');
      expect(ids()).toEqual(all);

      // latest and latest~N name a snapshot for export and forget as for restore and diff.
      const tar = join(home, 'latest.tar');
      const exported = ok(home, 'backup', 'export', 'latest', tar);
      expect(exported.stdout).toBe(`exported ${second.id.slice(0, 12)} to ${tar}\n`);
      expect(spawnSync('tar', ['xOf', tar], { encoding: 'utf8' }).stdout).toContain('two\n');

      // Snapshot ids with --dry-run say what would go, and nothing goes.
      const dry = ok(home, 'backup', 'forget', 'latest~1', '--dry-run');
      expect(dry.stdout).toBe(`would remove 1 snapshot\n  - ${first.id.slice(0, 12)}\n`);
      expect(ids()).toEqual(all);
      const both = aios(home, 'backup', 'forget', 'latest', '--keep-last', '1');
      expect(both.code).toBe(1);
      expectOneLineError(both.stderr, 'INVALID_INPUT');
      expect(both.stderr).toContain('give either snapshot ids or --keep-* options, not both');
      // By id, even the last snapshot can be forgotten.
      const forgot = ok(home, 'backup', 'forget', 'latest', '--prune');
      expect(forgot.stdout).toContain(`removed 1 snapshot\n  - ${second.id.slice(0, 12)}\n`);
      ok(home, 'backup', 'forget', 'latest');
      expect(ids()).toEqual([]);
    });

    it('will not restore in place while another process has the database open', async () => {
      const home = tempHome();
      demoHome(home);
      create(home);
      const messages = () =>
        JSON.parse(ok(home, 'memory', 'stats', '--json').stdout).messages as number;
      const before = messages();
      const chat = start(home, ['chat'], env);
      let out = '';
      chat.child.stdout.on('data', (d) => {
        out += String(d);
      });
      chat.child.stdin.write('what does the backup core do?\n');
      // The chat has the database open once it has answered.
      while (!out.includes('\n')) await new Promise((ok) => setTimeout(ok, 20));
      const refused = aios(home, 'backup', 'restore', 'latest');
      expect(refused.code).toBe(1);
      expectOneLineError(refused.stderr, 'DATA_BUSY');
      expect(refused.stderr).toContain(`process ${chat.child.pid}`);
      chat.child.stdin.end('and how are restores checked?\n/exit\n');
      expect((await chat.exited).code).toBe(0);
      // Both exchanges of the chat are kept: nothing replaced the database under it.
      expect(messages()).toBe(before + 4);
    });

    it('what a killed restore leaves is finished or removed by the next backup command', async () => {
      const home = tempHome();
      const count = demoHome(home);
      const snapshot = create(home);
      mkdirSync(join(home, 'notes'));
      writeFileSync(
        join(home, 'notes', 'extra.md'),
        '# Extra\n\nA note added after the snapshot.\n',
      );
      ok(home, 'ingest', join(home, 'notes'));
      const changed = fragments(home);
      expect(changed).toBeGreaterThan(count);
      let killedMidway = 0;
      for (const [round, recover] of [
        [0, 'restore'],
        [1, 'create'],
        [2, 'restore'],
      ] as const) {
        const run = start(home, ['backup', 'restore', snapshot.id], env);
        // Killed as soon as its staging folder appears (or its commit, in round 2).
        await new Promise<void>((ok) => {
          const watcher = watch(home, (_event, name) => {
            if (!String(name).startsWith('.restore-')) return;
            const dir = join(home, String(name));
            const kill = () => {
              watcher.close();
              run.child.kill('SIGKILL');
              ok();
            };
            if (round !== 2) return kill();
            const poll = () =>
              existsSync(join(dir, 'journal.json')) || !existsSync(dir)
                ? kill()
                : setImmediate(poll);
            poll();
          });
          run.exited.then(() => {
            watcher.close();
            ok();
          });
        });
        if ((await run.exited).signal === 'SIGKILL' && leftovers(home).length > 0) killedMidway++;
        // The home opens, holding the state before the restore or the restored one.
        expect([count, changed]).toContain(fragments(home));
        if (recover === 'create') create(home);
        else ok(home, 'backup', 'restore', snapshot.id);
        expect(leftovers(home)).toEqual([]);
        if (recover === 'restore') expect(fragments(home)).toBe(count);
      }
      expect(killedMidway).toBeGreaterThan(0);
    });

    it('exports to a file, a device or a FIFO, and refuses what it cannot write', async () => {
      const home = tempHome();
      writeFileSync(join(home, 'a.txt'), 'exported\n');
      const { id } = create(home);
      const missing = aios(home, 'backup', 'export', id, join(home, 'missing', 'dir', 'x.tar'));
      expect(missing.code).toBe(1);
      expectOneLineError(missing.stderr, 'IO_NOT_FOUND');
      const dir = aios(home, 'backup', 'export', id, home);
      expect(dir.code).toBe(1);
      expectOneLineError(dir.stderr, 'IO_NOT_A_FILE');
      const file = join(home, 'out.tar');
      writeFileSync(file, 'an older archive');
      ok(home, 'backup', 'export', id, file);
      expect(readFileSync(file).subarray(257, 262).toString()).toBe('ustar');
      expect(readdirSync(home).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      if (!isRoot) return;

      // A device node is written to, never replaced by a regular file.
      const full = join(home, 'full');
      const nul = join(home, 'null');
      spawnSync('mknod', [full, 'c', '1', '7']);
      spawnSync('mknod', [nul, 'c', '1', '3']);
      const disk = aios(home, 'backup', 'export', id, full);
      expect(disk.code).toBe(1);
      expectOneLineError(disk.stderr, 'IO_DISK_FULL');
      ok(home, 'backup', 'export', id, nul);
      expect(statSync(full).isCharacterDevice()).toBe(true);
      expect(statSync(nul).isCharacterDevice()).toBe(true);

      const fifo = join(home, 'fifo');
      spawnSync('mkfifo', [fifo]);
      const reader = spawn('cat', [fifo]);
      const chunks: Buffer[] = [];
      reader.stdout.on('data', (d: Buffer) => chunks.push(d));
      const read = new Promise((ok) => reader.on('exit', ok));
      const exported = start(home, ['backup', 'export', id, fifo], env);
      expect((await exported.exited).code).toBe(0);
      await read;
      expect(Buffer.concat(chunks).subarray(257, 262).toString()).toBe('ustar');
      expect(statSync(fifo).isFIFO()).toBe(true);
    });

    it('lists a damaged snapshot file apart and removes it by id; prune keeps unprovable data', () => {
      const home = tempHome();
      writeFileSync(join(home, 'a.bin'), Buffer.alloc(200_000, 1));
      const first = create(home);
      writeFileSync(join(home, 'b.bin'), Buffer.alloc(200_000, 2));
      create(home);
      const file = join(home, 'backups', 'snapshots', `${first.id}.json`);
      writeFileSync(file, readFileSync(file, 'utf8').replace('"tags":[]', '"tags":["edited"]'));

      const list = aios(home, 'backup', 'list');
      expect(list.code).toBe(0);
      expect(list.stdout).toContain(`${first.id.slice(0, 12)}  DAMAGED`);
      const third = aios(home, 'backup', 'create');
      expect(third.code).toBe(0);
      expect(third.stdout).toContain('[SNAPSHOT_DAMAGED]');
      const prune = aios(home, 'backup', 'prune');
      expect(prune.code).toBe(0);
      expect(prune.stdout).toContain('[SNAPSHOT_DAMAGED]');
      expect(aios(home, 'backup', 'forget', '--keep-last', '1').code).toBe(0);
      const forgot = aios(home, 'backup', 'forget', first.id.slice(0, 8));
      expect(forgot.code).toBe(0);
      expect(aios(home, 'backup', 'list').stdout).not.toContain('DAMAGED');

      // A lost index: prune cannot prove its pack unused, so it keeps it.
      const index = join(home, 'backups', 'index');
      const [name] = readdirSync(index);
      const pack = (JSON.parse(readFileSync(join(index, name as string), 'utf8')) as IndexFile)
        .pack;
      unlinkSync(join(index, name as string));
      const kept = aios(home, 'backup', 'prune');
      expect(kept.code).toBe(0);
      expect(kept.stdout).toContain('[PACK_KEPT]');
      expect(existsSync(join(home, 'backups', 'data', pack.slice(0, 2), pack))).toBe(true);
    });

    it('a flipped byte fails a plain verify and the health check; the next backup does not reuse it', () => {
      const home = tempHome();
      demoHome(home);
      const first = create(home);
      ok(home, 'backup', 'verify');
      damageChunkOf(home, first.id, '/files/blob.bin');
      const second = aios(home, 'backup', 'create');
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('stored again from the live data [CHUNK_DAMAGED]');
      const target = join(home, 'restored');
      ok(home, 'backup', 'restore', 'latest', '--target', target);
      expect(readFileSync(join(target, 'files', 'blob.bin')).equals(Buffer.alloc(300_000, 7))).toBe(
        true,
      );
      const verify = aios(home, 'backup', 'verify');
      expect(verify.code).toBe(1);
      expect(verify.stdout).toContain('CHUNK_DAMAGED');
      const health = JSON.parse(aios(home, 'health', '--json').stdout);
      expect(health.checks['backup:age'][0].status).toBe('fail');
    });

    it("a backup to another repository (--repo) leaves the home's own repository out", () => {
      const home = tempHome();
      demoHome(home);
      create(home);
      const other = join(tempHome(), 'usb-repo');
      ok(home, 'backup', '--repo', other, 'create');
      const target = join(tempHome(), 'restored');
      ok(home, 'backup', '--repo', other, 'restore', 'latest', '--target', target);
      expect(readdirSync(target).sort()).toEqual(['aios.db', 'carma', 'files']);
    });

    it("a second create of a home is refused before it touches the first one's database copy", async () => {
      const home = tempHome();
      demoHome(home);
      const first = create(home);
      // A create under way: its lease held, its database copy staged.
      const running = await acquireLease('exclusive', {
        dir: join(home, '.backup.lock'),
        operation: 'aios backup create',
      });
      const copy = join(home, '.database-copy', 'aios.db');
      mkdirSync(join(home, '.database-copy'));
      writeFileSync(copy, 'being read by the running backup');
      try {
        const second = aios(home, 'backup', 'create');
        expectOneLineError(second.stderr, 'REPO_LOCKED');
        expect(second.stderr).toContain(`process ${process.pid}`);
        expect(readFileSync(copy, 'utf8')).toBe('being read by the running backup');
      } finally {
        await running.release();
      }
      // Once it is gone, the next create clears what it left and snapshots the home.
      const next = create(home);
      expect(next.id).not.toBe(first.id);
      expect(existsSync(join(home, '.database-copy'))).toBe(false);
      const target = join(home, 'restored');
      ok(home, 'backup', 'restore', 'latest', '--target', target);
      expect(fragments(target)).toBe(fragments(home));
    });

    it('a damaged index: verify names the files it costs, the next backup stores them again', () => {
      const home = tempHome();
      demoHome(home);
      expect(spawnSync('mkfifo', [join(home, 'pipe')]).status).toBe(0);
      const first = create(home);
      const index = join(home, 'backups', 'index');
      for (const name of readdirSync(index)) writeFileSync(join(index, name), '{"version":1,');

      const verify = aios(home, 'backup', 'verify', '--read-data', '100');
      expect(verify.code).toBe(1);
      expect(verify.stdout).toContain('REPO_CORRUPT');
      expect(verify.stdout).toMatch(
        new RegExp(`snapshot ${first.id.slice(0, 12)} cannot restore \\d+ files?:`),
      );
      expect(verify.stdout).toContain('files/blob.bin\n');
      const target = join(home, 'restored');
      const restore = aios(home, 'backup', 'restore', 'latest', '--target', target);
      expect(restore.code).toBe(1);
      expect(restore.stdout).toContain('error: files/blob.bin: chunk ');
      expect(restore.stdout).toContain('[CHUNK_MISSING]');
      expect(existsSync(target)).toBe(false);

      // Every command still runs; a backup stores the chunks again and says why.
      const second = aios(home, 'backup', 'create');
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('not valid JSON; the chunks of its pack are not reused');
      // A file's warning names it once.
      expect(second.stdout).toContain(
        `warning: ${join(realpathSync(home), 'pipe')}: a fifo, not backed up\n`,
      );
      ok(home, 'backup', 'restore', 'latest', '--target', target);
      expect(readFileSync(join(target, 'files', 'blob.bin')).equals(Buffer.alloc(300_000, 7))).toBe(
        true,
      );
      ok(home, 'backup', 'forget', '--keep-last', '1', '--prune');
      const healed = ok(home, 'backup', 'verify', '--read-data', '100');
      expect(healed.stdout).toContain('repository ok');
    });

    it.runIf(isRoot)(
      'a full disk and a read-only home give coded errors; backups work again after',
      () => {
        const disk = tempHome();
        expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', disk]).status).toBe(0);
        try {
          const home = join(disk, 'home');
          const count = demoHome(home);
          const filler = join(disk, 'filler');
          mkdirSync(filler);
          for (let i = 0; ; i++) {
            try {
              writeFileSync(join(filler, `f${i}`), Buffer.alloc(256 * 1024, 1));
            } catch {
              break;
            }
          }
          const full = aios(home, 'backup', 'create');
          expect(full.code).toBe(1);
          expectOneLineError(full.stderr, 'IO_DISK_FULL');
          spawnSync('rm', ['-rf', filler]);
          create(home);
          ok(home, 'backup', 'verify');

          expect(spawnSync('mount', ['-o', 'remount,ro', disk]).status).toBe(0);
          try {
            for (const args of [
              ['backup', 'create'],
              ['backup', 'restore', 'latest'],
            ]) {
              const r = aios(home, ...args);
              expect(r.code, `aios ${args.join(' ')}`).toBe(1);
              expectOneLineError(r.stderr, 'IO_READ_ONLY');
            }
          } finally {
            spawnSync('mount', ['-o', 'remount,rw', disk]);
          }
          expect(fragments(home)).toBe(count);

          // A restore in place short of space says how much it needs, and changes nothing.
          mkdirSync(filler);
          for (let i = 0; ; i++) {
            try {
              writeFileSync(join(filler, `f${i}`), Buffer.alloc(64 * 1024, 1));
            } catch {
              // Room for the locks, not for the snapshot's files.
              for (let j = 1; j <= 4; j++) spawnSync('rm', ['-f', join(filler, `f${i - j}`)]);
              break;
            }
          }
          const short = aios(home, 'backup', 'restore', 'latest');
          expect(short.code).toBe(1);
          expectOneLineError(short.stderr, 'IO_DISK_FULL');
          expect(short.stderr).toMatch(
            /the restore writes the snapshot's [\d.]+ MiB in .* before it replaces anything, and needs that much free there \([\d.]+ MiB free now\)/,
          );
          spawnSync('rm', ['-rf', filler]);
          expect(leftovers(home)).toEqual([]);
          expect(fragments(home)).toBe(count);
        } finally {
          spawnSync('umount', ['-l', disk]);
        }
      },
    );
  },
);
