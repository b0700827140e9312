import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, describeValue, ErrorCode, fromNodeIoError } from '../errors.js';
import { atomicWriteFileSync } from '../fs/index.js';
import { leafPaths } from './env.js';

/**
 * Secrets (API keys and the like) live apart from the rest of the configuration: in
 * `<home>/secrets.json`, readable by its owner only, so that `config.json` can be shown,
 * shared and backed up without them. The loader merges the file above the config file.
 */
export const SECRETS_FILE_NAME = 'secrets.json';

/** Permission bits of the secrets file: read and write for its owner only. */
export const SECRETS_FILE_MODE = 0o600;

/**
 * Names of fields that hold credentials. A config key whose last segment matches is a
 * secret, so a key added to the schema later (`...Token`, `...ApiKey`) is one too.
 */
const SECRET_NAME = /(apikey|secret|password|token)$/i;

type Plain = Record<string, unknown>;
const isPlain = (value: unknown): value is Plain =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether a field of this name would hold a credential (masked wherever it is shown). */
export function looksSecret(path: string | readonly string[]): boolean {
  const segments = typeof path === 'string' ? path.split('.') : path;
  return SECRET_NAME.test(segments[segments.length - 1] ?? '');
}

/** The schema's secret keys (each a leaf path), e.g. `luna.llm.apiKey`. */
export function secretPaths(): string[][] {
  return leafPaths().filter((path) => looksSecret(path));
}

/** Whether `path` (dotted or split) is one of the schema's secret keys. */
export function isSecretKey(path: string | readonly string[]): boolean {
  const key = typeof path === 'string' ? path : path.join('.');
  return secretPaths().some((p) => p.join('.') === key);
}

/**
 * How a secret is shown: never its value; its last four characters only when it is long
 * enough that they give nothing away (so that two keys can be told apart).
 */
export function maskSecret(value: unknown): string {
  if (typeof value !== 'string') return '****';
  return value.length >= 20 ? `****${value.slice(-4)}` : '****';
}

/** A copy of `value` (a config or a section of it at `prefix`) with every secret masked. */
export function maskSecrets<T>(value: T, prefix: readonly string[] = []): T {
  if (prefix.length > 0 && looksSecret(prefix) && value !== undefined && value !== null) {
    return maskSecret(value) as T;
  }
  if (!isPlain(value)) return value;
  const out: Plain = {};
  for (const [key, child] of Object.entries(value)) {
    Object.defineProperty(out, key, {
      value: maskSecrets(child, [...prefix, key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out as T;
}

/**
 * A URL string with its password replaced by `****` (`redis://u:****@host`); any other
 * value unchanged. For values shown in messages: a URL may carry a credential whatever
 * the field's name.
 */
export function hideUrlPassword<T>(value: T): T {
  if (typeof value !== 'string' || !value.includes('@')) return value;
  try {
    const url = new URL(value);
    if (url.password === '') return value;
    url.password = '****';
    return url.toString() as T;
  } catch {
    return value;
  }
}

/** `describeValue`, masked for a secret field. */
export function describeConfigValue(path: string | readonly string[], value: unknown): string {
  return looksSecret(path) && value !== undefined && value !== null
    ? maskSecret(value)
    : describeValue(value);
}

function valueAt(layer: Plain, path: readonly string[]): unknown {
  let current: unknown = layer;
  for (const key of path) {
    if (!isPlain(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** Sets `path` in `layer`, creating sections as needed. */
export function setPath(layer: Plain, path: readonly string[], value: unknown): void {
  let node = layer;
  for (const key of path.slice(0, -1)) {
    if (!isPlain(node[key])) {
      Object.defineProperty(node, key, {
        value: {},
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    node = node[key] as Plain;
  }
  Object.defineProperty(node, path[path.length - 1] as string, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Removes `path` from `layer` and the sections it leaves empty; true when it was there. */
export function deletePath(layer: Plain, path: readonly string[]): boolean {
  const [head, ...rest] = path;
  if (head === undefined || !Object.hasOwn(layer, head)) return false;
  if (rest.length === 0) {
    delete layer[head];
    return true;
  }
  const child = layer[head];
  if (!isPlain(child) || !deletePath(child, rest)) return false;
  if (Object.keys(child).length === 0) delete layer[head];
  return true;
}

/**
 * Splits a config layer into what may be kept in a config file and its secrets: the
 * schema's secret keys that are set, each with its value. `layer` is not changed.
 */
export function splitSecrets(layer: Plain): {
  plain: Plain;
  secrets: { path: string[]; value: unknown }[];
} {
  const plain = structuredClone(layer);
  const secrets: { path: string[]; value: unknown }[] = [];
  for (const path of secretPaths()) {
    const value = valueAt(layer, path);
    if (value === undefined) continue;
    secrets.push({ path, value });
    deletePath(plain, path);
  }
  return { plain, secrets };
}

/** `<home>/secrets.json`. */
export function secretsFileFor(home: string): string {
  return join(home, SECRETS_FILE_NAME);
}

/** The secrets file as an object (empty when there is none). */
export function readSecretsFile(path: string): Plain {
  if (!existsSync(path)) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(ErrorCode.CONFIG_PARSE, `cannot read secrets file ${path}: ${error}`, {
      cause: error,
      details: { file: path },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The parser's message may quote the file's text, which holds keys: name the file only.
    throw new ConfigError(ErrorCode.CONFIG_PARSE, `${path} is not valid JSON`, {
      details: { file: path },
    });
  }
  if (!isPlain(parsed)) {
    throw new ConfigError(ErrorCode.CONFIG_INVALID, `${path}: expected a JSON object`, {
      details: { file: path },
    });
  }
  return parsed;
}

/** Writes the secrets file atomically, readable and writable by its owner only. */
export function writeSecretsFile(path: string, secrets: Plain): void {
  atomicWriteFileSync(path, `${JSON.stringify(secrets, null, 2)}\n`, {
    createDirectory: true,
    mode: SECRETS_FILE_MODE,
  });
  // The mode given at creation is narrowed by the umask, never widened; make it exact.
  if (process.platform !== 'win32') {
    try {
      chmodSync(path, SECRETS_FILE_MODE);
    } catch (error) {
      throw fromNodeIoError(error, path);
    }
  }
}

/**
 * Permission bits of `path` that let others than its owner read or write it (0 when none,
 * or on Windows, where POSIX modes do not apply).
 */
export function looseSecretsMode(path: string): number {
  if (process.platform === 'win32') return 0;
  try {
    return statSync(path).mode & 0o077;
  } catch {
    return 0;
  }
}
