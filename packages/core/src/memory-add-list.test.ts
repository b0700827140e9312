import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { cli, expectOneLineError, runCli, tempHomes } from './testing/cli.js';

// `aios memory add` remembers a note from the command line (or standard input), `aios
// memory list` pages through what memory holds, as the HTTP API's add and list do, and
// `aios memory export` writes it all out as JSON Lines.
const tempHome = tempHomes('aios-memory-add-');

describe.each(testImplementations())('aios memory add and list (AIOS_NATIVE=%s)', (impl) => {
  const home = tempHome();
  const env = { AIOS_NATIVE: impl };
  const aios = (...args: string[]) => runCli(home, ['--offline', ...args], env);
  const json = (...args: string[]) => {
    const r = aios(...args, '--json');
    expect(r.stderr, args.join(' ')).toBe('');
    expect(r.code, args.join(' ')).toBe(0);
    return JSON.parse(r.stdout);
  };

  it('remembers notes once, from the words or standard input, and lists them a page at a time', {
    timeout: 180_000,
  }, () => {
    const added = aios('memory', 'add', 'The', 'wifi', 'password', 'hint', 'is', 'the', 'dog.');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^remembered: ([0-9a-f]{8}) \(namespace default\)\n$/);
    const short = added.stdout.slice(12, 20);
    // The id it prints is one that show takes.
    expect(aios('memory', 'show', short).stdout).toContain('The wifi password hint is the dog.');

    const again = json('memory', 'add', 'The wifi password hint is the dog.');
    expect(again.status).toBe('duplicate');
    expect(again.fragment.id.endsWith(short)).toBe(true);

    const piped = spawnSync(
      process.execPath,
      [cli, '--offline', 'memory', 'add', '-', '--namespace', 'house', '--importance', '0.9'],
      {
        input: '  The boiler is serviced\nevery autumn by Klaus.\n',
        encoding: 'utf8',
        cwd: home,
        env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
      },
    );
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toMatch(/^remembered: [0-9a-f]{8} \(namespace house\)\n$/);

    writeFileSync(join(home, 'bins.md'), 'The black bin goes out on Monday evenings.\n');
    expect(aios('ingest', join(home, 'bins.md')).code).toBe(0);

    // Pages in the order the notes were made, each fragment once.
    const first = json('memory', 'list', '-n', '2');
    expect(first.items.map((f: { text: string }) => f.text)).toEqual([
      'The wifi password hint is the dog.',
      'The boiler is serviced\nevery autumn by Klaus.',
    ]);
    expect(first.items[1]).toMatchObject({ namespace: 'house', importance: 0.9 });
    const second = json('memory', 'list', '-n', '2', '--after', first.next);
    expect(second.items.map((f: { text: string }) => f.text)).toEqual([
      'The black bin goes out on Monday evenings.',
    ]);
    expect(second.next).toBeNull();
    expect(json('memory', 'list', '--namespace', 'house').items).toHaveLength(1);
    const bins = json('memory', 'list', '--source', join(home, 'bins.md')).items;
    expect(bins.map((f: { line: number }) => f.line)).toEqual([1]);

    const listed = aios('memory', 'list', '-n', '2');
    expect(listed.stdout).toContain(`  ${short}  default `);
    expect(listed.stdout).toContain(`2 fragments; more: aios memory list --after ${first.next}`);
    expect(aios('memory', 'list', '--source', join(home, 'bins.md')).stdout).toContain(
      'bins.md:1  The black bin goes out on Monday evenings.',
    );
  });

  it('exports every fragment as JSON Lines, which import restores as it was, in another home or the same', {
    timeout: 120_000,
  }, () => {
    const from = tempHome();
    const run = (home: string, ...args: string[]) => runCli(home, ['--offline', ...args], env);
    expect(run(from, 'memory', 'add', 'The wifi password hint is the dog.').code).toBe(0);
    expect(run(from, 'memory', 'add', '--namespace', 'house', 'Bins go out on Monday.').code).toBe(
      0,
    );
    const file = join(from, 'memory.jsonl');
    const written = run(from, 'memory', 'export', file);
    expect(written.stdout).toBe(`exported 2 fragments to ${file}\n`);
    const lines = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((f) => [f.namespace, f.text])).toEqual([
      ['default', 'The wifi password hint is the dog.'],
      ['house', 'Bins go out on Monday.'],
    ]);
    expect(lines[0]).toMatchObject({ importance: 0.5, version: 1, metadata: {} });
    // One namespace, to standard output.
    const house = run(from, 'memory', 'export', '--namespace', 'house');
    expect(
      house.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).text),
    ).toEqual(['Bins go out on Monday.']);
    // Imported elsewhere, each as it was: namespace, importance, metadata (its source too).
    writeFileSync(join(from, 'bins.md'), 'The black bin goes out on Monday evenings.\n');
    expect(run(from, 'ingest', join(from, 'bins.md')).code).toBe(0);
    expect(run(from, 'memory', 'add', '--importance', '0.9', 'Mum is born on 3 May.').code).toBe(0);
    expect(run(from, 'memory', 'export', file).code).toBe(0);
    const exported = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const to = tempHome();
    const imported = run(to, 'memory', 'import', file);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toBe(
      'imported 4 fragments: 4 added, 0 already remembered (added by namespace: default 2, house 1, documents 1)\n',
    );
    const back = JSON.parse(run(to, 'memory', 'list', '--json').stdout).items;
    const shapes = (list: Array<Record<string, unknown>>) =>
      list
        .map((f) => [f.namespace, f.text, f.importance, f.metadata, f.createdAt, f.updatedAt])
        .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    expect(shapes(back)).toEqual(shapes(exported));
    expect(back.find((f: { text: string }) => f.text.startsWith('The black bin'))).toMatchObject({
      source: join(from, 'bins.md'),
      line: 1,
    });
    const found = JSON.parse(run(to, 'memory', 'search', 'wifi dog', '-k', '1', '--json').stdout);
    expect(found.results[0].text).toBe('The wifi password hint is the dog.');
    // Imported again, or into the home it came from: nothing twice.
    expect(run(to, 'memory', 'import', file).stdout).toContain('0 added, 4 already remembered');
    expect(run(from, 'memory', 'import', file).stdout).toContain('0 added, 4 already remembered');
    // Ingest leaves an export to import, saying so, rather than lose what it holds.
    const ingested = run(to, 'ingest', file);
    expect(ingested.stderr).toContain(
      'an aios memory export: `aios memory import <file>` restores',
    );
    expect(JSON.parse(run(to, 'memory', 'stats', '--json').stdout).fragments).toBe(4);
    // A bad line adds nothing, and is named.
    const broken = join(from, 'broken.jsonl');
    writeFileSync(broken, `${JSON.stringify({ text: 'A fine note.' })}\n{"text": 3}\n`);
    const refused = run(to, 'memory', 'import', broken);
    expect(refused.code).toBe(1);
    expectOneLineError(refused.stderr, 'INVALID_INPUT');
    expect(refused.stderr).toContain(
      'broken.jsonl:2: text: expected a text that is not blank, got number',
    );
    writeFileSync(broken, `${JSON.stringify({ text: 'A note.', createdAt: 'last spring' })}\n`);
    const undated = run(to, 'memory', 'import', broken);
    expectOneLineError(undated.stderr, 'INVALID_INPUT');
    expect(undated.stderr).toContain(
      'broken.jsonl:1: createdAt: expected a date and time such as 2024-05-03T09:30:00Z, got "last spring"',
    );
    expect(JSON.parse(run(to, 'memory', 'stats', '--json').stdout).fragments).toBe(4);
  });

  it('re-embeds a memory after the embedder changed, which health reports until then', {
    timeout: 120_000,
  }, () => {
    const home = tempHome();
    const run = (...args: string[]) => runCli(home, ['--offline', ...args], env);
    expect(run('memory', 'add', 'The heron fishes at dawn.').code).toBe(0);
    const set = run('config', 'set', 'carma.embedder.dimension', '512');
    expect(set.stdout).toContain('`aios memory reembed` embeds it again with this one');
    const refused = run('memory', 'search', 'heron');
    expect(refused.code).toBe(1);
    expectOneLineError(refused.stderr, 'EMBEDDER_MISMATCH');
    expect(refused.stderr).toContain('or run `aios memory reembed` to re-embed every fragment');
    const health = run('health', '--json');
    expect(health.code).toBe(1);
    expect(JSON.parse(health.stdout).checks['system:open'][0]).toMatchObject({
      status: 'fail',
      output: expect.stringContaining('[EMBEDDER_MISMATCH]'),
    });
    expect(run('memory', 'reembed').stdout).toBe(
      're-embedded 1 fragment with the configured embedder (built-in, dimension 512)\n',
    );
    const found = JSON.parse(run('memory', 'search', 'heron', '--json').stdout);
    expect(found.results[0].text).toBe('The heron fishes at dawn.');
    expect(run('memory', 'reembed').stdout).toContain('nothing to do');
    expect(run('health').code).not.toBe(1);
  });

  it('refuses an empty note and an importance out of range, with a coded error', () => {
    const blank = aios('memory', 'add', ' ');
    expect(blank.code).toBe(1);
    expectOneLineError(blank.stderr, 'INVALID_INPUT');
    const heavy = aios('memory', 'add', '--importance', '2', 'x');
    expect(heavy.code).toBe(1);
    expect(heavy.stderr).toContain('expected a number from 0 to 1 [INVALID_INPUT]');
    const empty = spawnSync(process.execPath, [cli, 'memory', 'add', '-'], {
      input: '',
      encoding: 'utf8',
      cwd: home,
      env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
    });
    expect(empty.status).toBe(1);
    expectOneLineError(empty.stderr, 'INVALID_INPUT');
  });
});
