import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { type Aios, ingest } from './index.js';
import { withNotesHome } from './testing/notes-home.js';

// A CSV or TSV file is read row by row: each row one fragment, its cells named by the
// column names of the first row, cited at the line where the row starts.

/** The fragments of a namespace as [text, line], by line. */
async function rows(aios: Aios, namespace: string): Promise<Array<[string, unknown]>> {
  return (await aios.memory.list({ namespace }))
    .map((f): [string, unknown] => [f.text, f.metadata?.line])
    .sort((a, b) => Number(a[1]) - Number(b[1]));
}

describe.each(testImplementations())('ingest of CSV files (AIOS_NATIVE=%s)', (impl) => {
  it('stores each row with its cells named by the header, quoted cells whole, at its line', () =>
    withNotesHome(impl, async (aios, dir) => {
      const path = join(dir, 'contacts.csv');
      writeFileSync(
        path,
        '\ufeffname,address,phone\r\n' +
          '"Berg, Anna","Storgata 4\r\n0155 Oslo",+47 987 65 432\r\n' +
          '\r\n' +
          'René Dubois,,"06 ""12"" 34"\r\n',
      );
      const result = await ingest(aios, [path]);
      expect(result.added).toBe(2);
      expect(await rows(aios, result.namespace)).toEqual([
        ['name: Berg, Anna; address: Storgata 4\r\n0155 Oslo; phone: +47 987 65 432', 2],
        ['name: René Dubois; phone: 06 "12" 34', 5],
      ]);
    }));

  it('finds the delimiter (semicolon, tab), and takes a first row of values for data', () =>
    withNotesHome(impl, async (aios, dir) => {
      writeFileSync(
        join(dir, 'konto.csv'),
        'Datum;Empfänger;Betrag\n2026-11-02;Stadtwerke Köln;-84,20\n2026-11-05;Bäckerei Schmitz;-6,40\n',
      );
      writeFileSync(join(dir, 'plants.tsv'), 'fern\tshade\t2\nbasil\tsun\t3\n');
      writeFileSync(join(dir, 'readings.csv'), '2026-01-01,12.5\n2026-01-02,13.1\n');
      const result = await ingest(aios, [dir]);
      expect(result.added).toBe(6);
      const texts = (await rows(aios, result.namespace)).map(([text]) => text).sort();
      expect(texts).toEqual([
        '2026-01-01; 12.5',
        '2026-01-02; 13.1',
        'Datum: 2026-11-02; Empfänger: Stadtwerke Köln; Betrag: -84,20',
        'Datum: 2026-11-05; Empfänger: Bäckerei Schmitz; Betrag: -6,40',
        'basil; sun; 3',
        'fern; shade; 2',
      ]);
      const found = await aios.memory.search('Stadtwerke Köln', { k: 1 });
      expect(found[0]?.fragment.text).toContain('Betrag: -84,20');
    }));

  it('names a broken CSV file: named, the run fails; in a folder, it is skipped', () =>
    withNotesHome(impl, async (aios, dir) => {
      const bad = join(dir, 'bad.csv');
      writeFileSync(bad, 'name,note\n"Anna,never closed\n');
      await expect(ingest(aios, [bad])).rejects.toMatchObject({
        code: 'INGEST_INVALID',
        message: expect.stringMatching(
          /bad\.csv: not valid CSV: a quote opened at line 2 is never closed$/,
        ),
        details: { line: 2 },
      });
      const folder = join(dir, 'exports');
      mkdirSync(folder);
      writeFileSync(join(folder, 'bad.csv'), 'name,note\n"Anna,never closed\n');
      writeFileSync(join(folder, 'good.csv'), 'bird,seen\nkingfisher,at noon\n');
      const result = await ingest(aios, [folder]);
      expect(result.skipped).toEqual([
        {
          path: join(folder, 'bad.csv'),
          reason: expect.stringMatching(/^not valid CSV: a quote opened at line 2/),
        },
      ]);
      expect(result.added).toBe(1);
    }));

  it('keeps a CSV file in step: an edited row is replaced, the others stay', () =>
    withNotesHome(impl, async (aios, dir) => {
      const path = join(dir, 'birds.csv');
      writeFileSync(path, 'bird,seen\nheron,at dawn\notter,at dusk\n');
      await ingest(aios, [path]);
      writeFileSync(path, 'bird,seen\nheron,at dawn\notter,at midnight\n');
      const result = await ingest(aios, [path]);
      expect(await rows(aios, result.namespace)).toEqual([
        ['bird: heron; seen: at dawn', 2],
        ['bird: otter; seen: at midnight', 3],
      ]);
    }));

  it('reads notes in Org, reStructuredText and AsciiDoc in folders', () =>
    withNotesHome(impl, async (aios, dir) => {
      writeFileSync(
        join(dir, 'garden.org'),
        '* Garden\nThe tomatoes need water every second day.\n',
      );
      writeFileSync(
        join(dir, 'falcon.rst'),
        'Falcon\n======\n\nThe Falcon release ships in May.\n',
      );
      writeFileSync(join(dir, 'boat.adoc'), '= Boat\n\nThe boat is moored at pier 7.\n');
      const result = await ingest(aios, [dir]);
      expect(result.files.map((f) => f.path.split('/').at(-1)).sort()).toEqual([
        'boat.adoc',
        'falcon.rst',
        'garden.org',
      ]);
      const found = await aios.memory.search('tomatoes water', { k: 1 });
      expect(found[0]?.fragment.text).toContain('every second day');
    }));
});
