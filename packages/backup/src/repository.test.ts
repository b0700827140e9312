import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, acquireReadLock } from './repo/lock.js';
import {
  type BackupProgress,
  initRepository,
  openRepository,
  type Repository,
} from './repository.js';
import { describeTree, makeTree, noise, snapPath } from './testing/fixtures.js';

const SMALL_CHUNKS = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 };
const EXCLUDES = ['cache/', '*.log'];

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'aios-backup-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe.each(testImplementations())('repository (%s)', (impl) => {
  let dir: string;
  let src: string;
  let repo: Repository;
  beforeAll(async () => {
    dir = join(base, impl);
    src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    makeTree(src);
    repo = await initRepository(join(dir, 'repo'), {
      native: impl,
      chunker: SMALL_CHUNKS,
      packSize: 1024 * 1024,
    });
  });

  const restoredTree = (target: string) => describeTree(join(target, snapPath(src)));
  const expectedTree = () => {
    const all = describeTree(src);
    delete all.cache;
    delete all['cache/skip.tmp'];
    delete all['notes.log'];
    return all;
  };

  it('runs the requested implementation and refuses bad repositories', async () => {
    expect(repo.implementation).toBe(impl);
    await expect(openRepository(join(dir, 'nowhere'), { native: impl })).rejects.toMatchObject({
      code: 'REPO_NOT_FOUND',
    });
    await expect(initRepository(src, { native: impl })).rejects.toMatchObject({
      code: 'REPO_EXISTS',
    });
    await expect(
      initRepository(join(dir, 'bad'), {
        native: impl,
        chunker: { minSize: 1, avgSize: 2, maxSize: 3 },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(repo.backup([])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('backs up, restores byte for byte, and skips excluded paths', async () => {
    const events: BackupProgress[] = [];
    const { snapshot, warnings } = await repo.backup([src], {
      excludes: EXCLUDES,
      tags: ['first'],
      onProgress: (p) => events.push(p),
    });
    expect(warnings).toEqual([]);
    expect(snapshot.tags).toEqual(['first']);
    expect(snapshot.summary).toMatchObject({
      files: 5,
      symlinks: 1,
      filesNew: 5,
      filesUnchanged: 0,
    });
    expect(snapshot.summary.chunksNew).toBeGreaterThan(10);
    expect(events[0]?.phase).toBe('scan');
    const last = events.at(-1) as BackupProgress;
    expect(last).toMatchObject({ phase: 'done', filesDone: 5, filesTotal: 5, etaSeconds: 0 });
    expect(last.bytesDone).toBe(last.bytesTotal);
    const target = join(dir, 'restore1');
    const result = await repo.restore(snapshot.id, target);
    expect(result.errors).toEqual([]);
    expect(restoredTree(target)).toEqual(expectedTree());
    expect((await repo.snapshots()).map((s) => s.id)).toEqual([snapshot.id]);
  });

  it('reuses unchanged files without reading them and stores only changed chunks', async () => {
    const again = await repo.backup([src], { excludes: EXCLUDES });
    expect(again.snapshot.summary).toMatchObject({
      filesUnchanged: 5,
      filesChanged: 0,
      chunksNew: 0,
      bytesStored: 0,
    });
    // Change 100 bytes in the middle of the big file: only the chunks around it are new.
    const big = noise(3 * 1024 * 1024 + 123, 2);
    big.fill(7, 1_500_000, 1_500_100);
    writeFileSync(join(src, 'big.bin'), big);
    writeFileSync(join(src, 'new.txt'), 'a new file');
    const changed = await repo.backup([src], { excludes: EXCLUDES });
    expect(changed.snapshot.summary).toMatchObject({
      filesChanged: 1,
      filesNew: 1,
      filesUnchanged: 4,
    });
    expect(changed.snapshot.summary.chunksNew).toBeLessThanOrEqual(4);
    expect(changed.snapshot.parent).toBe(again.snapshot.id);
    const diff = await repo.diff(again.snapshot.id, changed.snapshot.id);
    expect(diff.added).toEqual([snapPath(join(src, 'new.txt'))]);
    expect(diff.modified).toEqual([snapPath(join(src, 'big.bin'))]);
    expect(diff.removed).toEqual([]);
    const target = join(dir, 'restore2');
    await repo.restore(changed.snapshot.id.slice(0, 8), target);
    expect(restoredTree(target)).toEqual(expectedTree());
  });

  it('restores only what include selects', async () => {
    const [latest] = (await repo.snapshots()).slice(-1);
    const target = join(dir, 'restore-include');
    const r = await repo.restore(latest?.id as string, target, {
      include: [`${snapPath(src)}/docs/`],
    });
    expect(r.files).toBe(2);
    const tree = restoredTree(target);
    expect(Object.keys(tree).sort()).toEqual([
      'docs',
      'docs/a.bin',
      'docs/deep',
      'docs/deep/er',
      'docs/deep/er/b.txt',
    ]);
  });

  it('verifies structure and data', async () => {
    const v = await repo.verify({ readData: 100 });
    expect(v.errors).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.checkedPacks).toBe(v.packs);
    expect(v.checkedChunks).toBeGreaterThanOrEqual(v.chunks);
    await expect(repo.verify({ readData: 101 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('exports a tar stream that plain tar extracts', async () => {
    const [latest] = (await repo.snapshots()).slice(-1);
    const tarFile = join(dir, 'snap.tar');
    await pipeline(await repo.exportTar(latest?.id as string), createWriteStream(tarFile));
    const out = join(dir, 'untar');
    mkdirSync(out);
    execFileSync('tar', ['-xf', tarFile, '-C', out]);
    expect(describeTree(join(out, snapPath(src)))).toEqual(expectedTree());
  });

  it('refuses a second writer while the lock is held, and cancels cleanly', async () => {
    const release = await acquireLock(repo.path, 'test');
    await expect(repo.backup([src])).rejects.toMatchObject({ code: 'REPO_LOCKED' });
    await release();
    const controller = new AbortController();
    await expect(
      repo.backup([src], {
        signal: controller.signal,
        force: true,
        onProgress: () => controller.abort(),
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await repo.verify()).ok).toBe(true);
    expect(existsSync(join(repo.path, 'locks', 'lock.json'))).toBe(false);
  });

  it('keeps prune and readers apart, but lets readers overlap a backup', async () => {
    const [latest] = (await repo.snapshots()).slice(-1);
    const id = latest?.id as string;
    const reading = await acquireReadLock(repo.path, 'restore');
    await expect(repo.prune()).rejects.toMatchObject({
      code: 'REPO_LOCKED',
      message: expect.stringContaining('being read by restore'),
    });
    // The refused prune left no exclusive lock behind.
    expect(existsSync(join(repo.path, 'locks', 'lock.json'))).toBe(false);
    await reading();

    const pruning = await acquireLock(repo.path, 'prune');
    await expect(repo.restore(id, join(dir, 'during-prune'))).rejects.toMatchObject({
      code: 'REPO_LOCKED',
    });
    await expect(repo.verify()).rejects.toMatchObject({ code: 'REPO_LOCKED' });
    await expect(repo.exportTar(id)).rejects.toMatchObject({ code: 'REPO_LOCKED' });
    await pruning();

    const backingUp = await acquireLock(repo.path, 'backup');
    const target = join(dir, 'during-backup');
    await repo.restore(id, target);
    expect(restoredTree(target)).toEqual(expectedTree());
    await backingUp();

    // An export holds its read lock until the stream is consumed.
    const tar = await repo.exportTar(id);
    await expect(repo.prune()).rejects.toMatchObject({ code: 'REPO_LOCKED' });
    await pipeline(tar, createWriteStream(join(dir, 'held.tar')));
    await new Promise((r) => setImmediate(r));
    await repo.prune();

    // A reader killed mid-restore leaves a stale lock that prune takes over.
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(
      join(repo.path, 'locks', 'read-dead.json'),
      JSON.stringify({ pid: dead.pid, hostname: hostname(), operation: 'restore', time: '' }),
    );
    await repo.prune();
    expect(existsSync(join(repo.path, 'locks', 'read-dead.json'))).toBe(false);
    expect(readdirSync(join(repo.path, 'locks'))).toEqual([]);
  });

  // Retried: whether the writer process gets the CPU while the file is read is up to the
  // scheduler of a busy machine.
  it('reports special, vanished and changing files and still completes', { retry: 2 }, async () => {
    const odd = mkdtempSync(join(dir, 'odd-')); // fresh on a retry
    writeFileSync(join(odd, 'ok.txt'), 'fine');
    writeFileSync(join(odd, 'vanishes.txt'), 'gone soon');
    execFileSync('mkfifo', [join(odd, 'pipe')]);
    const changing = join(odd, 'changing.bin');
    writeFileSync(changing, noise(16 * 1024 * 1024, 5));
    // A separate process rewrites the file in a tight loop during the backup.
    const writer = spawn(process.execPath, [
      '-e',
      `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(changing)},'r+');let i=0;for(;;){fs.writeSync(fd,Buffer.from([i++&255]),0,1,(i*7919)%16000000);}`,
    ]);
    // Wait until the writer is demonstrably rewriting the file.
    const mtime = () => statSync(changing).mtimeMs;
    const initial = mtime();
    for (let i = 0; i < 200 && mtime() === initial; i++)
      await new Promise((r) => setTimeout(r, 10));
    try {
      const { snapshot, warnings } = await repo.backup([odd], {
        onProgress: (p) => {
          if (p.phase === 'scan') rmSync(join(odd, 'vanishes.txt'));
        },
      });
      expect(writer.exitCode).toBe(null);
      expect(warnings.length).toBe(3);
      const codes = Object.fromEntries(warnings.map((w) => [w.path.split('/').at(-1), w.code]));
      expect(codes.pipe).toBe('SPECIAL_FILE');
      expect(codes['vanishes.txt']).toBe('IO_NOT_FOUND');
      expect(codes['changing.bin']).toBe('FILE_CHANGED');
      expect(snapshot.warnings).toEqual(warnings);
      const target = mkdtempSync(join(dir, 'restore-odd-'));
      await repo.restore(snapshot.id, target);
      expect(readFileSync(join(target, snapPath(odd), 'ok.txt'), 'utf8')).toBe('fine');
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it.skipIf(process.getuid?.() === 0)(
    'reports unreadable files (not as root: root reads anything)',
    async () => {
      const locked = join(dir, 'locked');
      mkdirSync(locked);
      writeFileSync(join(locked, 'ok.txt'), 'fine');
      writeFileSync(join(locked, 'secret.txt'), 'no');
      chmodSync(join(locked, 'secret.txt'), 0);
      const { snapshot, warnings } = await repo.backup([locked]);
      expect(warnings.map((w) => [w.path.split('/').at(-1), w.code])).toEqual([
        ['secret.txt', 'IO_PERMISSION_DENIED'],
      ]);
      expect(snapshot.summary.files).toBe(1);
    },
  );

  it('forgets by policy and prunes unreferenced data', async () => {
    const before = await repo.snapshots();
    const keep = before.at(-1)?.id as string;
    const dry = await repo.forget({ keepLast: 1 }, { dryRun: true });
    const groups = new Set(before.map((s) => JSON.stringify([s.hostname, s.paths]))).size;
    expect(dry.remove.length).toBe(before.length - groups); // one per path set is kept
    const r = await repo.forget({ keepLast: 1 }, { prune: true });
    expect(r.keep).toContain(keep);
    expect(r.prune?.bytesFreed).toBeGreaterThan(0);
    expect((await repo.snapshots()).length).toBe(groups);
    const v = await repo.verify({ readData: 100 });
    expect(v.errors).toEqual([]);
    const latest = (await repo.snapshots()).find((s) => s.paths[0] === src);
    const target = join(dir, 'restore-after-prune');
    await repo.restore(latest?.id as string, target);
    expect(restoredTree(target)).toEqual(expectedTree());
    await expect(repo.forget({})).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
