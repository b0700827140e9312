import { describe, expect, it } from 'vitest';
import { runCli, tempHomes } from './testing/cli.js';

// `aios config list`: one key a line, whatever its value holds.

const tempHome = tempHomes('aios-config-list-');

describe('aios config list', () => {
  it('shows a text that spans lines on the line of its key', () => {
    const home = tempHome();
    const persona = 'You are a pirate.\nSpeak like one.';
    expect(runCli(home, ['config', 'set', 'luna.personas.pirate', persona]).code).toBe(0);
    const r = runCli(home, ['config', 'list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.every((l) => /^[a-zA-Z][\w.-]* +\S/.test(l))).toBe(true);
    expect(lines).toContainEqual(expect.stringContaining(`  ${JSON.stringify(persona)}  (`));
    // JSON gives the text itself.
    const json = JSON.parse(runCli(home, ['config', 'list', '--json']).stdout);
    expect(json).toContainEqual(
      expect.objectContaining({ key: 'luna.personas.pirate', value: persona }),
    );
  });
});
