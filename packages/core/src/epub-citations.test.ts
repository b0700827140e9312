import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testEpub, testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { runCli, tempHomes } from './testing/cli.js';

// A passage of a book is cited by its chapter (`keeper.epub, "The Storm"`), in every
// command that shows where a fragment came from: the built CLI, offline.
const tempHome = tempHomes('aios-epub-cite-');

describe.each(testImplementations())('citations of a book (AIOS_NATIVE=%s)', (impl) => {
  it('name the chapter in search, ask, a reopened conversation, list and show', () => {
    const home = tempHome();
    const aios = (...args: string[]) => runCli(home, ['--offline', ...args], { AIOS_NATIVE: impl });
    writeFileSync(
      join(home, 'keeper.epub'),
      testEpub(
        [
          [{ text: 'The lamp was lit at dusk.' }],
          [
            { text: 'The Storm', heading: 1 },
            { text: 'Martha rowed out to the schooner at dawn.' },
          ],
        ],
        { title: 'The Keeper' },
      ),
    );
    expect(aios('ingest', 'keeper.epub').code).toBe(0);
    const cited = 'keeper.epub, "Chapter 2"';

    const search = aios('memory', 'search', 'Martha schooner', '-k', '1');
    expect(search.code).toBe(0);
    expect(search.stdout).toContain(cited);

    const ask = aios('ask', 'Who rowed out to the schooner?');
    expect(ask.code).toBe(0);
    expect(ask.stdout).toMatch(/\[1\] keeper\.epub, "Chapter 2" \(relevance/);
    const asked = JSON.parse(aios('ask', 'Who rowed out to the schooner?', '--json').stdout);
    expect(asked.sources[0]).toMatchObject({
      source: expect.stringMatching(/keeper\.epub$/),
      chapter: 'Chapter 2',
    });

    const conversation = /conversation ([0-9a-f]{8})/.exec(ask.stdout)?.[1] as string;
    const shown = aios('conversations', 'show', conversation);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(cited);

    const list = aios('memory', 'list');
    expect(list.stdout).toContain(cited);
    const id = /^\s+(\S+)\s+keeper\.epub, "Chapter 2"/m.exec(list.stdout)?.[1] as string;
    expect(aios('memory', 'show', id).stdout).toContain(`source      ${cited}`);
  });
});
