import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import type { Aios } from './aios.js';
import { forgetSources, ingest, planForget } from './ingest.js';
import { withNotesHome } from './testing/notes-home.js';

// A text two files hold is one fragment, cited from the first file ingested. When that
// file is forgotten, or no longer holds the text, the fragment is the other file's, cited
// at its line in that file.

const SHARED = 'The spare key is under the third pot by the door.';
/** A paragraph long enough that the next one is a fragment of its own. */
const KEYS = `${'The car key hangs in the hall, on the hook by the coats. '.repeat(4)}\n${'The shed key is on the same ring. '.repeat(7)}`;

describe.each(testImplementations())('a fragment two files hold (AIOS_NATIVE=%s)', (impl) => {
  const withAios = (run: (aios: Aios, dir: string) => Promise<void>) => withNotesHome(impl, run);
  const shared = async (aios: Aios) =>
    (await aios.memory.list()).find((f) => f.text === SHARED)?.metadata;

  /** Two notes holding `SHARED`: `house.md` at line 1, `keys.txt` at line 4. */
  const twoNotes = async (aios: Aios, dir: string) => {
    const house = join(dir, 'house.md');
    const keys = join(dir, 'keys.txt');
    writeFileSync(house, `${SHARED}\n`);
    writeFileSync(keys, `${KEYS}\n\n${SHARED}\n`);
    await ingest(aios, [house, keys]);
    expect(await shared(aios)).toMatchObject({ source: house, line: 1, kind: 'markdown' });
    return { house, keys };
  };

  it('keeps citing the other file, at its line there, once the first is forgotten', async () => {
    await withAios(async (aios, dir) => {
      const { house, keys } = await twoNotes(aios, dir);
      const plan = await planForget(aios, { paths: [house] });
      expect(plan.shared).toHaveLength(1);
      await forgetSources(aios, plan);
      expect(await shared(aios)).toMatchObject({
        source: keys,
        line: 4,
        offset: KEYS.length + 2,
        kind: 'text',
      });
    });
  });

  it('keeps citing the other file, at its line there, once the first no longer holds the text', async () => {
    await withAios(async (aios, dir) => {
      const { house, keys } = await twoNotes(aios, dir);
      writeFileSync(house, 'The boiler is in the attic.\n');
      expect((await ingest(aios, [house])).files).toMatchObject([{ status: 'changed' }]);
      expect(await shared(aios)).toMatchObject({
        source: keys,
        line: 4,
        offset: KEYS.length + 2,
        kind: 'text',
      });
    });
  });

  it('keeps citing the other file, at its line there, once the first is gone and pruned', async () => {
    await withAios(async (aios, dir) => {
      const { house, keys } = await twoNotes(aios, dir);
      rmSync(house);
      const result = await ingest(aios, [dir], { prune: true });
      expect(result.pruned).toMatchObject({ sources: 1, shared: 1 });
      expect(await shared(aios)).toMatchObject({
        source: keys,
        line: 4,
        offset: KEYS.length + 2,
        kind: 'text',
      });
    });
  });
});
