/**
 * The household fixture of the tests (test-fixtures/household: 16 Markdown notes of a
 * family: allergies, birthdays, car, heating, bins, wifi...), for the suites of this
 * package; other packages read the folder itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOUSEHOLD = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../test-fixtures/household',
);

/** Every note of the household, as `aios ingest` stores a short note (one fragment each). */
export function householdNotes(): Array<{
  text: string;
  metadata: { source: string; line: number; offset: number; kind: string };
}> {
  return readdirSync(HOUSEHOLD)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => ({
      text: readFileSync(join(HOUSEHOLD, f), 'utf8').trim(),
      metadata: { source: join(HOUSEHOLD, f), line: 1, offset: 0, kind: 'markdown' },
    }));
}
