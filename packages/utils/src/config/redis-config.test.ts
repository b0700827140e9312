import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadConfig } from './load.js';
import { hideUrlPassword, isSecretKey, maskSecrets, SECRETS_FILE_NAME } from './secrets.js';

const PASSWORD = 'redis-pass-0123456789abcdef';

let cwd: string;
let home: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'aios-redis-config-'));
  home = join(cwd, 'home');
  mkdirSync(home);
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const load = (env: NodeJS.ProcessEnv = {}) => loadConfig({ cwd, env: { AIOS_HOME: home, ...env } });

describe('redis config', () => {
  it('is unset by default: each server instance limits alone', () => {
    const { config } = load();
    expect(config.redis).toEqual({});
  });

  it('takes the URL from AIOS_REDIS__URL and the password from AIOS_REDIS__PASSWORD', () => {
    const { config } = load({
      AIOS_REDIS__URL: 'redis://limits@127.0.0.1:6390/2',
      AIOS_REDIS__PASSWORD: PASSWORD,
    });
    expect(config.redis).toEqual({ url: 'redis://limits@127.0.0.1:6390/2', password: PASSWORD });
  });

  it('refuses a URL that is not redis:// or rediss://', () => {
    expect(() => load({ AIOS_REDIS__URL: 'http://127.0.0.1:6379' })).toThrow(/redis:\/\//);
  });

  it('refuses a password in the URL, naming redis.password, without printing the password', () => {
    let error: unknown;
    try {
      load({ AIOS_REDIS__URL: `redis://:${PASSWORD}@127.0.0.1:6379` });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = `${(error as Error).message} ${JSON.stringify((error as ConfigError).details)}`;
    expect(text).toContain('redis.password');
    expect(text).toContain('redis://:****@127.0.0.1:6379');
    expect(text).not.toContain(PASSWORD);
  });

  it('keeps the password a secret: moved to secrets.json and masked when shown', () => {
    expect(isSecretKey('redis.password')).toBe(true);
    const file = join(home, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({ redis: { url: 'redis://127.0.0.1', password: PASSWORD } }),
    );
    const { config } = load();
    expect(config.redis.password).toBe(PASSWORD);
    expect(readFileSync(file, 'utf8')).not.toContain(PASSWORD);
    expect(readFileSync(join(home, SECRETS_FILE_NAME), 'utf8')).toContain(PASSWORD);
    expect(JSON.stringify(maskSecrets(config))).not.toContain(PASSWORD);
  });

  it('hides the password of any URL shown', () => {
    expect(hideUrlPassword(`redis://u:${PASSWORD}@h:1/0`)).toBe('redis://u:****@h:1/0');
    expect(hideUrlPassword('redis://h:1')).toBe('redis://h:1');
    expect(hideUrlPassword('not a url @ all')).toBe('not a url @ all');
    expect(hideUrlPassword(7)).toBe(7);
  });
});
