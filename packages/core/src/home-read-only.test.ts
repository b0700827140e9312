import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type SmallDisk,
  smallDisk,
  smallDiskSkip,
  testImplementations,
  treeSnapshot,
} from '@aios/utils/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, expectOneLineError, runCli, tempHomes } from './testing/cli.js';

// A home that can only be read: on a filesystem mounted read-only, or another user's home
// that this user may read. The commands that read (search, ask --offline, list, show,
// stats, doctor, status) answer as they did while it was writable; every command that
// writes fails at once with IO_READ_ONLY naming the home and saying nothing was changed;
// and no file of the home changes, not even a lease.

const diskSkip = smallDiskSkip();
if (diskSkip)
  console.warn(`home-read-only.test.ts: the read-only filesystem cases are skipped: ${diskSkip}`);

/** The user the not-writable case runs the CLI as (nobody). */
const OTHER_USER = 65534;

/** Why the CLI cannot be run as another user here; undefined when it can. */
function otherUserSkip(): string | undefined {
  if (process.platform !== 'linux') return 'running a child as another user needs Linux';
  if (process.getuid?.() !== 0) return 'running a child as another user (setpriv) needs root';
  if (spawnSync('setpriv', ['--version']).status !== 0)
    return 'setpriv (util-linux) is not installed';
  return undefined;
}
const userSkip = otherUserSkip();
if (userSkip)
  console.warn(`home-read-only.test.ts: the other user's home case is skipped: ${userSkip}`);

type Run = (...args: string[]) => ReturnType<typeof runCli>;

const NOTES = [
  'The backup runs every night at 2am',
  'Ingrid teaches piano in Bergen',
  'The spare key is under the blue flower pot',
];

/**
 * Writes the notes, asks once (a conversation), and returns what the reading commands
 * answer and the id `memory show` is given.
 */
function writeHome(aios: Run): { id: string } {
  for (const note of NOTES) expect(aios('memory', 'add', note).code).toBe(0);
  expect(aios('ask', '--offline', 'where is the spare key').code).toBe(0);
  const listed = JSON.parse(aios('memory', 'list', '--json').stdout) as {
    items: Array<{ id: string }>;
  };
  return { id: (listed.items[0] as { id: string }).id };
}

/** What the commands that read answer (an answer's last line names it: left out). */
function answers(aios: Run, id: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const args of [
    ['memory', 'search', 'backup'],
    ['memory', 'search', 'piano Bergen', '--json'],
    ['ask', '--offline', 'when does the backup run'],
    ['memory', 'list'],
    ['memory', 'show', id],
    ['memory', 'stats'],
    ['conversations', 'list'],
  ]) {
    const run = aios(...args);
    const key = args.join(' ');
    expect(run.code, `${key}: ${run.stderr}`).toBe(0);
    expect(run.stderr, key).toBe('');
    out[key] = args[0] === 'ask' ? run.stdout.split('\n').slice(0, -2).join('\n') : run.stdout;
  }
  return out;
}

/** Every command that writes fails at once, naming the home, and changes nothing. */
function expectWritesRefused(aios: Run, home: string, id: string, why: string) {
  const note = join(home, '..', 'note.md');
  for (const args of [
    ['memory', 'add', 'A note for a read-only home'],
    ['ingest', note],
    ['memory', 'delete', id],
    ['memory', 'edit', id, '--importance', '0.9'],
    ['keys', 'create', '--name', 'k', '--scope', 'memory:read'],
    ['memory', 'checkpoint'],
    ['doctor', '--repair'],
    ['serve', '--port', '0'],
  ]) {
    const run = aios(...args);
    const command = `aios ${args.join(' ')}`;
    expect(run.code, command).toBe(1);
    expectOneLineError(run.stderr, 'IO_READ_ONLY');
    expect(run.stderr, command).toContain(`${home}: the AIOS home is read-only (${why}): `);
    expect(run.stderr, command).toContain('was refused; nothing was changed');
  }
}

describe.each(testImplementations())('a read-only home (%s)', (impl) => {
  const env = { AIOS_NATIVE: impl };

  describe.skipIf(diskSkip !== undefined)('on a read-only filesystem', () => {
    let disk: SmallDisk | undefined;
    afterEach(() => {
      disk?.remove();
      disk = undefined;
    });

    it('answers the reads as before, refuses every write, and nothing in it changes', () => {
      disk = smallDisk(24);
      const home = join(disk.path, 'home');
      const aios: Run = (...args) => runCli(disk?.path as string, ['--home', home, ...args], env);
      const { id } = writeHome(aios);
      writeFileSync(
        join(disk.path, 'note.md'),
        '# A note\n\nNot ingested into a read-only home.\n',
      );
      const before = answers(aios, id);
      disk.readOnly();
      const files = treeSnapshot(home);

      expect(answers(aios, id)).toEqual(before);
      const ask = aios('ask', '--offline', 'when does the backup run');
      expect(ask.stdout).toContain(`not recorded: the home ${home} is read-only`);
      expect(JSON.parse(aios('ask', '--offline', '--json', 'backup').stdout).recorded).toBe(false);
      expectWritesRefused(aios, home, id, 'its filesystem is mounted read-only');
      const doctor = aios('doctor');
      expect(doctor.code, doctor.stdout).toBe(0);
      expect(doctor.stdout).toContain('database     ok        ');
      expect(doctor.stdout).toContain(`${home} is read-only (its filesystem is mounted read-only)`);
      const status = aios('status');
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(
        `home    ${home} (read-only: its filesystem is mounted read-only; commands that write are refused)`,
      );
      expect(JSON.parse(aios('status', '--json').stdout).readOnly).toBe('filesystem');
      expect(treeSnapshot(home)).toEqual(files);

      // Writable again, it takes writes as ever.
      disk.readWrite();
      expect(aios('memory', 'add', 'Written once the home was writable again').code).toBe(0);
      expect(aios('memory', 'search', 'writable again').stdout).toContain('Written once');
    });
  });

  describe.skipIf(userSkip !== undefined)("in another user's home", () => {
    const homes = tempHomes('aios-read-only-');

    it('reads it as its owner does, refuses every write, and nothing in it changes', () => {
      const root = homes();
      const home = join(root, 'home');
      const owner: Run = (...args) => runCli(root, ['--home', home, ...args], env);
      const { id } = writeHome(owner);
      writeFileSync(join(root, 'note.md'), '# A note\n\nNot ingested into a home of another.\n');
      const before = answers(owner, id);
      // Readable by everyone, writable by its owner (root) alone.
      spawnSync('chmod', ['-R', 'a+rX,go-w', root]);
      chmodSync(root, 0o755);
      const files = treeSnapshot(home);
      const other: Run = (...args) => {
        const result = spawnSync(
          'setpriv',
          [
            `--reuid=${OTHER_USER}`,
            `--regid=${OTHER_USER}`,
            '--clear-groups',
            process.execPath,
            cli,
            '--home',
            home,
            ...args,
          ],
          {
            encoding: 'utf8',
            cwd: root,
            timeout: 30_000,
            env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, HOME: root, ...env },
          },
        );
        return { code: result.status, stdout: result.stdout, stderr: result.stderr };
      };

      expect(answers(other, id)).toEqual(before);
      expectWritesRefused(other, home, id, 'this user may not write to it');
      const doctor = other('doctor');
      expect(doctor.code, doctor.stdout).toBe(0);
      expect(doctor.stdout).toContain(`${home} is read-only (this user may not write to it)`);
      expect(JSON.parse(other('status', '--json').stdout).readOnly).toBe('permissions');
      expect(JSON.parse(owner('status', '--json').stdout).readOnly).toBeNull();
      expect(treeSnapshot(home)).toEqual(files);
      // Its owner writes it as ever.
      expect(owner('memory', 'add', 'Written by the owner').code).toBe(0);
    });
  });
});
