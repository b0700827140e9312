import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { envName, leafPaths, recordPaths, suggestConfigKey } from './env.js';
import { loadConfig } from './load.js';

let cwd: string;
let home: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'aios-config-'));
  home = join(cwd, 'home');
  mkdirSync(home);
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const load = (env: NodeJS.ProcessEnv = {}) => loadConfig({ cwd, env: { AIOS_HOME: home, ...env } });

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills every default and derives paths from the home', () => {
    const { config, file } = load();
    expect(file).toBeUndefined();
    expect(config.home).toBe(home);
    expect(config.native).toBe('auto');
    expect(config.data.path).toBe(join(home, 'aios.db'));
    expect(config.backup.repository).toBe(join(home, 'backups'));
    expect(config.carma.embedder).toEqual({ provider: 'builtin', dimension: 384 });
    expect(config.luna.llm.baseUrl).toBeUndefined();
  });

  it('defaults the home to ~/.aios without AIOS_HOME', () => {
    const { config } = loadConfig({ cwd, env: {} });
    expect(config.home).toMatch(/\.aios$/);
  });

  it('layers aios.config.json < AIOS_* env < overrides', () => {
    writeFileSync(
      join(cwd, 'aios.config.json'),
      JSON.stringify({
        logLevel: 'debug',
        luna: { llm: { model: 'file-model', timeoutMs: 1000 } },
      }),
    );
    const { config, file } = loadConfig({
      cwd,
      env: { AIOS_HOME: home, AIOS_LUNA__LLM__MODEL: 'env-model', AIOS_LOG_LEVEL: 'warn' },
      overrides: { logLevel: 'error' },
    });
    expect(file).toBe(join(cwd, 'aios.config.json'));
    expect(config.luna.llm.model).toBe('env-model');
    expect(config.luna.llm.timeoutMs).toBe(1000);
    expect(config.logLevel).toBe('error');
  });

  it('reads $AIOS_HOME/config.json when the working directory has none', () => {
    writeFileSync(join(home, 'config.json'), JSON.stringify({ data: { path: 'store.db' } }));
    const { config, file } = load();
    expect(file).toBe(join(home, 'config.json'));
    expect(config.data.path).toBe(join(home, 'store.db'));
  });

  it('parses typed env values and maps nested names', () => {
    const { config } = load({
      AIOS_CARMA__EMBEDDER__DIMENSION: '256',
      AIOS_BACKUP__EXCLUDES: '["*.tmp","node_modules/"]',
      AIOS_LUNA__LLM__BASE_URL: 'http://127.0.0.1:1234/v1/',
    });
    expect(config.carma.embedder).toEqual({ provider: 'builtin', dimension: 256 });
    expect(config.backup.excludes).toEqual(['*.tmp', 'node_modules/']);
    expect(config.luna.llm.baseUrl).toBe('http://127.0.0.1:1234/v1');
  });

  it('names the field, the bad value, its source and what is allowed', () => {
    const error = configError(() => load({ AIOS_NATIVE: 'fastest' }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('native = "fastest" (from AIOS_NATIVE)');
    expect(error.message).toMatch(/"auto"\|"js"\|"native"/);
  });

  it('reports every problem in a config file, including unknown keys', () => {
    const path = join(cwd, 'aios.config.json');
    writeFileSync(
      path,
      JSON.stringify({
        carma: { embedder: { provider: 'builtin', dimension: 'big' } },
        lunaa: {},
        support: { diskFreeMinPercent: 150 },
      }),
    );
    const error = configError(() => load());
    const issues = (error.details?.issues ?? []) as { path: string; source: string }[];
    expect(issues.map((i) => i.path).sort()).toEqual([
      'carma.embedder.dimension',
      'lunaa',
      'support.diskFreeMinPercent',
    ]);
    expect(issues.every((i) => i.source === path)).toBe(true);
    expect(error.message).toContain('carma.embedder.dimension = "big"');
    expect(error.message).toContain('lunaa');
    expect(error.message).toContain('unknown field');
    expect(error.message).toMatch(/support\.diskFreeMinPercent = 150 .*100/);
  });

  it('requires the OpenAI embedder fields and a real URL', () => {
    const error = configError(() =>
      loadConfig({
        cwd,
        env: { AIOS_HOME: home },
        overrides: { carma: { embedder: { provider: 'openai', baseUrl: 'ftp://x', model: '' } } },
      }),
    );
    expect(error.message).toContain('carma.embedder.baseUrl = "ftp://x" (from overrides)');
    expect(error.message).toContain('http(s) URL');
    expect(error.message).toContain('carma.embedder.model');
  });

  it('rejects malformed JSON with the file named and leaves it untouched', () => {
    const path = join(cwd, 'aios.config.json');
    writeFileSync(path, '{ "logLevel": ');
    const error = configError(() => load());
    expect(error.code).toBe('CONFIG_PARSE');
    expect(error.message).toContain(path);
    expect(configError(() => load({ AIOS_CONFIG: 'missing.json' })).message).toContain(
      'does not exist',
    );
    writeFileSync(path, '[1,2]');
    expect(configError(() => load()).message).toContain('expected a JSON object');
  });

  it('maps every schema leaf to an AIOS_* variable name', () => {
    const names = leafPaths().map(envName);
    expect(names).toContain('AIOS_HOME');
    expect(names).toContain('AIOS_LOG_LEVEL');
    expect(names).toContain('AIOS_LUNA__LLM__BASE_URL');
    expect(names).toContain('AIOS_CARMA__EMBEDDER__PROVIDER');
    expect(new Set(names).size).toBe(names.length);
  });

  it('knows which leaves are maps of names (their entries are keys too)', () => {
    expect(recordPaths()).toEqual([['luna', 'personas']]);
    expect(leafPaths()).toContainEqual(['luna', 'personas']);
  });

  it('warns about AIOS_* variables that are no config key, with the closest one', () => {
    const { config, warnings } = load({
      AIOS_LUNA_LLM_MODEL: 'qwen3',
      AIOS_NATIVEE: 'js',
      AIOS_SOMETHING_ELSE_ENTIRELY: '1',
      AIOS_CONFIG: '',
      AIOS_DEBUG: '1',
      AIOS_TEST_IMPLEMENTATIONS: 'js',
      // What CI and the test tools set: no warning on every command they run.
      AIOS_REQUIRE_TOOLS: '1',
      AIOS_CHAOS_SEED: '7',
      AIOS_LUNA__LLM__MODEL: 'real',
    });
    expect(config.luna.llm.model).toBe('real');
    expect(warnings).toEqual([
      {
        code: 'CONFIG_UNKNOWN_ENV',
        variable: 'AIOS_LUNA_LLM_MODEL',
        suggestion: 'AIOS_LUNA__LLM__MODEL',
        message:
          'AIOS_LUNA_LLM_MODEL is not a config variable and is ignored (did you mean AIOS_LUNA__LLM__MODEL?)',
      },
      expect.objectContaining({ variable: 'AIOS_NATIVEE', suggestion: 'AIOS_NATIVE' }),
      expect.objectContaining({
        variable: 'AIOS_SOMETHING_ELSE_ENTIRELY',
        suggestion: undefined,
        message: 'AIOS_SOMETHING_ELSE_ENTIRELY is not a config variable and is ignored',
      }),
    ]);
    expect(load().warnings).toEqual([]);
  });

  it('keeps a "__proto__" key in a file a key: reported as unknown, never a prototype', () => {
    writeFileSync(
      join(cwd, 'aios.config.json'),
      '{"__proto__": {"native": "js"}, "carma": {"__proto__": {"search": {"k": 0}}}}',
    );
    const issues = (configError(() => load()).details?.issues ?? []) as { path: string }[];
    expect(issues.map((i) => i.path).sort()).toEqual(['__proto__', 'carma.__proto__']);
    expect(({} as Record<string, unknown>).native).toBeUndefined();
  });

  it('suggests the config key closest to a misspelled one', () => {
    expect(suggestConfigKey('carma.serch.k')).toBe('carma.search.k');
    expect(suggestConfigKey('luna.llm.modle')).toBe('luna.llm.model');
    expect(suggestConfigKey('luna')).toBe('luna');
    expect(suggestConfigKey('completely.different.thing')).toBeUndefined();
  });
});
