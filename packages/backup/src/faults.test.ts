import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Entry,
  emptySummary,
  FORMAT_VERSION,
  type IndexFile,
  type SnapshotFile,
} from './format.js';
import { initRepository, type Repository } from './repository.js';
import { describeTree, makeTree, noise, snapPath } from './testing/fixtures.js';

const SMALL_CHUNKS = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 };
const packageDir = fileURLToPath(new URL('..', import.meta.url));

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'aios-backup-faults-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Seeded PRNG so a failing run can be replayed (the seed is in the test name). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function indexFiles(repo: Repository): IndexFile[] {
  const dir = join(repo.path, 'index');
  return readdirSync(dir).map(
    (n: string) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as IndexFile,
  );
}

/** Writes a snapshot file as a hostile or broken writer might have. */
function plantSnapshot(repo: Repository, entries: Entry[]): string {
  const snap: SnapshotFile = {
    version: FORMAT_VERSION,
    time: new Date().toISOString(),
    hostname: 'evil',
    paths: ['/x'],
    tags: [],
    parent: null,
    summary: emptySummary(),
    warnings: [],
    entries,
  };
  const bytes = Buffer.from(JSON.stringify(snap));
  const id = repo.engine.hash(bytes);
  writeFileSync(join(repo.path, 'snapshots', `${id}.json`), bytes);
  return id;
}

const fileEntry = (path: string): Entry => ({
  path,
  type: 'file',
  mode: 0o644,
  size: 0,
  mtimeNs: '0',
  uid: 0,
  gid: 0,
  inode: 1,
  chunks: [],
});

describe.each(testImplementations())('faults (%s)', (impl) => {
  it('reports every damaged chunk and the affected snapshots; undamaged files still restore', async () => {
    const dir = join(base, `corrupt-${impl}`);
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    for (let i = 0; i < 8; i++) writeFileSync(join(src, `f${i}.bin`), noise(400_000, 100 + i));
    const repo = await initRepository(join(dir, 'repo'), {
      native: impl,
      chunker: SMALL_CHUNKS,
      packSize: 1024 * 1024,
    });
    const { snapshot } = await repo.backup([src]);
    const packs = indexFiles(repo);
    expect(packs.length).toBeGreaterThanOrEqual(3);
    const random = rng(impl === 'native' ? 11 : 12);
    const damaged = new Set<string>();
    for (const pack of [...packs].sort(() => random() - 0.5).slice(0, 2)) {
      const blob = pack.blobs[
        Math.floor(random() * pack.blobs.length)
      ] as IndexFile['blobs'][number];
      const at = blob.offset + Math.floor(random() * blob.length);
      const path = join(repo.path, 'data', pack.pack.slice(0, 2), pack.pack);
      const bytes = readFileSync(path);
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.from([(bytes[at] as number) ^ 0x10]), 0, 1, at);
      closeSync(fd);
      damaged.add(blob.id);
    }
    const v = await repo.verify({ readData: 100 });
    expect(v.ok).toBe(false);
    expect(v.damagedChunks).toEqual([...damaged].sort());
    const entries = JSON.parse(
      readFileSync(join(repo.path, 'snapshots', `${snapshot.id}.json`), 'utf8'),
    ).entries as Entry[];
    const hit = entries.filter((e) => e.chunks?.some((c) => damaged.has(c))).map((e) => e.path);
    expect(v.affectedSnapshots).toEqual([{ id: snapshot.id, paths: hit }]);
    // Structure alone (no data read) does not see bit flips inside chunks; what the last
    // read found is still reported.
    const structure = await repo.verify({ readData: 0 });
    expect(structure.checkedPacks).toBe(0);
    expect(structure.damagedChunks).toEqual([...damaged].sort());

    const target = join(dir, 'restore');
    const result = await repo.restore(snapshot.id, target);
    expect(result.errors.map((e) => e.path).sort()).toEqual(hit.sort());
    expect(result.errors.every((e) => e.code === 'CHUNK_DAMAGED')).toBe(true);
    const restored = describeTree(join(target, snapPath(src)));
    const original = describeTree(src);
    for (const [name, digest] of Object.entries(original)) {
      if (hit.includes(snapPath(join(src, name)))) expect(restored[name]).toBeUndefined();
      else expect(restored[name]).toBe(digest);
    }
  });

  it('refuses manifests that would write outside the target', async () => {
    const dir = join(base, `unsafe-${impl}`);
    const repo = await initRepository(join(dir, 'repo'), { native: impl });
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    const hostile: Entry[][] = [
      [fileEntry('../evil')],
      [fileEntry('/etc/evil')],
      [fileEntry('a/../../evil')],
      [fileEntry('a/./b')],
      [
        { ...fileEntry('link'), type: 'symlink', target: outside, chunks: undefined },
        fileEntry('link/evil'),
      ],
    ];
    for (const entries of hostile) {
      const id = plantSnapshot(repo, entries);
      const target = join(dir, `t-${id.slice(0, 6)}`);
      await expect(repo.restore(id, target)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
      await expect(repo.exportTar(id)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
      expect(existsSync(join(target, 'evil'))).toBe(false);
    }
    // A symlink already in the target is never followed.
    const id = plantSnapshot(repo, [fileEntry('dir/evil')]);
    const target = join(dir, 'pre-linked');
    mkdirSync(target);
    symlinkSync(outside, join(target, 'dir'));
    await expect(repo.restore(id, target)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    expect(existsSync(join(outside, 'evil'))).toBe(false);
  });

  it('survives SIGKILL at random points: the repository verifies and earlier snapshots restore', async () => {
    const dir = join(base, `kill-${impl}`);
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    makeTree(src, 3);
    const repo = await initRepository(join(dir, 'repo'), {
      native: impl,
      chunker: SMALL_CHUNKS,
      packSize: 1024 * 1024,
    });
    const first = await repo.backup([src]);
    // Every snapshot that completed, with the tree it must restore to.
    const expected = new Map([[first.snapshot.id, describeTree(src)]]);
    const random = rng(impl === 'native' ? 21 : 22);
    // CI-sized by default; AIOS_BACKUP_KILL_ROUNDS=50 for a longer soak.
    const KILLS = Number(process.env.AIOS_BACKUP_KILL_ROUNDS ?? 4);
    let killed = 0;
    // Round 0 runs to completion and counts the child's progress events; later rounds
    // SIGKILL it on a random one of them, so the kill lands mid-way however busy the
    // machine is (a timer would not).
    let progressEvents = 0;
    for (let round = 0; round <= KILLS; round++) {
      // New data every round so the child has packs to write when it dies.
      for (let i = 0; i < 6; i++) {
        writeFileSync(join(src, `round-${i}.bin`), noise(1_500_000, 1000 * round + i));
      }
      const killAt =
        round === 0
          ? Number.POSITIVE_INFINITY
          : 1 + Math.floor(random() * Math.max(1, progressEvents - 1));
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(packageDir, 'src/testing/backup-child.ts'), repo.path, impl, src],
        { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      let seen = 0;
      child.stderr.on('data', (d) => {
        stderr += String(d);
      });
      const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
        child.on('exit', (code, signal) => ok({ code, signal })),
      );
      child.stdout.on('data', (d: Buffer) => {
        seen += (String(d).match(/"phase"/g) ?? []).length;
        if (seen >= killAt) child.kill('SIGKILL');
      });
      const { code, signal } = await exit;
      if (round === 0) progressEvents = seen;
      if (signal === 'SIGKILL') killed++;
      else expect({ code, stderr }).toMatchObject({ code: 0 });
      // A completed backup, or one killed after its snapshot was committed, adds exactly
      // one snapshot of this round's tree; one killed before adds none.
      const added = (await repo.snapshots()).filter((s) => !expected.has(s.id));
      if (signal === 'SIGKILL') expect(added.length).toBeLessThanOrEqual(1);
      else expect(added).toHaveLength(1);
      for (const s of added) expected.set(s.id, describeTree(src));

      const v = await repo.verify({ readData: 100 });
      expect(v.errors).toEqual([]);
      expect((await repo.snapshots()).length).toBe(expected.size);
      for (const [id, tree] of expected) {
        const target = join(dir, `restore-${round}-${id.slice(0, 8)}`);
        const r = await repo.restore(id, target);
        expect(r.errors).toEqual([]);
        expect(describeTree(join(target, snapPath(src)))).toEqual(tree);
        rmSync(target, { recursive: true, force: true });
      }
    }
    // A child killed on its last progress event may still finish first; most must die mid-way.
    expect(progressEvents).toBeGreaterThan(2);
    expect(killed).toBeGreaterThanOrEqual(Math.ceil(KILLS / 2));
    // The stale lock of a killed process is taken over; leftovers are pruned.
    const after = await repo.backup([src]);
    expect(after.warnings).toEqual([]);
    await repo.prune();
    const v = await repo.verify({ readData: 100 });
    expect(v.errors).toEqual([]);
    const target = join(dir, 'restore-final');
    await repo.restore(after.snapshot.id, target);
    expect(describeTree(join(target, snapPath(src)))).toEqual(describeTree(src));
  }, 120_000);
});
