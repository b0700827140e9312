import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadConfig } from './load.js';
import { isSecretKey, maskSecrets, SECRETS_FILE_NAME } from './secrets.js';

const PASSWORD = 'pg-pass-0123456789abcdef';

let cwd: string;
let home: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'aios-data-url-config-'));
  home = join(cwd, 'home');
  mkdirSync(home);
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const load = (env: NodeJS.ProcessEnv = {}) => loadConfig({ cwd, env: { AIOS_HOME: home, ...env } });

describe('data.url config', () => {
  it('is unset by default: the store is the SQLite file', () => {
    const { config } = load();
    expect(config.data.url).toBeUndefined();
    expect(config.data.path).toBe(join(home, 'aios.db'));
  });

  it('takes the URL from AIOS_DATA__URL and the password from AIOS_DATA__PASSWORD', () => {
    const { config } = load({
      AIOS_DATA__URL: 'postgres://aios@127.0.0.1:5432/aios',
      AIOS_DATA__PASSWORD: PASSWORD,
    });
    expect(config.data).toMatchObject({
      url: 'postgres://aios@127.0.0.1:5432/aios',
      password: PASSWORD,
    });
    expect(load({ AIOS_DATA__URL: 'postgresql://db.example/aios' }).config.data.url).toBe(
      'postgresql://db.example/aios',
    );
  });

  it('refuses a URL that is not postgres:// or postgresql://', () => {
    expect(() => load({ AIOS_DATA__URL: 'mysql://127.0.0.1/aios' })).toThrow(/postgres:\/\//);
  });

  it("refuses a password in a model server's URL too, naming apiKey, without printing it", () => {
    for (const env of [
      { AIOS_LUNA__LLM__BASE_URL: `http://me:${PASSWORD}@127.0.0.1:1234/v1` },
      {
        AIOS_CARMA__EMBEDDER__PROVIDER: 'openai',
        AIOS_CARMA__EMBEDDER__MODEL: 'e5',
        AIOS_CARMA__EMBEDDER__BASE_URL: `http://me:${PASSWORD}@127.0.0.1:8080/v1`,
      },
    ]) {
      let error: unknown;
      try {
        load(env);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const text = `${(error as Error).message} ${JSON.stringify((error as ConfigError).details)}`;
      expect(text).toContain('apiKey');
      expect(text).not.toContain(PASSWORD);
    }
  });

  it('refuses a password in the URL, naming data.password, without printing the password', () => {
    let error: unknown;
    try {
      load({ AIOS_DATA__URL: `postgres://aios:${PASSWORD}@127.0.0.1:5432/aios` });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = `${(error as Error).message} ${JSON.stringify((error as ConfigError).details)}`;
    expect(text).toContain('data.password');
    expect(text).toContain('postgres://aios:****@127.0.0.1:5432/aios');
    expect(text).not.toContain(PASSWORD);
  });

  it('keeps the password a secret: moved to secrets.json and masked when shown', () => {
    expect(isSecretKey('data.password')).toBe(true);
    const file = join(home, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ data: { url: 'postgres://aios@127.0.0.1/aios', password: PASSWORD } }),
    );
    const { config } = load();
    expect(config.data.password).toBe(PASSWORD);
    expect(readFileSync(file, 'utf8')).not.toContain(PASSWORD);
    expect(readFileSync(join(home, SECRETS_FILE_NAME), 'utf8')).toContain(PASSWORD);
    expect(JSON.stringify(maskSecrets(config))).not.toContain(PASSWORD);
  });
});
