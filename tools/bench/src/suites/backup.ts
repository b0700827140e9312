import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initRepository } from '@aios/backup';
import type { BenchResult, Suite } from '../types.js';

const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes: AES-128-CTR over zeros with a seed-derived key. */
function randomBytesFor(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(length));
}

const WORDS =
  'the of and a to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part'.split(
    ' ',
  );

/** Compressible, text-like bytes (words drawn by a seeded generator). */
function textFor(seed: string, length: number): Buffer {
  const r = randomBytesFor(seed, Math.ceil(length / 3) + 16);
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const w = WORDS[(r[i % r.length] as number) % WORDS.length] as string;
    parts.push(w);
    size += w.length + 1;
  }
  return Buffer.from(parts.join(' ')).subarray(0, length);
}

interface TreeFile {
  rel: string;
  size: number;
  kind: 'text' | 'random';
}

/**
 * A mixed tree: many small text files in nested directories plus some large files, half
 * random (incompressible) and half text. ~1 GB full, ~30 MB with --quick.
 */
function planTree(quick: boolean): TreeFile[] {
  const files: TreeFile[] = [];
  const small = quick ? 600 : 6000;
  const r = randomBytesFor('sizes', small * 2);
  for (let i = 0; i < small; i++) {
    const size = 200 + ((r.readUInt16LE(i * 2) * 7) % (quick ? 20_000 : 40_000));
    files.push({ rel: `src/d${i % 23}/e${i % 7}/file-${i}.txt`, size, kind: 'text' });
  }
  const large = quick ? [8, 8, 6] : [160, 160, 128, 128, 96, 96, 64, 64, 32];
  large.forEach((mb, i) => {
    files.push({
      rel: `media/large-${i}.bin`,
      size: mb * MiB,
      kind: i % 2 === 0 ? 'random' : 'text',
    });
  });
  return files;
}

function writeTree(root: string, files: TreeFile[], version: number, only?: Set<string>): void {
  for (const f of files) {
    if (only && !only.has(f.rel)) continue;
    const path = join(root, f.rel);
    mkdirSync(join(path, '..'), { recursive: true });
    const seed = `${f.rel}@${version}`;
    writeFileSync(
      path,
      f.kind === 'random' ? randomBytesFor(`${f.rel}@0`, f.size) : textFor(`${f.rel}@0`, f.size),
    );
    if (version > 0) {
      // The change: 1% of the small files rewritten, and 64 KiB edited in the middle of
      // each large file.
      const buf = readFileSync(path);
      if (f.size > MiB) randomBytesFor(seed, 64 * 1024).copy(buf, Math.floor(f.size / 2));
      else textFor(seed, f.size).copy(buf);
      writeFileSync(path, buf);
    }
  }
}

function changedSet(files: TreeFile[]): Set<string> {
  const out = new Set<string>();
  files.forEach((f, i) => {
    if (f.size > MiB || i % 100 === 0) out.add(f.rel);
  });
  return out;
}

function dirSize(path: string): number {
  let total = 0;
  for (const name of readdirSync(path)) {
    const p = join(path, name);
    const s = statSync(p);
    total += s.isDirectory() ? dirSize(p) : s.size;
  }
  return total;
}

function treeDigest(root: string): string {
  const h = createHash('sha256');
  const visit = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) visit(p, `${rel}/${name}`);
      else h.update(`${rel}/${name}\0`).update(readFileSync(p));
    }
  };
  visit(root, '');
  return h.digest('hex');
}

/** Makes sure an external tool is there, installing its Debian package when it is not. */
function ensureTool(
  bin: string,
  versionArg: string,
  debPackage: string,
  log: (m: string) => void,
): boolean {
  const has = () => spawnSync(bin, [versionArg], { encoding: 'utf8' }).status === 0;
  if (has()) return true;
  if (process.getuid?.() !== 0) {
    log(`${bin} missing and not root: skipped`);
    return false;
  }
  log(`${bin} missing: apt-get install -y ${debPackage}`);
  spawnSync('apt-get', ['install', '-y', debPackage], { stdio: 'ignore' });
  if (has()) return true;
  log(`${bin} could not be installed: skipped`);
  return false;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): void {
  const r = spawnSync(cmd, args, {
    env: { ...process.env, ...env },
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

interface Subject {
  name: string;
  note: string;
  init(repo: string): Promise<void>;
  backup(repo: string, src: string, n: number): Promise<void>;
  restore(repo: string, target: string, n: number): Promise<void>;
}

function ourSubject(mode: 'native' | 'js'): Subject {
  return {
    name: mode,
    note: 'no encryption (the format has none); zstd level 3; FastCDC 256K/1M/4M',
    async init(repo) {
      await initRepository(repo, { native: mode });
    },
    async backup(repo, src) {
      const { openRepository } = await import('@aios/backup');
      const r = await openRepository(repo, { native: mode });
      const { warnings } = await r.backup([src]);
      if (warnings.length > 0) throw new Error(`${mode}: ${warnings.length} warnings`);
    },
    async restore(repo, target) {
      const { openRepository } = await import('@aios/backup');
      const r = await openRepository(repo, { native: mode });
      const latest = (await r.snapshots()).at(-1);
      const result = await r.restore(latest?.id as string, target);
      if (result.errors.length > 0) throw new Error(`${mode}: restore errors`);
    },
  };
}

function resticSubject(scratch: string): Subject {
  const env = { RESTIC_PASSWORD: 'bench', RESTIC_CACHE_DIR: join(scratch, 'restic-cache') };
  return {
    name: 'restic',
    note: 'encryption always on (restic cannot disable it); repository v2, compression auto (zstd)',
    async init(repo) {
      run('restic', ['init', '--repo', repo, '--repository-version', '2'], env);
    },
    async backup(repo, src) {
      run('restic', ['backup', '--repo', repo, '--quiet', src], env);
    },
    async restore(repo, target) {
      run('restic', ['restore', 'latest', '--repo', repo, '--target', target, '--quiet'], env);
    },
  };
}

function borgSubject(scratch: string): Subject {
  const env = {
    BORG_BASE_DIR: join(scratch, 'borg-base'),
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
    BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
  };
  return {
    name: 'borg',
    note: 'encryption none; compression zstd,3; default chunker (buzhash, ~2 MiB)',
    async init(repo) {
      run('borg', ['init', '--encryption=none', repo], env);
    },
    async backup(repo, src, n) {
      run('borg', ['create', '--compression', 'zstd,3', `${repo}::s${n}`, src], env);
    },
    async restore(repo, target, n) {
      mkdirSync(target, { recursive: true });
      run('borg', ['extract', `${repo}::s${n}`], env, target);
    },
  };
}

export const backupSuite: Suite = {
  name: 'backup',
  description:
    'first / no-change / 1%-changed backup and restore of a mixed tree, vs restic and borg',
  async run({ quick, scratch, log }) {
    const files = planTree(quick);
    const totalBytes = files.reduce((n, f) => n + f.size, 0);
    const changed = changedSet(files);
    const src = join(scratch, 'backup-src');
    log(`generating ${files.length} files, ${(totalBytes / MiB).toFixed(0)} MiB`);
    writeTree(src, files, 0);
    const originalDigest = treeDigest(src);
    const subjects: Subject[] = [ourSubject('native'), ourSubject('js')];
    if (ensureTool('restic', 'version', 'restic', log)) subjects.push(resticSubject(scratch));
    if (ensureTool('borg', '--version', 'borgbackup', log)) subjects.push(borgSubject(scratch));

    const results: BenchResult[] = [];
    const params = {
      files: files.length,
      bytes: totalBytes,
      changedFiles: changed.size,
      cache: 'warm page cache',
    };
    const push = (caseName: string, subject: Subject, metric: string, value: number) =>
      results.push({
        suite: 'backup',
        case: caseName,
        subject: subject.name,
        metric,
        value,
        params: { ...params, note: subject.note },
      });
    const timed = async (fn: () => Promise<void>) => {
      const t = performance.now();
      await fn();
      return (performance.now() - t) / 1000;
    };

    for (const s of subjects) {
      const repo = join(scratch, `repo-${s.name}`);
      // Every subject starts from the same original tree, with nothing left to write back
      // (the tree just written, the previous subject's files): none pays for another's I/O.
      writeTree(src, files, 0, changed);
      spawnSync('sync');
      await s.init(repo);
      log(`${s.name}: first backup`);
      const first = await timed(() => s.backup(repo, src, 1));
      const sizeFirst = dirSize(repo);
      log(`${s.name}: no-change backup`);
      const again = await timed(() => s.backup(repo, src, 2));
      writeTree(src, files, 1, changed);
      spawnSync('sync');
      const changedBytes = files
        .filter((f) => changed.has(f.rel))
        .reduce((n, f) => n + (f.size > MiB ? 64 * 1024 : f.size), 0);
      log(`${s.name}: backup after changing ${(changedBytes / MiB).toFixed(1)} MiB`);
      const sizeBefore = dirSize(repo);
      const third = await timed(() => s.backup(repo, src, 3));
      const added = dirSize(repo) - sizeBefore;
      const target = join(scratch, `restore-${s.name}`);
      spawnSync('sync');
      log(`${s.name}: restore`);
      const restore = await timed(() => s.restore(repo, target, 3));
      const restoredRoot = join(target, src.replace(/^\/+/, ''));
      if (treeDigest(restoredRoot) !== treeDigest(src))
        throw new Error(`${s.name}: restored tree differs`);
      rmSync(target, { recursive: true, force: true });

      push('first-backup', s, 'mb_per_s', totalBytes / MiB / first);
      push('first-backup', s, 'seconds', first);
      push('no-change-backup', s, 'seconds', again);
      push('changed-1pct-backup', s, 'seconds', third);
      push('changed-1pct-backup', s, 'added_mb', added / MiB);
      push('restore', s, 'mb_per_s', totalBytes / MiB / restore);
      push('repo-size', s, 'mb_after_first', sizeFirst / MiB);
      push('repo-size', s, 'mb_after_three', dirSize(repo) / MiB);
      rmSync(repo, { recursive: true, force: true });
    }
    writeTree(src, files, 0, changed);
    if (treeDigest(src) !== originalDigest)
      throw new Error('the source tree did not return to its original state');
    return results;
  },
};
