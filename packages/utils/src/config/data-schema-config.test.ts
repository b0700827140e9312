import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadConfig } from './load.js';

let cwd: string;
let home: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'aios-data-schema-config-'));
  home = join(cwd, 'home');
  mkdirSync(home);
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const load = (env: NodeJS.ProcessEnv = {}) => loadConfig({ cwd, env: { AIOS_HOME: home, ...env } });

describe('data.schema config', () => {
  it('is unset by default and taken from AIOS_DATA__SCHEMA', () => {
    expect(load().config.data.schema).toBeUndefined();
    expect(load({ AIOS_DATA__SCHEMA: 'team_a' }).config.data.schema).toBe('team_a');
  });

  it('refuses what is not a plain lowercase identifier, naming the field', () => {
    for (const bad of ['Team', 'a-b', '1a', 'pg_catalog', 'x'.repeat(64), 'a;drop']) {
      let error: unknown;
      try {
        load({ AIOS_DATA__SCHEMA: bad });
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message), bad).toContain('data.schema');
    }
  });
});
