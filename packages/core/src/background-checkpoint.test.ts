import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { runCli, tempHomes } from './testing/cli.js';

const temp = tempHomes('aios-background-checkpoint-');

/** The index files in a memory's directory. */
const indexFiles = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir).filter((n) => /^(?:index|lexical|labels)-\d+\.bin$/.test(n))
    : [];

/** The records of full checks of the index files (checked-files.ts in @aios/carma). */
const checkRecords = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir).filter((n) => /^(?:index|lexical|labels)-\d+\.bin\.checked$/.test(n))
    : [];

async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not done after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(testImplementations())(
  'the index files of a large memory (AIOS_NATIVE=%s)',
  (impl) => {
    it('are written by aios memory checkpoint in the background natively, by the command in js', async () => {
      const home = temp();
      const notes = join(home, 'notes');
      mkdirSync(notes);
      for (let i = 0; i < 12; i++) writeFileSync(join(notes, `n${i}.md`), `note ${i}: markn${i}\n`);
      // Every memory counts as large here.
      const env = { AIOS_NATIVE: impl, AIOS_CARMA__BACKGROUND_CHECKPOINT_FROM: '0' };
      const ingest = runCli(home, ['ingest', notes], env);
      expect(ingest.code, ingest.stderr).toBe(0);
      const carma = join(home, 'carma');
      const lock = join(carma, 'checkpoint.lock', 'exclusive.json');
      const started =
        /the memory's index files are being written in the background \(aios memory checkpoint, process \d+\)/;
      if (impl === 'js') {
        // A js store is the command's alone: it writes the files itself.
        expect(ingest.stderr).not.toMatch(started);
        expect(indexFiles(carma)).toHaveLength(3);
      } else {
        expect(ingest.stderr).toMatch(started);
        await until(() => indexFiles(carma).length === 3 && !existsSync(lock), 60_000);
        // It then checked them in full, once settled: the next command need not.
        await until(() => checkRecords(carma).length === 3, 60_000);
      }
      const check = runCli(home, ['memory', 'checkpoint', '--json'], env);
      expect(check.code, check.stderr).toBe(0);
      expect(JSON.parse(check.stdout)).toEqual({ outcome: 'current' });
      const search = runCli(home, ['memory', 'search', 'markn7', '-k', '1'], env);
      expect(search.stdout).toContain('note 7: markn7');
    });

    it('are written by the command itself below the size configured', () => {
      const home = temp();
      const notes = join(home, 'notes');
      mkdirSync(notes);
      writeFileSync(join(notes, 'one.md'), 'a single note: markone\n');
      const ingest = runCli(home, ['ingest', notes], { AIOS_NATIVE: impl });
      expect(ingest.code, ingest.stderr).toBe(0);
      expect(ingest.stderr).not.toContain('in the background');
      expect(indexFiles(join(home, 'carma'))).toHaveLength(3);
      const check = runCli(home, ['memory', 'checkpoint'], { AIOS_NATIVE: impl });
      expect(check.stdout).toContain('the index files are up to date');
    });
  },
);
