import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempHomes } from './testing/cli.js';

// Memory that stays in step with a notes folder, end to end through the built CLI: an
// unchanged file is skipped, a changed one's fragments replaced, the user's edits and
// deletes survive a re-ingest (or are reported as conflicts), removed files are pruned on
// request, and `aios forget` takes out what came from a file, a folder or a namespace.
const tempHome = tempHomes('aios-sync-');

const FAMILY = {
  grandma: '## Grandma\n\nGrandma Rose is allergic to cats.',
  car: '## Car\n\nThe car is serviced every spring at the garage.',
  wifi: '## Wifi\n\nThe wifi password hint is the name of the dog.',
  heating: '## Heating\n\nThe boiler is serviced every autumn by Klaus.',
};
const family = (...sections: string[]) => `# Family\n\n${sections.join('\n\n')}\n`;

describe.each(testImplementations())('a notes folder kept in sync (AIOS_NATIVE=%s)', (impl) => {
  const home = tempHome();
  const notes = join(home, 'notes');
  const familyFile = join(notes, 'family.md');
  const binsFile = join(notes, 'bins.md');
  const aios = (...args: string[]) => runCli(home, ['--offline', ...args], { AIOS_NATIVE: impl });
  const json = (...args: string[]) => {
    const r = aios(...args, '--json');
    expect(r.stderr, args.join(' ')).toBe('');
    expect(r.code, args.join(' ')).toBe(0);
    return JSON.parse(r.stdout);
  };
  /** Every fragment text in the home's database, by namespace. */
  const texts = async (namespace = 'documents'): Promise<string[]> => {
    const data = await openDataStore({ path: join(home, 'aios.db'), native: impl });
    try {
      return (await data.fragments.list({ namespace, limit: 10_000 })).map((f) => f.text).sort();
    } finally {
      await data.close();
    }
  };
  const idOf = (query: string): string =>
    json('memory', 'search', query, '-k', '1').results[0].id as string;

  beforeAll(() => {
    mkdirSync(notes);
    writeFileSync(familyFile, family(FAMILY.grandma, FAMILY.car, FAMILY.wifi));
    writeFileSync(binsFile, '# Bins\n\nThe black bin goes out on Monday evenings.\n');
  });

  // Each step is a CLI run; many of them on a busy machine.
  const slow = { timeout: 180_000 };

  it('skips unchanged files and keeps edits and deletes across re-ingests', slow, async () => {
    expect(json('ingest', notes)).toMatchObject({ added: 5, unchanged: 0 });
    const car = idOf('car serviced spring garage');
    const wifi = idOf('wifi password hint dog');
    const edited = '## Car\n\nThe car is serviced every spring at Miller’s garage.';
    expect(aios('memory', 'edit', car, '--text', edited).code).toBe(0);
    expect(aios('memory', 'delete', wifi).code).toBe(0);

    // Unchanged, and touched without a change: skipped; nothing comes back.
    expect(json('ingest', notes)).toMatchObject({ added: 0, unchanged: 2, conflicts: [] });
    utimesSync(familyFile, new Date(), new Date(Date.now() + 5000));
    expect(json('ingest', notes)).toMatchObject({ added: 0, unchanged: 2 });
    const text = aios('ingest', notes);
    expect(text.stdout).toContain('family.md: unchanged since the last ingest, skipped');
    expect(text.stdout).toContain('nothing new: 2 files unchanged since the last ingest');
    let all = await texts();
    expect(all).toContain(edited);
    expect(all).not.toContain(FAMILY.car);
    expect(all.some((t) => t.includes('wifi'))).toBe(false);

    // A changed file: its new piece added, the old one removed, the edit and the delete kept.
    writeFileSync(
      familyFile,
      family(FAMILY.grandma.replace('cats.', 'cats and dogs.'), FAMILY.car, FAMILY.wifi),
    );
    const changed = json('ingest', notes);
    expect(changed).toMatchObject({ added: 1, removed: 1, edited: 1, deleted: 1, unchanged: 1 });
    expect(changed.files.find((f: { path: string }) => f.path === familyFile)).toMatchObject({
      status: 'changed',
      kept: 1,
    });
    all = await texts();
    expect(all).toContain('## Grandma\n\nGrandma Rose is allergic to cats and dogs.');
    expect(all).not.toContain(FAMILY.grandma);
    expect(all).toContain(edited);
    expect(all.some((t) => t.includes('wifi'))).toBe(false);
    expect(all).toHaveLength(4); // # Family, Grandma, the edited car, bins

    // The file drops the section the user edited: the edit is kept, as a conflict.
    writeFileSync(familyFile, family(FAMILY.grandma, FAMILY.wifi, FAMILY.heating));
    const conflict = json('ingest', notes);
    expect(conflict.conflicts).toEqual([
      expect.objectContaining({ id: car, path: familyFile, text: edited, ingested: FAMILY.car }),
    ]);
    expect(await texts()).toContain(edited);
    expect((await texts()).some((t) => t.includes('wifi'))).toBe(false);
    writeFileSync(familyFile, family(FAMILY.grandma, FAMILY.wifi, FAMILY.heating, '## Pets'));
    const shown = aios('ingest', notes);
    expect(shown.stdout).toContain(
      `conflict: notes/family.md:7 changed where you edited fragment ${car.slice(-8)}; your text is kept:`,
    );
    expect(shown.stdout).toMatch(
      /ingested 1 file \(1 unchanged, skipped\): 1 fragment added, .*; 1 conflict/,
    );
  });

  it('reports files gone from disk, and removes their fragments with --prune', slow, async () => {
    rmSync(binsFile);
    const missing = json('ingest', notes);
    expect(missing.missing).toEqual([binsFile]);
    expect(await texts()).toContain('# Bins\n\nThe black bin goes out on Monday evenings.');
    const hint = aios('ingest', notes);
    expect(hint.stdout).toContain('1 file ingested before is gone from disk; its fragments stay');
    // A file given by name that is gone says how to forget it.
    const gone = aios('ingest', binsFile);
    expect(gone.code).toBe(1);
    expectOneLineError(gone.stderr, 'IO_NOT_FOUND');
    expect(gone.stderr).toContain('--prune');

    const pruned = json('ingest', notes, '--prune');
    expect(pruned.pruned).toMatchObject({ sources: 1, fragments: 1 });
    expect((await texts()).some((t) => t.includes('bin'))).toBe(false);
    expect(json('ingest', notes).missing).toEqual([]);
  });

  it('forgets a file, then a folder, with a count and a confirmation', slow, async () => {
    writeFileSync(binsFile, '# Bins\n\nThe blue bin is collected on Thursdays.\n');
    expect(json('ingest', notes).added).toBe(1);

    const unconfirmed = aios('forget', binsFile);
    expect(unconfirmed.code).toBe(1);
    expectOneLineError(unconfirmed.stderr, 'CONFIRMATION_REQUIRED');
    expect(unconfirmed.stderr).toContain('1 fragment from 1 file');
    expect(await texts()).toContain('# Bins\n\nThe blue bin is collected on Thursdays.');
    const dry = json('forget', binsFile, '--dry-run');
    expect(dry).toMatchObject({ dryRun: true, sources: [{ path: binsFile }] });
    expect(dry.fragments).toHaveLength(1);

    expect(json('forget', binsFile, '--yes')).toMatchObject({ sources: 1, fragments: 1 });
    expect((await texts()).some((t) => t.includes('bin'))).toBe(false);

    const before = (await texts()).length;
    expect(before).toBeGreaterThan(0);
    const folder = aios('forget', notes, '--yes');
    expect(folder.stdout).toBe(`forgot ${before} fragments from 1 file\n`);
    expect(await texts()).toEqual([]);
    const again = aios('forget', notes, '--yes');
    expect(again.code).toBe(1);
    expectOneLineError(again.stderr, 'SOURCE_NOT_FOUND');

    // Forgotten means new again: the folder comes back whole (# Family and four sections,
    // the one the user had deleted too, and the bins note).
    expect(json('ingest', notes).added).toBe(6);
    expect((await texts()).some((t) => t.includes('wifi'))).toBe(true);
  });
});

describe.each(testImplementations())('aios demo (AIOS_NATIVE=%s)', (impl) => {
  it('puts its notes in a namespace of their own, removed by the one command it names', {
    timeout: 180_000,
  }, async () => {
    const home = tempHome();
    const aios = (...args: string[]) => runCli(home, ['--offline', ...args], { AIOS_NATIVE: impl });
    const notes = join(home, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'mine.md'), 'The heron fished at the pond at dawn.\n');
    expect(aios('ingest', notes).code).toBe(0);

    const demo = aios('demo');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toContain('(namespace demo)');
    expect(demo.stdout).toContain('aios forget --namespace demo --yes');
    const stats = JSON.parse(aios('memory', 'stats', '--json').stdout);
    expect(stats.namespaces.demo).toBeGreaterThan(0);
    expect(stats.namespaces.documents).toBe(1);

    const forget = aios('forget', '--namespace', 'demo', '--yes');
    expect(forget.code).toBe(0);
    expect(forget.stdout).toBe(
      `forgot ${stats.namespaces.demo} fragments from the namespace demo\n`,
    );
    const after = JSON.parse(aios('memory', 'stats', '--json').stdout);
    expect(after.namespaces).toEqual({ documents: 1 });
  });
});
