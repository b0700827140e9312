import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { allCommands, buildProgram } from './commands/index.js';
import { cli, tempHomes } from './testing/cli.js';

// Every command of the CLI, from its own definition, run with hostile values in every
// argument and option: whatever the outcome, never `unexpected error` (exit 70), never a
// stack trace, never a hang. A refusal is one coded line.
const tempHome = tempHomes('aios-fuzz-');

/** Hostile values; `{dir}`, `{file}` and `{missing}` stand for paths in the test's home. */
const HOSTILE = [
  '-1',
  'NaN',
  '1e309',
  '9'.repeat(400),
  '',
  ' ',
  '__proto__',
  'constructor',
  '{missing}',
  '{dir}',
  '{file}',
];

interface Run {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function run(home: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, '--offline', ...args], {
      cwd: home,
      env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, AIOS_NATIVE: 'js' },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
    });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ args, code, signal, stderr }));
  });
}

/** Runs `jobs` two at a time (the machine is shared). */
async function runAll(home: string, jobs: string[][]): Promise<Run[]> {
  const out: Run[] = [];
  const queue = [...jobs];
  const worker = async () => {
    for (let args = queue.shift(); args; args = queue.shift()) out.push(await run(home, args));
  };
  await Promise.all([worker(), worker()]);
  return out;
}

/** What went wrong in a run, or undefined when it ended as the CLI promises. */
function problem(r: Run): string | undefined {
  if (r.code === null) return `ended by ${r.signal} (a hang?)`;
  if (r.code === 70 || r.stderr.includes('unexpected error'))
    return `unexpected error: ${r.stderr}`;
  if (/\n\s+at /.test(r.stderr)) return `stack trace: ${r.stderr}`;
  if (r.code !== 0 && !/\[[A-Z][A-Z0-9_]*\]\n/.test(r.stderr) && !r.stderr.includes('Usage:')) {
    // A failed check (health, validate) says what failed; anything else must carry a code.
    if (!/fail|invalid|problem/i.test(r.stderr))
      return `exit ${r.code} without a coded line: ${r.stderr}`;
  }
  return undefined;
}

/** `memory search`, `config set`, ...: the words that name a command. */
function pathOf(command: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

/** The options of `command` that take a value. */
const valueOptions = (command: Command) =>
  command.options.filter((o) => (o.required || o.optional) && o.long);

/** Commands that run until they are stopped: only their hostile invocations are run. */
const SERVERS = new Set(['serve', 'ui']);

/** Values also tried in the arguments alone (a bad option value stops a run before them). */
const ARGUMENT_ONLY = new Set(['', '__proto__', '{missing}', '{dir}']);

/** Invocations of `command` with `value` in every argument and every option that takes one. */
function invocations(command: Command, value: string, raw: string): string[][] {
  const args = command.registeredArguments.map(() => value);
  const options = valueOptions(command).flatMap((o) => [o.long as string, value]);
  const both = options.length > 0 && args.length > 0 && ARGUMENT_ONLY.has(raw);
  return [
    [...pathOf(command), ...args, ...options],
    ...(both ? [[...pathOf(command), ...args]] : []),
  ];
}

const program = buildProgram();
const leaves = allCommands(program).filter((c) => c.commands.length === 0);

describe('every command with hostile input (AIOS_NATIVE=js)', () => {
  it('knows the commands it fuzzes', () => {
    const names = leaves.map((c) => pathOf(c).join(' '));
    for (const name of ['ingest', 'memory search', 'config set', 'feedback', 'backup restore']) {
      expect(names).toContain(name);
    }
  });

  it.each(leaves.map((c) => [pathOf(c).join(' '), c] as const))(
    '%s',
    async (_name, command) => {
      const home = tempHome();
      const paths: Record<string, string> = {
        '{missing}': join(home, 'missing', 'nothing.md'),
        '{dir}': join(home, 'folder'),
        '{file}': join(home, 'folder', 'note.md'),
      };
      mkdirSync(paths['{dir}'] as string);
      writeFileSync(paths['{file}'] as string, 'The heron fished at dawn.\n');
      // Something to find: a fragment for memory commands, a snapshot for backup commands.
      const [group] = pathOf(command);
      const setup =
        group === 'memory'
          ? [['ingest', paths['{file}'] as string]]
          : group === 'backup'
            ? [['backup', 'create']]
            : [];
      for (const args of setup) expect((await run(home, args)).code).toBe(0);
      // A server (serve, ui) given no bad value serves until stopped: that is no hang.
      const jobs = SERVERS.has(pathOf(command).join(' ')) ? [] : [pathOf(command)];
      if (command.registeredArguments.length > 0 || valueOptions(command).length > 0) {
        for (const value of HOSTILE) {
          const given = Object.hasOwn(paths, value) ? (paths[value] as string) : value;
          jobs.push(...invocations(command, given, value));
        }
      }
      const runs = await runAll(home, jobs);
      const problems = runs
        .map((r) => [JSON.stringify(r.args), problem(r)])
        .filter(([, p]) => p !== undefined);
      expect(problems).toEqual([]);
    },
    300_000,
  );

  it('global options with hostile values', async () => {
    const home = tempHome();
    writeFileSync(join(home, 'file'), 'x');
    mkdirSync(join(home, 'dir'));
    const values = [
      ...HOSTILE.filter((v) => !v.startsWith('{')),
      join(home, 'file'),
      join(home, 'dir'),
      join(home, 'file', 'below'),
    ];
    const jobs = values.flatMap((v) => [
      ['--home', v, 'memory', 'stats'],
      ['--config', v, 'status'],
      ['--native', v, 'status'],
    ]);
    const runs = await runAll(home, jobs);
    const problems = runs
      .map((r) => [JSON.stringify(r.args), problem(r)])
      .filter(([, p]) => p !== undefined);
    expect(problems).toEqual([]);
  }, 300_000);
});
