import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { tempHomes } from './testing/cli.js';
import { runCliAsync } from './testing/run.js';

// The sources of an answer, as `aios ask` and the chat's /sources list them: the same
// lines, and a note from no file named by the short id `aios memory show` takes.

const tempHome = tempHomes('aios-answer-sources-');

describe.each(testImplementations())('sources of an answer (AIOS_NATIVE=%s)', (impl) => {
  it('ask and /sources list them alike, by the ids memory commands print', async () => {
    const home = tempHome();
    const aios = (args: string[], input = '') =>
      runCliAsync(home, ['--offline', ...args], { AIOS_NATIVE: impl }, input);
    const added = await aios(['memory', 'add', '--json', 'Ines lives in Lisbon.']);
    const id: string = JSON.parse(added.stdout).fragment.id;
    expect((await aios(['memory', 'add', 'My sister is called Ines.'])).code).toBe(0);

    const asked = await aios(['ask', 'Where does Ines live?']);
    expect(asked.code).toBe(0);
    const line = asked.stdout.split('\n').find((l) => l.startsWith('  [1] '));
    expect(line).toMatch(
      new RegExp(`^ {2}\\[1\\] default ${id.slice(-8)} \\(relevance \\d\\.\\d\\d\\) Ines lives`),
    );
    expect((await aios(['memory', 'show', id.slice(-8)])).stdout).toContain(id);

    const chat = await aios(['chat'], 'Where does Ines live?\n/sources\n');
    expect(chat.stderr).toBe('');
    expect(chat.stdout.split('\n')).toContain(line);
  }, 60_000);
});
