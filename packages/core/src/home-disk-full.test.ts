import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type SmallDisk, smallDisk, smallDiskSkip, testImplementations } from '@aios/utils/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli } from './testing/cli.js';

// The CLI on a home whose disk is full or read-only: every command that must write is
// refused with IO_DISK_FULL or IO_READ_ONLY on one line, reads that need no write still
// answer, no temporary file is left, and once the disk takes writes again everything
// stored before is there and the home is sound. (home-read-only.test.ts covers a read-only
// home in full: what it answers, and that nothing in it changes.)

const skip = smallDiskSkip();
if (skip) console.warn(`home-disk-full.test.ts skipped: ${skip}`);

/** Files of the home that a command left behind: temporary files, leases. */
function leftovers(home: string): string[] {
  const lease = join(home, 'aios.db.lease.lock');
  return [
    ...readdirSync(home).filter((name) => name.endsWith('.tmp')),
    ...readdirSync(lease).map((name) => join('aios.db.lease.lock', name)),
  ];
}

describe.skipIf(skip !== undefined).each(testImplementations())(
  'a home on a full disk (%s)',
  (impl) => {
    const env = { AIOS_NATIVE: impl };
    let disk: SmallDisk | undefined;
    afterEach(() => {
      disk?.remove();
      disk = undefined;
    });

    /** A home on a disk of its own holding two notes. */
    function homeWithNotes(): {
      disk: SmallDisk;
      home: string;
      aios: (...args: string[]) => ReturnType<typeof runCli>;
    } {
      disk = smallDisk(24);
      const home = join(disk.path, 'home');
      const aios = (...args: string[]) =>
        runCli(disk?.path as string, ['--home', home, ...args], env);
      for (const note of ['The backup runs every night at 2am', 'Ingrid teaches piano in Bergen']) {
        expect(aios('memory', 'add', note).code).toBe(0);
      }
      return { disk, home, aios };
    }

    function expectSound(home: string, aios: (...args: string[]) => ReturnType<typeof runCli>) {
      const doctor = aios('doctor');
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      const list = aios('memory', 'list');
      expect(list.stdout).toContain('The backup runs every night at 2am');
      expect(list.stdout).toContain('Ingrid teaches piano in Bergen');
      expect(leftovers(home)).toEqual([]);
    }

    it('refuses writes with IO_DISK_FULL, loses nothing and works again once space is freed', () => {
      const { disk, home, aios } = homeWithNotes();
      disk.fill();
      for (const args of [
        ['memory', 'add', 'A note that does not fit'],
        ['memory', 'search', 'backup'],
        ['ask', '--offline', 'when does the backup run'],
        ['keys', 'create', '--name', 'k', '--scope', 'memory:read'],
        ['config', 'set', 'luna.llm.model', 'other'],
      ]) {
        const run = aios(...args);
        expect(run.code, `aios ${args.join(' ')}`).toBe(1);
        expectOneLineError(run.stderr, 'IO_DISK_FULL');
      }
      const doctor = aios('doctor');
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(
        /database +fail +.*no space left on the device.*\[IO_DISK_FULL\]/,
      );
      expect(aios('status').code).toBe(0);
      expect(leftovers(home)).toEqual([]);

      disk.free();
      expectSound(home, aios);
      expect(aios('memory', 'add', 'A note written once space was freed').code).toBe(0);
    });

    it('refuses the database when almost full, naming it; a search that found its results succeeds', () => {
      const { disk, home, aios } = homeWithNotes();
      disk.fill(64 * 1024);
      const add = aios(
        'memory',
        'add',
        Array.from({ length: 15_000 }, (_, i) => `w${i}`).join(' '),
      );
      expect(add.code).toBe(1);
      expectOneLineError(add.stderr, 'IO_DISK_FULL');
      expect(add.stderr).toContain(`${join(home, 'aios.db')}: no space left on the device`);
      const search = aios('memory', 'search', 'backup');
      if (search.code === 0) {
        // Found, though the uses it could not record are said so.
        expect(search.stdout).toContain('The backup runs every night at 2am');
        expect(search.stderr).toMatch(/^(aios: warning: .*\[IO_DISK_FULL\]\n)?$/);
      } else {
        expectOneLineError(search.stderr, 'IO_DISK_FULL');
      }
      disk.free();
      expectSound(home, aios);
    });

    it('refuses writes to a read-only home with IO_READ_ONLY, reads it, and loses nothing', () => {
      const { disk, home, aios } = homeWithNotes();
      disk.readOnly();
      for (const args of [
        ['memory', 'add', 'A note for a read-only home'],
        ['config', 'set', 'luna.llm.model', 'other'],
      ]) {
        const run = aios(...args);
        expect(run.code, `aios ${args.join(' ')}`).toBe(1);
        expectOneLineError(run.stderr, 'IO_READ_ONLY');
      }
      const search = aios('memory', 'search', 'backup');
      expect(search.code, search.stderr).toBe(0);
      expect(search.stdout).toContain('The backup runs every night at 2am');
      expect(search.stderr).toBe('');
      const doctor = aios('doctor');
      expect(doctor.code, doctor.stdout).toBe(0);
      expect(doctor.stdout).toMatch(
        /database +warn +.* is read-only \(its filesystem is mounted read-only\)/,
      );
      expect(aios('status').code).toBe(0);
      disk.readWrite();
      expectSound(home, aios);
    });
  },
);
