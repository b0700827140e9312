import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanFailure,
  hashesUnder,
  missingMarkers,
  mustRun,
  readHome,
  runCli,
  Tally,
  tempDirs,
  writeNotes,
  writeRandomFile,
} from './harness.js';

const tally = new Tally('faults');
const temp = tempDirs('aios-chaos-faults-');

const fragments = (home: string, impl: 'native' | 'js') =>
  JSON.parse(mustRun(home, impl, ['memory', 'stats', '--json']).stdout).fragments as number;

/** Every regular file under `dir` whose path matches `pattern`. */
function filesUnder(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && pattern.test(p)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Inverts `bytes` at the middle of `path`: unlike random bytes, every byte is sure to change. */
function damage(path: string, bytes: number): void {
  const size = statSync(path).size;
  const length = Math.min(bytes, size);
  const at = Math.floor((size - length) / 2);
  const fd = openSync(path, 'r+');
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, at);
    for (let i = 0; i < length; i++) buffer[i] = ~(buffer[i] ?? 0) & 0xff;
    writeSync(fd, buffer, 0, length, at);
  } finally {
    closeSync(fd);
  }
}

/** A tmpfs of `size` mounted at a fresh directory (root only), unmounted after the suite. */
const mounts: string[] = [];
afterAll(() => {
  for (const dir of mounts) spawnSync('umount', ['-l', dir]);
});
function tmpfs(size: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = temp();
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (r.status !== 0) return undefined;
  mounts.push(dir);
  return dir;
}

describe.each(testImplementations())('faults (%s)', (impl) => {
  it('restores in place after the home was moved, without losing the database', () => {
    const root = temp();
    const home = join(root, 'home');
    mkdirSync(home);
    const markers = writeNotes(join(root, 'notes'), 'moved', 25);
    mustRun(home, impl, ['ingest', join(root, 'notes')]);
    mustRun(home, impl, ['backup', 'create']);
    const moved = join(root, 'home2');
    renameSync(home, moved);
    tally.faults++;
    const r = runCli(moved, impl, ['backup', 'restore', 'latest']);
    tally.operations++;
    expect(cleanFailure(r)).toBeUndefined();
    tally.acknowledged += markers.size;
    const count = fragments(moved, impl);
    if (count !== 25) tally.lost += 25 - count;
    expect(count).toBe(25);
  });

  it('backs up and restores through a symlinked home', () => {
    const root = temp();
    const real = join(root, 'real');
    mkdirSync(real);
    const link = join(root, 'link');
    symlinkSync(real, link);
    tally.faults++;
    const markers = writeNotes(join(root, 'notes'), 'linked', 20);
    mustRun(link, impl, ['ingest', join(root, 'notes')]);
    const created = JSON.parse(mustRun(link, impl, ['backup', 'create', '--json']).stdout);
    tally.operations++;
    expect(created.snapshot.summary.files).toBeGreaterThan(0);
    const target = join(root, 'restored');
    mustRun(link, impl, ['backup', 'restore', 'latest', '--target', target]);
    expect(hashesUnder(target, new Set(['aios.db'])).size).toBe(1);
    mustRun(link, impl, ['backup', 'restore', 'latest']);
    tally.acknowledged += markers.size;
    expect(fragments(link, impl)).toBe(20);
  });

  it('never builds a new snapshot on a damaged chunk', () => {
    const home = temp();
    writeNotes(join(home, 'notes'), 'pack', 10);
    mustRun(home, impl, ['ingest', join(home, 'notes')]);
    const blob = writeRandomFile(join(home, 'files', 'blob.bin'), 4 * 1024 * 1024);
    mustRun(home, impl, ['backup', 'create']);
    const packs = filesUnder(join(home, 'backups'), /[\\/]data[\\/]/);
    expect(packs.length).toBeGreaterThan(0);
    for (const pack of packs) damage(pack, 1);
    tally.faults += packs.length;
    // The next backup must not trust the damaged chunks: its snapshot restores the live data.
    const r = runCli(home, impl, ['backup', 'create']);
    tally.operations++;
    expect(cleanFailure(r)).toBeUndefined();
    const target = join(temp(), 'out');
    mustRun(home, impl, ['backup', 'restore', 'latest', '--target', target]);
    tally.acknowledged++;
    const got = hashesUnder(target, new Set(['blob.bin'])).get('blob.bin');
    if (got !== blob) tally.lost++;
    expect(got).toBe(blob);
    // And plain verify reports the damage of the first snapshot's data.
    expect(runCli(home, impl, ['backup', 'verify', '--read-data', '100']).code).not.toBe(0);
  });

  it('rebuilds a damaged index file instead of answering from it', () => {
    const home = temp();
    const markers = writeNotes(join(home, 'notes'), 'index', 60);
    mustRun(home, impl, ['ingest', join(home, 'notes')]);
    const indexFiles = filesUnder(join(home, 'carma'), /index-.*\.bin$/);
    expect(indexFiles.length).toBeGreaterThan(0);
    for (const file of indexFiles) damage(file, 4096);
    tally.faults += indexFiles.length;
    const marker = [...markers.values()][17] as string;
    const r = mustRun(home, impl, ['memory', 'search', marker, '--json']);
    tally.operations++;
    const hits = JSON.parse(r.stdout) as Array<{ text?: string; score?: number }>;
    const list = Array.isArray(hits) ? hits : ((hits as { results: typeof hits }).results ?? []);
    expect(list[0]?.text).toContain(marker);
    for (const h of list) expect(Math.abs(h.score ?? 0)).toBeLessThan(10);
  });

  it('fails cleanly on a full disk and keeps what it acknowledged', async () => {
    const disk = tmpfs('12m');
    if (!disk) {
      console.log('faults: full disk skipped (needs root and tmpfs)');
      return;
    }
    const home = join(disk, 'home');
    const markers = writeNotes(join(home, 'notes'), 'full', 30);
    writeNotes(join(home, 'more'), 'more', 200);
    mustRun(home, impl, ['ingest', join(home, 'notes')]);
    // Fill the disk, then write through every command that writes.
    const filler = join(disk, 'filler');
    mkdirSync(filler);
    for (let i = 0; ; i++) {
      try {
        writeFileSync(join(filler, `f${i}`), randomBytes(512 * 1024));
      } catch {
        break;
      }
    }
    tally.faults++;
    for (const args of [
      ['ingest', join(home, 'more')],
      ['backup', 'create'],
    ]) {
      const r = runCli(home, impl, args);
      tally.operations++;
      expect(cleanFailure(r), `aios ${args.join(' ')}`).toBeUndefined();
    }
    // Reading on a full disk answers, or fails with a coded error (its lease needs a file).
    const read = runCli(home, impl, ['memory', 'stats']);
    tally.operations++;
    expect(cleanFailure(read), 'aios memory stats').toBeUndefined();
    // With a little room again, everything acknowledged before the disk filled is there.
    spawnSync('rm', ['-f', join(filler, 'f0')]);
    const { texts, integrity } = await readHome(home, impl);
    expect(integrity).toBe('ok');
    tally.acknowledged += markers.size;
    const missing = missingMarkers(texts, markers.values());
    tally.lost += missing.length;
    expect(missing).toEqual([]);
    // With room again, the interrupted backup repository takes a snapshot.
    spawnSync('rm', ['-rf', filler]);
    mustRun(home, impl, ['backup', 'create']);
    expect(mustRun(home, impl, ['backup', 'verify']).code).toBe(0);
  });

  it('answers from a read-only home and refuses writes with a coded error', () => {
    const disk = tmpfs('64m');
    if (!disk) {
      console.log('faults: read-only home skipped (needs root and tmpfs)');
      return;
    }
    const home = join(disk, 'home');
    const markers = writeNotes(join(home, 'notes'), 'ro', 20);
    mustRun(home, impl, ['ingest', join(home, 'notes')]);
    mustRun(home, impl, ['backup', 'create']);
    expect(spawnSync('mount', ['-o', 'remount,ro', disk]).status).toBe(0);
    tally.faults++;
    try {
      for (const args of [
        ['memory', 'stats'],
        ['memory', 'search', 'checked'],
        ['ingest', join(home, 'notes')],
        ['backup', 'create'],
        ['config', 'set', 'carma.search.k', '7'],
      ]) {
        const r = runCli(home, impl, args);
        tally.operations++;
        expect(cleanFailure(r), `aios ${args.join(' ')}`).toBeUndefined();
      }
    } finally {
      spawnSync('mount', ['-o', 'remount,rw', disk]);
    }
    tally.acknowledged += markers.size;
    expect(fragments(home, impl)).toBe(20);
  });
});
