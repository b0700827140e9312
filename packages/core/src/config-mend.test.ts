import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, runCli, tempHomes } from './testing/cli.js';

// A config file that does not load: every command says so with its code on the first line
// and the problems under it, and `aios config unset` mends it one key at a time, the keys
// the schema does not know included.

const tempHome = tempHomes('aios-config-mend-');

function brokenHome(): { home: string; file: string } {
  const home = tempHome();
  const file = join(home, 'config.json');
  writeFileSync(file, '{"carma": {"search": {"k": "x", "mode": "vector"}}, "bogus": 1}\n');
  return { home, file };
}

describe('a config file that does not load', () => {
  it('any command names the code first, then each problem', () => {
    const { home } = brokenHome();
    const r = runCli(home, ['--offline', 'ask', 'hello']);
    expect(r.code).toBe(1);
    const [first, ...problems] = r.stderr.trimEnd().split('\n');
    expect(first).toBe('aios: invalid AIOS configuration [CONFIG_INVALID]');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^ {2}- carma\.search\.k = "x" /);
    expect(problems[1]).toMatch(/^ {2}- bogus = 1 .*unknown field/);
  });

  it('unset removes a key the schema does not know, and one bad key while another stays', () => {
    const { home, file } = brokenHome();
    const bogus = runCli(home, ['config', 'unset', 'bogus']);
    expect(bogus.stderr).toBe('');
    expect(bogus.code).toBe(0);
    const k = runCli(home, ['config', 'unset', 'carma.search.k']);
    expect(k.stderr).toBe('');
    expect(k.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      carma: { search: { mode: 'vector' } },
    });
    expect(runCli(home, ['config', 'validate']).code).toBe(0);

    // A key neither the schema nor the file has is still a mistake.
    const missing = runCli(home, ['config', 'unset', 'bogus']);
    expect(missing.code).toBe(1);
    expectOneLineError(missing.stderr, 'CONFIG_UNKNOWN_KEY');
  });

  it('unset still refuses to leave a problem the file did not have', () => {
    const home = tempHome();
    const file = join(home, 'config.json');
    const text = '{"luna": {"persona": "pirate", "personas": {"pirate": "Arr."}}}\n';
    writeFileSync(file, text);
    const r = runCli(home, ['config', 'unset', 'luna.personas.pirate']);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, 'CONFIG_INVALID');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('validate tells a file that is not JSON in plain words', () => {
    const home = tempHome();
    writeFileSync(join(home, 'config.json'), '{ nope');
    const r = runCli(home, ['config', 'validate']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[1]).toMatch(/^ {2}- \/.*config\.json is not valid JSON: /);
  });
});
