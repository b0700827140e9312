import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempHomes } from './testing/cli.js';

// Snapshots of a home spoken of as the home: `backup diff` in memories, conversations and
// the home's own files (not the paths the snapshot stores them under), `latest` and
// `latest~N` wherever a snapshot is named, and `restore --target` giving a home that opens.
const tempHome = tempHomes('aios-backup-diff-');

describe.each(testImplementations())(
  'aios backup diff and restore --target (AIOS_NATIVE=%s)',
  (impl) => {
    it('diffs two snapshots in memories and conversations, and restores one as a home', {
      timeout: 240_000,
    }, () => {
      const home = tempHome();
      const aios = (...args: string[]) =>
        runCli(home, ['--offline', ...args], { AIOS_NATIVE: impl });
      const json = (...args: string[]) => {
        const r = aios(...args, '--json');
        expect({ code: r.code, stderr: r.stderr }, args.join(' ')).toEqual({ code: 0, stderr: '' });
        return JSON.parse(r.stdout);
      };
      const notes = join(home, 'notes');
      mkdirSync(notes);
      writeFileSync(join(notes, 'car.md'), '# Car\n\nThe car is serviced every spring.\n');
      writeFileSync(join(notes, 'wifi.md'), '# Wifi\n\nThe wifi hint is the dog.\n');
      json('ingest', notes);
      const first = json('backup', 'create').snapshot.id as string;

      const car = json('memory', 'search', 'car serviced', '-k', '1').results[0].id as string;
      const wifi = json('memory', 'search', 'wifi hint dog', '-k', '1').results[0].id as string;
      expect(aios('memory', 'edit', car, '--text', 'The car is serviced every May.').code).toBe(0);
      expect(aios('memory', 'delete', wifi).code).toBe(0);
      writeFileSync(join(notes, 'bins.md'), '# Bins\n\nThe bins go out on Monday.\n');
      json('ingest', notes);
      const asked = json('ask', 'When is the car serviced?');
      writeFileSync(join(home, 'todo.txt'), 'call the garage\n');
      const second = json('backup', 'create').snapshot.id as string;

      const diff = json('backup', 'diff', 'latest~1');
      expect(diff.from.id).toBe(first);
      expect(diff.to.id).toBe(second);
      expect(diff.memories.added).toEqual([
        expect.objectContaining({ text: '# Bins\n\nThe bins go out on Monday.', line: 1 }),
      ]);
      expect(diff.memories.removed).toEqual([
        expect.objectContaining({ id: wifi, text: '# Wifi\n\nThe wifi hint is the dog.' }),
      ]);
      expect(diff.memories.changed).toEqual([
        expect.objectContaining({
          id: car,
          text: 'The car is serviced every May.',
          before: '# Car\n\nThe car is serviced every spring.',
        }),
      ]);
      expect(diff.conversations.added).toEqual([
        { id: asked.conversationId, title: expect.any(String), messages: 2 },
      ]);
      expect(diff.files).toEqual({
        added: ['notes/bins.md', 'todo.txt'],
        removed: [],
        modified: [],
      });

      const text = aios('backup', 'diff', first.slice(0, 8), 'latest');
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('memories: 1 added, 1 removed, 1 changed');
      expect(text.stdout).toContain('  + notes/bins.md:1  # Bins The bins go out on Monday.');
      expect(text.stdout).toContain('conversations: 1 added, 0 removed, 0 continued');
      expect(text.stdout).toContain(
        'other files: 2 added, 0 removed, 0 modified\n  + notes/bins.md\n  + todo.txt\n',
      );
      expect(text.stdout).not.toMatch(/database-copy|aios\.db|carma\/index/);
      const none = aios('backup', 'diff', 'latest~2');
      expect(none.code).toBe(1);
      expectOneLineError(none.stderr, 'SNAPSHOT_NOT_FOUND');

      // The first snapshot, restored under a target, is a home of its own as it was then.
      const target = join(home, 'restored');
      const restored = aios('backup', 'restore', 'latest~1', '--target', target);
      expect(restored.code).toBe(0);
      expect(restored.stdout).toContain(`AIOS_HOME=${target}`);
      expect(readdirSync(target)).toContain('aios.db');
      const there = (...args: string[]) => {
        const r = runCli(target, ['--offline', ...args, '--json'], { AIOS_NATIVE: impl });
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout);
      };
      expect(there('memory', 'stats')).toMatchObject({ fragments: 2, conversations: 0 });
      const hit = there('memory', 'search', 'wifi hint dog', '-k', '1').results[0];
      expect(hit).toMatchObject({ id: wifi, text: '# Wifi\n\nThe wifi hint is the dog.' });
      expect(there('memory', 'show', car).text).toBe('# Car\n\nThe car is serviced every spring.');
    });

    it('refuses a bad percentage for verify --read-data with a coded error', () => {
      const r = runCli(tempHome(), ['backup', 'verify', '--read-data', 'abc'], {
        AIOS_NATIVE: impl,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        "aios: option '--read-data <percent>' argument 'abc' is invalid: expected a percentage from 0 to 100 [INVALID_INPUT]",
      );
    });
  },
);
