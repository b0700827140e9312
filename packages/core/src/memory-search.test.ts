import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { runCli, tempHomes } from './testing/cli.js';

// `aios memory search` previews what `ask` retrieves: config carma.search.k and mode, ids
// that show/edit/delete take, counts in words.
const tempHome = tempHomes('aios-memory-search-');

describe.each(testImplementations())('aios memory search (AIOS_NATIVE=%s)', (impl) => {
  const home = tempHome();
  const aios = (...args: string[]) => runCli(home, ['--offline', ...args], { AIOS_NATIVE: impl });
  const notes = join(home, 'notes');
  mkdirSync(notes);
  writeFileSync(join(notes, 'car.md'), '# Car\n\nThe car is serviced at the garage in spring.\n');
  writeFileSync(join(notes, 'bike.md'), '# Bike\n\nThe bike is serviced at the shop in autumn.\n');
  writeFileSync(join(notes, 'boat.md'), '# Boat\n\nThe boat is serviced at the marina in May.\n');

  // A dozen CLI runs: slow on a busy machine.
  it('takes k and mode from the config unless told, and prints ids that show accepts', {
    timeout: 180_000,
  }, () => {
    expect(aios('ingest', notes).code).toBe(0);
    const search = (...args: string[]) => {
      const r = aios('memory', 'search', 'serviced', ...args, '--json');
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout);
    };
    const first = search();
    expect(first).toMatchObject({ k: 8, mode: 'hybrid' });
    expect(first.results).toHaveLength(3);
    // Scores on one scale in every mode: Luna's relevance, from 0 to 1.
    for (const mode of ['hybrid', 'vector', 'lexical']) {
      for (const r of search('--mode', mode).results) {
        expect(r.relevance).toBeGreaterThanOrEqual(0);
        expect(r.relevance).toBeLessThanOrEqual(1);
      }
    }
    expect(aios('config', 'set', 'carma.search.k', '2').code).toBe(0);
    expect(aios('config', 'set', 'carma.search.mode', 'lexical').code).toBe(0);
    const configured = search();
    expect(configured).toMatchObject({ k: 2, mode: 'lexical' });
    expect(configured.results).toHaveLength(2);
    expect(search('-k', '3', '--mode', 'vector')).toMatchObject({ k: 3, mode: 'vector' });

    // Unquoted words are one query; each line starts with the id's last characters.
    const text = aios('memory', 'search', 'serviced', 'at', 'the', 'marina', '-k', '1');
    expect(text.code).toBe(0);
    const line = text.stdout.split('\n')[0] as string;
    const id = /^\s+\[1\] ([0-9a-f]{8})\s/.exec(line)?.[1];
    expect(id, line).toBeDefined();
    expect(line).toContain('boat.md:1');
    expect(line).toMatch(/ relevance [01]\.\d\d /);
    expect(text.stdout).toContain('1 fragment (k 1, lexical)');
    const show = aios('memory', 'show', id as string, '--json');
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout).text).toContain('marina');
  });

  it('counts in stats the rows a delete left in the vector index until it is compacted', {
    timeout: 120_000,
  }, () => {
    const stats = () => JSON.parse(aios('memory', 'stats', '--json').stdout);
    if (stats().fragments === 0) expect(aios('ingest', notes).code).toBe(0);
    const before = stats();
    const found = JSON.parse(aios('memory', 'search', 'marina', '-k', '1', '--json').stdout);
    const id = found.results[0].id as string;
    expect(aios('memory', 'delete', id).code).toBe(0);
    // Far below the share that starts a compaction: the row stays, counted, in the file.
    const after = stats();
    expect(after.fragments).toBe(before.fragments - 1);
    expect(after.deadRows).toBe(before.deadRows + 1);
    expect(aios('memory', 'stats').stdout).toMatch(new RegExp(`dead rows\\s+${after.deadRows} `));
  });

  it('refuses a bad -k or --mode with a coded error, not an unexpected one', () => {
    for (const args of [
      ['-k', 'abc'],
      ['-k', '0'],
      ['--mode', 'fuzzy'],
    ]) {
      const r = aios('memory', 'search', 'car', ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^aios: .*\[(INVALID_INPUT|USAGE_ERROR)\]\n/);
    }
  });
});
