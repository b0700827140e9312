import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadConfig } from './load.js';
import {
  isSecretKey,
  maskSecret,
  maskSecrets,
  SECRETS_FILE_NAME,
  secretPaths,
  splitSecrets,
  writeSecretsFile,
} from './secrets.js';

const KEY = 'sk-test-0123456789abcdefghijklmnop';
const posix = process.platform !== 'win32';

let cwd: string;
let home: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'aios-secrets-'));
  home = join(cwd, 'home');
  mkdirSync(home);
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const load = (env: NodeJS.ProcessEnv = {}) => loadConfig({ cwd, env: { AIOS_HOME: home, ...env } });
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const mode = (path: string) => statSync(path).mode & 0o777;

describe('secret keys', () => {
  it('are the schema keys named like credentials, the ones added later included', () => {
    const keys = secretPaths().map((p) => p.join('.'));
    expect(keys).toContain('luna.llm.apiKey');
    expect(keys).toContain('carma.embedder.apiKey');
    expect(keys).not.toContain('luna.llm.model');
    expect(isSecretKey('luna.llm.apiKey')).toBe(true);
    expect(isSecretKey(['luna', 'llm', 'baseUrl'])).toBe(false);
  });

  it('are masked wherever they are shown', () => {
    expect(maskSecret(KEY)).toBe('****mnop');
    expect(maskSecret('short')).toBe('****');
    const masked = maskSecrets({ luna: { llm: { apiKey: KEY, model: 'm' } } });
    expect(masked).toEqual({ luna: { llm: { apiKey: '****mnop', model: 'm' } } });
    expect(JSON.stringify(masked)).not.toContain(KEY);
  });

  it('split a layer into what a config file may keep and the secrets', () => {
    const layer = { luna: { llm: { apiKey: KEY, model: 'm' } }, logLevel: 'warn' };
    const { plain, secrets } = splitSecrets(layer);
    expect(plain).toEqual({ luna: { llm: { model: 'm' } }, logLevel: 'warn' });
    expect(secrets).toEqual([{ path: ['luna', 'llm', 'apiKey'], value: KEY }]);
    expect(layer.luna.llm.apiKey).toBe(KEY); // the input is left as it was
  });
});

describe('loadConfig with a secrets file', () => {
  it('merges <home>/secrets.json above the config file and below the environment', () => {
    writeFileSync(join(home, 'config.json'), JSON.stringify({ luna: { llm: { model: 'm' } } }));
    writeSecretsFile(join(home, SECRETS_FILE_NAME), { luna: { llm: { apiKey: KEY } } });
    const loaded = load();
    expect(loaded.config.luna.llm).toMatchObject({ model: 'm', apiKey: KEY });
    expect(loaded.secretsFile).toBe(join(home, SECRETS_FILE_NAME));
    expect(loaded.sources['luna.llm.apiKey']).toBe(join(home, SECRETS_FILE_NAME));
    expect(loaded.sources['luna.llm.model']).toBe(join(home, 'config.json'));
    expect(loaded.warnings).toEqual([]);
    const env = load({ AIOS_LUNA__LLM__API_KEY: 'from-env' });
    expect(env.config.luna.llm.apiKey).toBe('from-env');
    expect(env.sources['luna.llm.apiKey']).toBe('AIOS_LUNA__LLM__API_KEY');
  });

  it('keeps a key for a section that does not take it now without an error', () => {
    // The embedder's key, kept while the built-in embedder is configured.
    writeSecretsFile(join(home, SECRETS_FILE_NAME), { carma: { embedder: { apiKey: KEY } } });
    expect(load().config.carma.embedder).toEqual({ provider: 'builtin', dimension: 384 });
    const remote = load({
      AIOS_CARMA__EMBEDDER__PROVIDER: 'openai',
      AIOS_CARMA__EMBEDDER__BASE_URL: 'http://127.0.0.1:9/v1',
      AIOS_CARMA__EMBEDDER__MODEL: 'e5',
    });
    expect(remote.config.carma.embedder).toMatchObject({ provider: 'openai', apiKey: KEY });
  });

  it.runIf(posix)('writes the secrets file readable by its owner only', () => {
    const file = join(home, SECRETS_FILE_NAME);
    const umask = process.umask(0);
    try {
      writeSecretsFile(file, { luna: { llm: { apiKey: KEY } } });
    } finally {
      process.umask(umask);
    }
    expect(mode(file)).toBe(0o600);
  });

  it('moves a key found in config.json to the secrets file, and says so without the key', () => {
    const config = join(home, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ luna: { llm: { apiKey: KEY, model: 'm' } }, logLevel: 'warn' }),
    );
    const loaded = load();
    expect(loaded.config.luna.llm.apiKey).toBe(KEY);
    expect(json(config)).toEqual({ luna: { llm: { model: 'm' } }, logLevel: 'warn' });
    const secrets = join(home, SECRETS_FILE_NAME);
    expect(json(secrets)).toEqual({ luna: { llm: { apiKey: KEY } } });
    if (posix) expect(mode(secrets)).toBe(0o600);
    expect(loaded.warnings).toEqual([
      expect.objectContaining({ code: 'CONFIG_SECRETS_MOVED', keys: ['luna.llm.apiKey'] }),
    ]);
    expect(JSON.stringify(loaded.warnings)).not.toContain(KEY);
    // Once moved, nothing more to say.
    expect(load().warnings).toEqual([]);
    expect(load().config.luna.llm.apiKey).toBe(KEY);
  });

  it('moves the embedder key of aios.config.json too, into the home it names', () => {
    writeFileSync(
      join(cwd, 'aios.config.json'),
      JSON.stringify({
        home: 'elsewhere',
        carma: {
          embedder: {
            provider: 'openai',
            baseUrl: 'http://127.0.0.1:9/v1',
            model: 'e5',
            apiKey: KEY,
          },
        },
      }),
    );
    const { config } = loadConfig({ cwd, env: {} });
    expect(config.carma.embedder).toMatchObject({ apiKey: KEY });
    expect(readFileSync(join(cwd, 'aios.config.json'), 'utf8')).not.toContain(KEY);
    expect(json(join(cwd, 'elsewhere', SECRETS_FILE_NAME))).toEqual({
      carma: { embedder: { apiKey: KEY } },
    });
  });

  it('keeps a config value that differs from the secrets file and reports it', () => {
    const config = join(home, 'config.json');
    writeFileSync(config, JSON.stringify({ luna: { llm: { apiKey: 'other-key' } } }));
    writeSecretsFile(join(home, SECRETS_FILE_NAME), { luna: { llm: { apiKey: KEY } } });
    const loaded = load();
    expect(loaded.config.luna.llm.apiKey).toBe(KEY);
    expect(json(config)).toEqual({ luna: { llm: { apiKey: 'other-key' } } }); // nothing lost
    expect(loaded.warnings).toEqual([
      expect.objectContaining({ code: 'CONFIG_SECRETS_CONFLICT', keys: ['luna.llm.apiKey'] }),
    ]);
    expect(JSON.stringify(loaded.warnings)).not.toContain('other-key');
  });

  it('uses a key it cannot move to an unwritable home, and says why', () => {
    // A home below a regular file cannot be created, whoever runs the test (root too).
    writeFileSync(join(cwd, 'a-file'), '');
    const config = join(cwd, 'custom.json');
    writeFileSync(config, JSON.stringify({ luna: { llm: { apiKey: KEY } } }));
    const loaded = loadConfig({
      cwd,
      env: {},
      file: config,
      overrides: { home: join(cwd, 'a-file', 'home') },
    });
    expect(loaded.config.luna.llm.apiKey).toBe(KEY);
    expect(loaded.warnings).toEqual([
      expect.objectContaining({ code: 'CONFIG_SECRETS_NOT_MOVED', keys: ['luna.llm.apiKey'] }),
    ]);
    expect(JSON.stringify(loaded.warnings)).not.toContain(KEY);
    expect(json(config)).toEqual({ luna: { llm: { apiKey: KEY } } });
  });

  it.runIf(posix)('makes a secrets file others can read owner-only, with a warning', () => {
    const file = join(home, SECRETS_FILE_NAME);
    writeFileSync(file, JSON.stringify({ luna: { llm: { apiKey: KEY } } }));
    chmodSync(file, 0o644);
    const loaded = load();
    expect(mode(file)).toBe(0o600);
    expect(loaded.warnings).toEqual([
      expect.objectContaining({ code: 'CONFIG_SECRETS_PERMISSIONS' }),
    ]);
  });

  it('refuses settings that are no secret in the secrets file, without printing values', () => {
    writeSecretsFile(join(home, SECRETS_FILE_NAME), { logLevel: 'debug' });
    expect(() => load()).toThrow(ConfigError);
    expect(() => load()).toThrow(/logLevel .*not a secret/);
  });

  it('reads neither file nor moves anything with secrets: false', () => {
    const config = join(home, 'config.json');
    writeFileSync(config, JSON.stringify({ luna: { llm: { apiKey: KEY } } }));
    const loaded = loadConfig({ cwd, env: { AIOS_HOME: home }, secrets: false });
    expect(loaded.secretsFile).toBeUndefined();
    expect(loaded.config.luna.llm.apiKey).toBe(KEY);
    expect(json(config)).toEqual({ luna: { llm: { apiKey: KEY } } });
  });

  it('never puts a secret value in a validation error', () => {
    writeFileSync(
      join(home, 'config.json'),
      JSON.stringify({ luna: { llm: { apiKey: 1234567890123456, apikey: KEY } } }),
    );
    let message = '';
    let details = '';
    try {
      loadConfig({ cwd, env: { AIOS_HOME: home }, secrets: false });
    } catch (error) {
      message = (error as ConfigError).message;
      details = JSON.stringify((error as ConfigError).details);
    }
    expect(message).toContain('luna.llm.apiKey');
    expect(message).toContain('luna.llm.apikey');
    expect(message + details).not.toContain(KEY);
    expect(message + details).not.toContain('1234567890123456');
  });
});

describe('saved personas', () => {
  it('are validated: a default persona must be one that is saved', () => {
    const ok = loadConfig({
      cwd,
      env: { AIOS_HOME: home },
      overrides: { luna: { personas: { pirate: 'Talk like a pirate.' }, persona: 'pirate' } },
    });
    expect(ok.config.luna.personas).toEqual({ pirate: 'Talk like a pirate.' });
    expect(() =>
      loadConfig({ cwd, env: { AIOS_HOME: home }, overrides: { luna: { persona: 'ghost' } } }),
    ).toThrow(/luna\.persona = "ghost" .*no saved persona/);
    expect(() =>
      loadConfig({
        cwd,
        env: { AIOS_HOME: home },
        overrides: { luna: { personas: { 'bad name': 'x' } } },
      }),
    ).toThrow(/persona name/);
  });
});
