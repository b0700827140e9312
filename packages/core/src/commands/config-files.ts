/** The files `aios config` reads and writes, and the keys it accepts. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  AiosError,
  atomicWriteFileSync,
  CONFIG_FILE_NAME,
  type ConfigIssue,
  defaultHome,
  envName,
  fromNodeIoError,
  HOME_CONFIG_FILE_NAME,
  isAiosError,
  leafPaths,
  loadConfig,
  recordPaths,
  secretsFileFor,
  suggestConfigKey,
} from '@aios/utils';
import { checkHome, type GlobalOptions, loadCliConfig } from './shared.js';

export type Plain = Record<string, unknown>;
export const isPlain = (value: unknown): value is Plain =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keys that would reach an object's prototype instead of the config. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function unknownKey(key: string): AiosError {
  const suggestion = suggestConfigKey(key);
  return new AiosError(
    'CONFIG_UNKNOWN_KEY',
    `no config key "${key}": unknown field${suggestion ? ` (did you mean ${suggestion}?)` : ''} (run \`aios config list\` for all keys)`,
    { details: { key, ...(suggestion ? { suggestion } : {}) } },
  );
}

/**
 * A dotted key of the schema: a leaf such as `luna.llm.model`, a section such as `luna`, or
 * an entry of a map of names such as `luna.personas.pirate`.
 */
export function splitKey(key: string): string[] {
  const parts = key.split('.');
  if (key.trim() === '' || parts.some((p) => p === '' || !/^[A-Za-z0-9_-]+$/.test(p))) {
    throw new AiosError(
      'INVALID_INPUT',
      `key: expected a dotted path like luna.llm.model, got ${JSON.stringify(key)}`,
    );
  }
  if (parts.some((p) => PROTOTYPE_KEYS.has(p))) throw unknownKey(key);
  const under = (leaf: string[]) => parts.every((p, i) => leaf[i] === p);
  const entry = recordPaths().some(
    (record) => parts.length === record.length + 1 && record.every((p, i) => parts[i] === p),
  );
  if (!entry && (parts.some((p) => p.includes('-')) || !leafPaths().some(under))) {
    throw unknownKey(key);
  }
  return parts;
}

/** The value at a path; null where it has none (e.g. luna.llm.model unset). */
export function valueAt(config: unknown, path: readonly string[]): unknown {
  let current = config;
  for (const part of path) {
    if (!isPlain(current) || !Object.hasOwn(current, part)) return null;
    current = current[part];
  }
  return current;
}

/** A command-line value: JSON when it parses (numbers, booleans, arrays), else the text. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The file `config set` writes, the one the config is read from: `--config <file>`, else
 * `$AIOS_CONFIG`, else `./aios.config.json` when it exists, else `<home>/config.json`.
 */
export function targetFile(options: GlobalOptions): string {
  if (options.config) return resolve(options.config);
  if (process.env.AIOS_CONFIG) return resolve(process.env.AIOS_CONFIG);
  if (existsSync(CONFIG_FILE_NAME)) return resolve(CONFIG_FILE_NAME);
  const home = checkHome(options.home ? resolve(options.home) : defaultHome());
  return join(home, HOME_CONFIG_FILE_NAME);
}

/**
 * The secrets file of the home the config settles on; when the config does not load (the
 * command may be fixing it), the home of `--home` or `$AIOS_HOME`.
 */
export function secretsTarget(options: GlobalOptions): string {
  try {
    const file = loadCliConfig(options).secretsFile;
    if (file) return file;
  } catch {
    // fall through to the home named by the flags and the environment
  }
  return secretsFileFor(options.home ? resolve(options.home) : defaultHome());
}

export function readJsonObject(file: string): Plain {
  if (!existsSync(file)) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw fromNodeIoError(error, file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AiosError('CONFIG_PARSE', `${file} is not valid JSON: ${reason}`);
  }
  if (!isPlain(parsed)) {
    throw new AiosError('CONFIG_INVALID', `${file}: expected a JSON object at the top level`);
  }
  return parsed;
}

export function formatIssue(i: ConfigIssue): string {
  // A problem of the whole file (not JSON, unreadable): its message names the file.
  if (i.path === '(file)') return i.message;
  return `${i.path} = ${JSON.stringify(i.value) ?? 'undefined'} (from ${i.source}): ${i.message}`;
}

/** The `AIOS_*` variable set in this environment that overrides `path` (or a section of it). */
export function envOverride(path: string[]): string | undefined {
  return leafPaths()
    .filter((leaf) => path.every((p, i) => leaf[i] === p) || leaf.every((p, i) => path[i] === p))
    .map(envName)
    .find((name) => process.env[name] !== undefined && process.env[name] !== '');
}

/**
 * Writes `content` to `file` if it is a valid config file on its own: checked as the file
 * that will be written (defaults < this file), not as the merged config, so an `AIOS_*`
 * variable that happens to override a key cannot let a bad value into the file. Written to a
 * temporary file, checked, then renamed over the old one: the file is whole at every moment.
 * `beforeReplace` runs after the check, before the rename. Problems in `tolerated` (those
 * the file has already) do not stop the write.
 */
export function writeChecked(
  file: string,
  content: Plain,
  beforeReplace?: () => void,
  tolerated: readonly ConfigIssue[] = [],
): void {
  atomicWriteFileSync(file, `${JSON.stringify(content, null, 2)}\n`, {
    createDirectory: true,
    check: (temp) => {
      checkConfigFile(file, temp, tolerated);
      // What must be in place before the file changes (the secrets it no longer holds).
      beforeReplace?.();
    },
  });
}

/** The problems of `file` as a config file on its own; none when it loads. */
export function fileIssues(file: string): ConfigIssue[] {
  try {
    loadConfig({ file, env: {}, cwd: dirname(file), secrets: false });
    return [];
  } catch (error) {
    if (isAiosError(error) && Array.isArray(error.details?.issues)) {
      return error.details.issues as ConfigIssue[];
    }
    throw error;
  }
}

const sameIssue = (a: ConfigIssue, b: ConfigIssue) => a.path === b.path && a.message === b.message;

/** Loads `temp` as the config file `file` will be; issues are reported against `file`. */
function checkConfigFile(file: string, temp: string, tolerated: readonly ConfigIssue[]): void {
  const issues = fileIssues(temp).map((i) => ({
    ...i,
    source: i.source === temp ? file : i.source,
  }));
  if (issues.every((i) => tolerated.some((t) => sameIssue(i, t)))) return;
  throw new AiosError(
    'CONFIG_INVALID',
    `refused, ${file} unchanged: ${issues.map(formatIssue).join('; ')}`,
    { details: { file, issues } },
  );
}
