/**
 * `aios memory conflicts` through the built CLI, both implementations: the household's
 * notes agree with each other; a later note that says the black bin goes out on another
 * day is shown against the old one, each with its file and line.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testImplementations } from '@aios/utils/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempHomes } from '../testing/cli.js';

const HOUSEHOLD = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../luna/test-fixtures/household',
);

describe.each(testImplementations())('aios memory conflicts (%s)', (impl) => {
  const tempHome = tempHomes('aios-conflicts-');
  let home: string;
  const env = { AIOS_NATIVE: impl, NO_COLOR: '1' };
  beforeAll(() => {
    home = tempHome();
    expect(runCli(home, ['ingest', HOUSEHOLD], env).code).toBe(0);
  });

  it('finds none among notes that agree', () => {
    const out = runCli(home, ['memory', 'conflicts'], env);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('no conflicts among 16 fragments\n');
  });

  it('shows the same thing said with other values, each side with its file and line', () => {
    const note = join(home, 'bins-2025.md');
    writeFileSync(note, '# Bins this year\n\nThe black bin goes out on Tuesday evenings now.\n');
    expect(runCli(home, ['ingest', note], env).code).toBe(0);
    const out = runCli(home, ['memory', 'conflicts'], env);
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\[1\] about .*black.*bin/);
    expect(lines[1]).toMatch(
      /^ {4}\w{8} .*household\/bins\.md:3 {2}The black bin for general waste goes out on Monday evenings\.$/,
    );
    expect(lines[2]).toMatch(
      /^ {4}\w{8} .*bins-2025\.md:3 {2}The black bin goes out on Tuesday evenings now\.$/,
    );
    expect(lines[3]).toMatch(/^1 conflict; keep one side with/);

    const json = JSON.parse(runCli(home, ['memory', 'conflicts', '--json'], env).stdout) as {
      checked: number;
      conflicts: Array<{ a: { values: string[] }; b: { values: string[] } }>;
    };
    expect(json.checked).toBe(17);
    expect(json.conflicts.map((c) => [c.a.values, c.b.values])).toEqual([
      [['monday'], ['tuesday']],
    ]);

    // Within one namespace only: the same two notes are there (ingest's `documents`).
    expect(runCli(home, ['memory', 'conflicts', '--namespace', 'nothing-here'], env).stdout).toBe(
      'no conflicts among 0 fragments\n',
    );
  });

  it('refuses a bad namespace with a coded error', () => {
    const out = runCli(home, ['memory', 'conflicts', '--namespace', ''], env);
    expect(out.code).not.toBe(0);
    expectOneLineError(out.stderr, 'INVALID_INPUT');
  });
});
