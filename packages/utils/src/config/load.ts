import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type * as z from 'zod';
import { ConfigError, describeValue, ErrorCode } from '../errors.js';
import { readEnv, unknownEnvVariables } from './env.js';
import { type AiosConfig, type AiosConfigInput, configSchema } from './schema.js';
import {
  deletePath,
  hideUrlPassword,
  isSecretKey,
  looksSecret,
  secretsFileFor,
} from './secrets.js';
import { secretsLayer } from './secrets-layer.js';

export const CONFIG_FILE_NAME = 'aios.config.json';
export const HOME_CONFIG_FILE_NAME = 'config.json';

export interface LoadConfigOptions {
  /** Directory searched for `aios.config.json` (default: `process.cwd()`). */
  cwd?: string;
  /** Environment to read `AIOS_*` variables from (default: `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** An explicit config file; it must exist. Default: `$AIOS_CONFIG`, else the search. */
  file?: string;
  /** Values that win over everything else (e.g. CLI flags). */
  overrides?: Partial<AiosConfigInput> | Record<string, unknown>;
  /**
   * Read `<home>/secrets.json` (above the config file) and move any secret found in the
   * config file there (default true). False: the config file alone, nothing written.
   */
  secrets?: boolean;
}

export interface ConfigIssue {
  /** Dotted path of the field, e.g. `luna.llm.baseUrl`. */
  path: string;
  value: unknown;
  /** Where the value came from: a file, an environment variable, or `overrides`. */
  source: string;
  message: string;
}

/** Something worth telling but not an error, such as an `AIOS_*` variable that is no config key. */
export type ConfigWarning = UnknownEnvWarning | SecretsWarning;

export interface UnknownEnvWarning {
  code: 'CONFIG_UNKNOWN_ENV';
  /** The variable the warning is about. */
  variable: string;
  /** The config variable it most likely meant, if any. */
  suggestion: string | undefined;
  message: string;
}

/** What the loader did or could not do about secrets (messages never hold their values). */
export interface SecretsWarning {
  /**
   * `CONFIG_SECRETS_MOVED`: secrets found in the config file were moved to the secrets file;
   * `CONFIG_SECRETS_NOT_MOVED`: they could not be (used from the config file meanwhile);
   * `CONFIG_SECRETS_CONFLICT`: the config file holds a different value than the secrets file
   * (whose value is used; the config file is left as it is);
   * `CONFIG_SECRETS_PERMISSIONS`: the secrets file was readable by others (made owner-only,
   * or not, said which).
   */
  code:
    | 'CONFIG_SECRETS_MOVED'
    | 'CONFIG_SECRETS_NOT_MOVED'
    | 'CONFIG_SECRETS_CONFLICT'
    | 'CONFIG_SECRETS_PERMISSIONS';
  /** The config keys concerned (dotted). */
  keys: string[];
  file: string;
  message: string;
}

export interface LoadedConfig {
  config: AiosConfig;
  /** The config file that was read, if any. */
  file: string | undefined;
  /** Where secrets are kept (`<home>/secrets.json`, existing or not); undefined with `secrets: false`. */
  secretsFile: string | undefined;
  /**
   * Where each value set by a layer came from, by dotted path (sections and leaves): the
   * config file, the secrets file, an `AIOS_*` variable or `overrides`; defaults are absent.
   */
  sources: Record<string, string>;
  /** Problems that do not stop loading (a misspelled `AIOS_*` variable is ignored). */
  warnings: ConfigWarning[];
}

type Plain = Record<string, unknown>;

const isPlain = (value: unknown): value is Plain =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Merges `over` onto `base`; objects merge key by key, everything else is replaced. Keys
 * are defined as own properties, so a `"__proto__"` key in a file stays a key (reported as
 * unknown by the schema) instead of replacing the prototype of the merged object.
 */
function merge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = Object.hasOwn(out, key) ? out[key] : undefined;
    Object.defineProperty(out, key, {
      value: isPlain(current) && isPlain(value) ? merge(current, value) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function envWarnings(env: NodeJS.ProcessEnv): UnknownEnvWarning[] {
  return unknownEnvVariables(env).map(({ name, suggestion }) => ({
    code: 'CONFIG_UNKNOWN_ENV',
    variable: name,
    suggestion,
    message: `${name} is not a config variable and is ignored${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
  }));
}

/** Records `source` for every leaf path present in `layer`. */
function recordSources(layer: unknown, source: string, sources: Map<string, string>, prefix = '') {
  if (prefix) sources.set(prefix, source);
  if (!isPlain(layer)) return;
  for (const [key, value] of Object.entries(layer)) {
    recordSources(value, source, sources, prefix ? `${prefix}.${key}` : key);
  }
}

function readConfigFile(path: string): Plain {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(ErrorCode.CONFIG_PARSE, `cannot read config file ${path}: ${error}`, {
      cause: error,
      details: { file: path },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(ErrorCode.CONFIG_PARSE, `${path} is not valid JSON: ${reason}`, {
      cause: error,
      details: { file: path },
    });
  }
  if (!isPlain(parsed)) {
    throw new ConfigError(
      ErrorCode.CONFIG_INVALID,
      `${path}: expected a JSON object at the top level, got ${describeValue(parsed)}`,
      { details: { file: path } },
    );
  }
  return parsed;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (!isPlain(current) && !Array.isArray(current)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function toIssues(error: z.ZodError, input: Plain, sources: Map<string, string>): ConfigIssue[] {
  return error.issues.flatMap((issue): ConfigIssue[] => {
    const base = issue.path.map(String);
    // An unknown key is reported at its own path, so the message names the typo.
    const paths =
      issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...base, key]) : [base];
    return paths.map((segments) => {
      const path = segments.join('.') || '(root)';
      let source = 'defaults';
      for (let i = segments.length; i > 0 && source === 'defaults'; i--) {
        source = sources.get(segments.slice(0, i).join('.')) ?? 'defaults';
      }
      const message =
        issue.code === 'unrecognized_keys'
          ? 'unknown field (check the spelling; see the config reference in @aios/utils README)'
          : issue.code === 'invalid_key'
            ? `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`
            : issue.message;
      const value = valueAt(input, segments);
      return {
        path,
        value: isSecretLike(segments, value) ? '****' : hideUrlPassword(value),
        source,
        message,
      };
    });
  });
}

/** A secret's value never reaches an error message or its details. */
function isSecretLike(segments: readonly string[], value: unknown): boolean {
  return looksSecret(segments) && value !== undefined && value !== null;
}

function formatIssues(issues: ConfigIssue[]): string {
  const lines = issues.map(
    (i) => `  - ${i.path} = ${describeValue(i.value)} (from ${i.source}): ${i.message}`,
  );
  return `invalid AIOS configuration:\n${lines.join('\n')}`;
}

function findConfigFile(cwd: string, home: string, env: NodeJS.ProcessEnv, explicit?: string) {
  const named = explicit ?? env.AIOS_CONFIG;
  if (named) {
    const path = resolve(cwd, named);
    if (!existsSync(path)) {
      throw new ConfigError(ErrorCode.CONFIG_PARSE, `config file ${path} does not exist`, {
        details: { file: path },
      });
    }
    return path;
  }
  for (const candidate of [join(cwd, CONFIG_FILE_NAME), join(home, HOME_CONFIG_FILE_NAME)]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.AIOS_HOME ? resolve(env.AIOS_HOME) : join(homedir(), '.aios');
}

/**
 * Loads the configuration: defaults < config file < secrets file (`<home>/secrets.json`)
 * < `AIOS_*` environment < overrides. Secrets found in the config file are moved to the
 * secrets file (see `secretsLayer`). Throws a `ConfigError` listing every invalid field, its value, where it came from and
 * what is allowed.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const overrides = (options.overrides ?? {}) as Plain;
  const envLayer = readEnv(env);

  // The home decides where config.json lives, so settle it from the layers above the file.
  const preHome =
    (typeof overrides.home === 'string' && overrides.home) ||
    (typeof envLayer.values.home === 'string' && envLayer.values.home) ||
    undefined;
  const cwdFile = join(cwd, CONFIG_FILE_NAME);
  const cwdFileLayer =
    !options.file && !env.AIOS_CONFIG && existsSync(cwdFile) ? readConfigFile(cwdFile) : undefined;
  const fileHome = typeof cwdFileLayer?.home === 'string' ? cwdFileLayer.home : undefined;
  const home = resolve(cwd, preHome ?? fileHome ?? defaultHome({}));

  const file = findConfigFile(cwd, home, env, options.file);
  const readLayer =
    file === cwdFile && cwdFileLayer ? cwdFileLayer : file ? readConfigFile(file) : {};

  // The secrets file lives in the home the layers without it settle on.
  const warnings: ConfigWarning[] = envWarnings(env);
  let fileLayer = readLayer;
  let secrets: Plain = {};
  let secretsFile: string | undefined;
  const settled = merge(merge(merge({ home }, readLayer), envLayer.values), overrides).home;
  if (options.secrets !== false && typeof settled === 'string' && settled !== '') {
    secretsFile = secretsFileFor(resolve(cwd, settled));
    const layer = secretsLayer(secretsFile, file, readLayer);
    ({ fileLayer, secrets } = layer);
    warnings.push(...layer.warnings);
  }

  const sources = new Map<string, string>();
  recordSources(fileLayer, file ?? 'file', sources);
  if (secretsFile) recordSources(secrets, secretsFile, sources);
  for (const [path, name] of envLayer.sources) sources.set(path, name);
  recordSources(overrides, 'overrides', sources);

  const input = merge(
    merge(merge(merge({ home }, fileLayer), secrets), envLayer.values),
    overrides,
  );
  let result = configSchema.safeParse(input);
  if (!result.success && secretsFile) {
    // A key kept for a section that does not take it now (the embedder's while the
    // built-in one is configured) waits in the secrets file instead of being an error.
    const idle = toIssues(result.error, input, sources).filter(
      (i) =>
        i.source === secretsFile && i.message.startsWith('unknown field') && isSecretKey(i.path),
    );
    if (idle.length > 0) {
      for (const i of idle) deletePath(input, i.path.split('.'));
      result = configSchema.safeParse(input);
    }
  }
  if (!result.success) {
    const issues = toIssues(result.error, input, sources);
    throw new ConfigError(ErrorCode.CONFIG_INVALID, formatIssues(issues), {
      details: { issues, file },
    });
  }
  const parsed = result.data;
  const root = isAbsolute(parsed.home) ? parsed.home : resolve(cwd, parsed.home);
  const config: AiosConfig = {
    ...parsed,
    home: root,
    data: { ...parsed.data, path: resolvePath(root, parsed.data.path, 'aios.db') },
    backup: {
      ...parsed.backup,
      repository: resolvePath(root, parsed.backup.repository, 'backups'),
    },
  };
  return { config, file, secretsFile, sources: Object.fromEntries(sources), warnings };
}

function resolvePath(home: string, value: string | undefined, fallback: string): string {
  if (value === ':memory:') return value;
  return value ? resolve(home, value) : join(home, fallback);
}
