import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { tempHomes } from './testing/cli.js';
import { runCliAsync } from './testing/run.js';

// A conversation read again lists its answers' sources as the answers did when asked: the
// same lines, with the quoted text, even after the fragment is deleted.

const tempHome = tempHomes('aios-conversation-sources-');

describe.each(testImplementations())('sources of a stored answer (AIOS_NATIVE=%s)', (impl) => {
  it('conversations show lists them as ask did, the fragment deleted since', async () => {
    const home = tempHome();
    const aios = (...args: string[]) =>
      runCliAsync(home, ['--offline', ...args], { AIOS_NATIVE: impl });
    const added = await aios('memory', 'add', '--json', 'Ines lives in Lisbon, near the river.');
    const id: string = JSON.parse(added.stdout).fragment.id;
    expect((await aios('memory', 'add', 'My sister is called Ines.')).code).toBe(0);

    const asked = await aios('ask', 'Where does Ines live?');
    expect(asked.code).toBe(0);
    const listed = asked.stdout.split('\n').filter((l) => /^ {2}\[\d\] /.test(l));
    expect(listed[0]).toContain('Ines lives in Lisbon');
    const conversation: string = JSON.parse((await aios('conversations', 'list', '--json')).stdout)
      .conversations[0].id;

    expect((await aios('memory', 'delete', id)).code).toBe(0);
    const shown = await aios('conversations', 'show', conversation);
    expect(shown.stderr).toBe('');
    expect(shown.stdout).toContain('Sources:');
    expect(shown.stdout.split('\n').filter((l) => /^ {2}\[\d\] /.test(l))).toEqual(listed);

    const json = JSON.parse((await aios('conversations', 'show', conversation, '--json')).stdout);
    expect(json.title).toBe('Where does Ines live?');
    expect(json.turns[0].sources[0]).toMatchObject({
      id,
      excerpt: expect.stringContaining('Ines lives in Lisbon'),
      grounded: true,
      namespace: 'default',
      source: null,
    });
  }, 60_000);
});
