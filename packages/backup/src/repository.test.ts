import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it, vi } from 'vitest';
import { acquireLock, acquireReadLock } from './repo/lock.js';
import { type BackupProgress, initRepository, openRepository } from './repository.js';
import type { RetentionPolicy } from './retention.js';
import { describeTree, noise, snapPath } from './testing/fixtures.js';
import { freshRepo, type SourceOptions, tempBase } from './testing/repo-fixture.js';

const EXCLUDES = ['cache/', '*.log'];

const base = tempBase('aios-backup-');

/** The tree of `src` as restored under `target`. */
const restoredTree = (src: string, target: string) => describeTree(join(target, snapPath(src)));

/** The tree of `src` without what `EXCLUDES` leaves out. */
const expectedTree = (src: string) => {
  const all = describeTree(src);
  delete all.cache;
  delete all['cache/skip.tmp'];
  delete all['notes.log'];
  return all;
};

// Every test works on a repository of its own: none depends on what another one did.
describe.each(testImplementations())('repository (%s)', (impl) => {
  const fresh = (source?: SourceOptions) => freshRepo(base(), impl, source);
  /** A fresh repository holding one snapshot of its source. */
  const backedUp = async () => {
    const fixture = await fresh();
    const { snapshot } = await fixture.repo.backup([fixture.src], { excludes: EXCLUDES });
    return { ...fixture, id: snapshot.id };
  };

  it('runs the requested implementation and refuses bad repositories', async () => {
    const { dir, src, repo } = await fresh();
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
    const { dir, src, repo } = await fresh();
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
    expect(restoredTree(src, target)).toEqual(expectedTree(src));
    expect((await repo.snapshots()).map((s) => s.id)).toEqual([snapshot.id]);
  });

  it('reuses unchanged files without reading them and stores only changed chunks', async () => {
    const { dir, src, repo } = await backedUp();
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
    expect(restoredTree(src, target)).toEqual(expectedTree(src));
  });

  it('restores only what include selects', async () => {
    const { dir, src, repo, id } = await backedUp();
    const target = join(dir, 'restore-include');
    const r = await repo.restore(id, target, { include: [`${snapPath(src)}/docs/`] });
    expect(r.files).toBe(2);
    expect(Object.keys(restoredTree(src, target)).sort()).toEqual([
      'docs',
      'docs/a.bin',
      'docs/deep',
      'docs/deep/er',
      'docs/deep/er/b.txt',
    ]);
  });

  it('verifies structure and data', async () => {
    const { repo } = await backedUp();
    const v = await repo.verify({ readData: 100 });
    expect(v.errors).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.checkedPacks).toBe(v.packs);
    expect(v.checkedChunks).toBeGreaterThanOrEqual(v.chunks);
    await expect(repo.verify({ readData: 101 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('exports a tar stream that plain tar extracts', async () => {
    const { dir, src, repo, id } = await backedUp();
    const tarFile = join(dir, 'snap.tar');
    await pipeline(await repo.exportTar(id), createWriteStream(tarFile));
    const out = join(dir, 'untar');
    mkdirSync(out);
    execFileSync('tar', ['-xf', tarFile, '-C', out]);
    expect(describeTree(join(out, snapPath(src)))).toEqual(expectedTree(src));
  });

  it('refuses a second writer while the lock is held, and cancels cleanly', async () => {
    const { src, repo } = await backedUp();
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
    expect(await repo.snapshots()).toHaveLength(1);
  });

  it('a forget whose prune is refused says that the snapshots were removed', async () => {
    const { src, repo, id } = await backedUp();
    const reading = await acquireReadLock(repo.path, 'restore');
    try {
      // A forget goes through; the prune it asked for does not, and its error says both.
      await repo.backup([src], { force: true, tags: ['second'] });
      await expect(repo.forget({ keepTags: ['second'] }, { prune: true })).rejects.toMatchObject({
        code: 'REPO_LOCKED',
        message: expect.stringMatching(
          new RegExp(
            `^1 snapshot was removed \\(${id.slice(0, 12)}\\), but its data was not pruned: .*being read by restore.*; run prune again later$`,
          ),
        ),
        details: { removed: [id] },
      });
      expect((await repo.snapshots()).map((s) => s.tags)).toEqual([['second']]);
    } finally {
      await reading();
    }
  });

  it('keeps prune and readers apart, but lets readers overlap a backup', async () => {
    const { dir, src, repo, id } = await backedUp();
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
    expect(restoredTree(src, target)).toEqual(expectedTree(src));
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

  it('stores a file larger than a read window with the chunks of the whole file', async () => {
    const { dir, src, repo } = await fresh();
    // Past the 32 MiB window of the one-pass read: the read goes on from where a window ended.
    const big = Buffer.concat([noise(20 * 1024 * 1024, 31), noise(16 * 1024 * 1024, 32)]);
    writeFileSync(join(src, 'big.bin'), big);
    const { snapshot } = await repo.backup([src]);
    const entry = (await repo.loadSnapshot(snapshot.id)).entries.find((e) =>
      e.path.endsWith('/big.bin'),
    );
    expect(entry?.chunks).toEqual(
      repo.engine.chunkBytes(big, repo.config.chunker).map((c) => c.id),
    );
    const target = join(dir, 'big-restored');
    expect((await repo.restore(snapshot.id, target)).errors).toEqual([]);
    expect(restoredTree(src, target)).toEqual(describeTree(src));
    expect((await repo.verify({ readData: 100 })).ok).toBe(true);
  });

  it('reports special, vanished and changing files and still completes', async () => {
    const { dir, repo } = await fresh();
    const odd = join(dir, 'odd');
    mkdirSync(odd);
    writeFileSync(join(odd, 'ok.txt'), 'fine');
    writeFileSync(join(odd, 'vanishes.txt'), 'gone soon');
    execFileSync('mkfifo', [join(odd, 'pipe')]);
    const changing = join(odd, 'changing.bin');
    const settles = join(odd, 'settles.bin');
    writeFileSync(changing, noise(2 * 1024 * 1024, 5));
    writeFileSync(settles, noise(1024 * 1024, 6));
    // A file is changed right after each time the engine has read it: `changing.bin` every
    // time (its first read and the one read again), `settles.bin` the first time only.
    const touched = new Map<string, number>();
    const touch = (path: string) => {
      const n = (touched.get(path) ?? 0) + 1;
      touched.set(path, n);
      const mtime = statSync(path).mtimeMs / 1000 + n;
      utimesSync(path, mtime, mtime);
    };
    const afterRead = (paths: string[]) => {
      if (paths.includes(changing)) touch(changing);
      if (paths.includes(settles) && !touched.has(settles)) touch(settles);
    };
    const chunkFiles = repo.engine.chunkFiles.bind(repo.engine);
    const spy = vi.spyOn(repo.engine, 'chunkFiles').mockImplementation(async (paths, params) => {
      const results = await chunkFiles(paths, params);
      afterRead(paths);
      return results;
    });
    // The one-pass read of new files (native): a file is read once its last window is.
    const chunkWindows = repo.engine.chunkWindows?.bind(repo.engine);
    const windowSpy = chunkWindows
      ? vi.spyOn(repo.engine, 'chunkWindows').mockImplementation(async (reqs, params, level) => {
          const results = await chunkWindows(reqs, params, level);
          afterRead(
            reqs.filter((_, i) => results[i]?.ok && results[i].value.eof).map((r) => r.path),
          );
          return results;
        })
      : undefined;
    try {
      const { snapshot, warnings } = await repo.backup([odd], {
        onProgress: (p) => {
          if (p.phase === 'scan') rmSync(join(odd, 'vanishes.txt'));
        },
      });
      expect(touched).toEqual(
        new Map([
          [changing, 2],
          [settles, 1],
        ]),
      );
      const codes = Object.fromEntries(warnings.map((w) => [w.path.split('/').at(-1), w.code]));
      expect(codes).toEqual({
        pipe: 'SPECIAL_FILE',
        'vanishes.txt': 'IO_NOT_FOUND',
        'changing.bin': 'FILE_CHANGED',
      });
      expect(warnings.find((w) => w.code === 'IO_NOT_FOUND')?.message).toBe(
        `${join(odd, 'vanishes.txt')}: removed while being backed up; not in the snapshot`,
      );
      expect(snapshot.warnings).toEqual(warnings);
      // Both were stored: `changing.bin` as last read, `settles.bin` from its second read.
      const target = join(dir, 'restore-odd');
      expect((await repo.restore(snapshot.id, target, { root: odd })).errors).toEqual([]);
      expect(readFileSync(join(target, 'ok.txt'), 'utf8')).toBe('fine');
      for (const name of ['changing.bin', 'settles.bin']) {
        expect(readFileSync(join(target, name)).equals(readFileSync(join(odd, name)))).toBe(true);
      }
    } finally {
      spy.mockRestore();
      windowSpy?.mockRestore();
    }
  });

  it.skipIf(process.getuid?.() === 0)(
    'reports unreadable files (not as root: root reads anything)',
    async () => {
      const { dir, repo } = await fresh();
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
    const { dir, src, repo } = await backedUp();
    // Two path sets, two snapshots each; the big file changed between the first two.
    writeFileSync(join(src, 'big.bin'), noise(3 * 1024 * 1024, 9));
    const keep = (await repo.backup([src], { excludes: EXCLUDES })).snapshot.id;
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'a.txt'), 'other path set');
    await repo.backup([other]);
    await repo.backup([other]);
    expect(await repo.snapshots()).toHaveLength(4);

    const dry = await repo.forget({ keepLast: 1 }, { dryRun: true });
    expect(dry.remove).toHaveLength(2); // one per path set is kept
    expect(await repo.snapshots()).toHaveLength(4);
    const r = await repo.forget({ keepLast: 1 }, { prune: true });
    expect(r.keep).toContain(keep);
    expect(r.prune?.bytesFreed).toBeGreaterThan(0);
    expect(await repo.snapshots()).toHaveLength(2);
    const v = await repo.verify({ readData: 100 });
    expect(v.errors).toEqual([]);
    const target = join(dir, 'restore-after-prune');
    await repo.restore(keep, target);
    expect(restoredTree(src, target)).toEqual(expectedTree(src));
    await expect(repo.forget({})).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it("refuses a policy that would keep none of a path set's snapshots, whatever its rules", async () => {
    const { dir, src, repo } = await fresh({ files: { 'a.txt': Buffer.from('a') } });
    const tagged = (await repo.backup([src], { tags: ['monthly'] })).snapshot.id;
    await repo.backup([src]);
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'b.txt'), 'b');
    await repo.backup([other]);
    const before = await repo.snapshots();
    expect(before).toHaveLength(3);

    const empty: Array<[RetentionPolicy, string]> = [
      [{ keepLast: 0 }, 'got a policy to keep the last 0 snapshots'],
      [{}, 'got a policy with no keep rule'],
      [{ keepTags: [] }, 'got a policy to keep those tagged with one of no tags'],
    ];
    for (const [policy, words] of empty) {
      const refused = repo.forget(policy, { prune: true });
      await expect(refused).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(refused).rejects.toThrow(`forgetting every snapshot is refused), ${words}`);
    }
    // Tags no snapshot carries keep nothing: refused, on a dry run too, nothing removed.
    for (const dryRun of [true, false]) {
      const refused = repo.forget({ keepTags: ['nope'] }, { prune: true, dryRun });
      await expect(refused).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        details: { field: 'policy', paths: [src], snapshots: 2 },
      });
      await expect(refused).rejects.toThrow(
        'got a policy to keep those tagged "nope", which keeps none of the 2 snapshots of',
      );
    }
    // A tag that keeps one path set's snapshot still empties the other: refused as well.
    await expect(repo.forget({ keepTags: ['monthly'] })).rejects.toThrow(
      'keeps none of the 1 snapshot of',
    );
    expect((await repo.snapshots()).map((s) => s.id)).toEqual(before.map((s) => s.id));
    // With a rule that keeps one of each, the tag keeps its snapshot too.
    const r = await repo.forget({ keepTags: ['monthly'], keepLast: 1 });
    expect(r.remove).toEqual([]);
    expect(r.keep).toContain(tagged);
    // By id, every snapshot can still be forgotten.
    expect(await repo.forgetSnapshots(before.map((s) => s.id))).toHaveLength(3);
    expect(await repo.snapshots()).toEqual([]);
  });

  it('names the newest snapshots latest and latest~N for every operation', async () => {
    const { dir, src, repo } = await fresh({ files: { 'a.txt': Buffer.from('one') } });
    await expect(repo.resolveSnapshotId('latest')).rejects.toMatchObject({
      code: 'SNAPSHOT_NOT_FOUND',
    });
    const first = (await repo.backup([src])).snapshot.id;
    writeFileSync(join(src, 'a.txt'), 'two');
    const second = (await repo.backup([src])).snapshot.id;
    expect(await repo.resolveSnapshotId('latest')).toBe(second);
    expect(await repo.resolveSnapshotId('latest~1')).toBe(first);
    await expect(repo.resolveSnapshotId('latest~2')).rejects.toThrow('has only 2 snapshots');
    await expect(repo.resolveSnapshotId('newest')).rejects.toThrow('"latest" or "latest~N"');
    expect((await repo.loadSnapshot('latest')).id).toBe(second);
    expect((await repo.diff('latest~1', 'latest')).modified).toEqual([`${snapPath(src)}/a.txt`]);
    const target = join(dir, 'restored');
    await repo.restore('latest~1', target);
    expect(readFileSync(join(target, snapPath(src), 'a.txt'), 'utf8')).toBe('one');
    const tar = join(dir, 'latest.tar');
    await pipeline(await repo.exportTar('latest'), createWriteStream(tar));
    expect(readFileSync(tar).includes(Buffer.from('two'))).toBe(true);

    // forgetSnapshots resolves the same names; a dry run only names what it would remove.
    expect(await repo.forgetSnapshots(['latest', second.slice(0, 8)], { dryRun: true })).toEqual([
      second,
    ]);
    expect(await repo.snapshots()).toHaveLength(2);
    expect(await repo.forgetSnapshots(['latest'])).toEqual([second]);
    expect((await repo.snapshots()).map((s) => s.id)).toEqual([first]);
  });
});
