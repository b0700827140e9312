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
  suggestConfigKey,
} from '@aios/utils';
import type { Command } from 'commander';
import { pc } from './colors.js';
import { type GlobalOptions, loadCliConfig, printJson } from './shared.js';

type Plain = Record<string, unknown>;

const isPlain = (value: unknown): value is Plain =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keys that would reach an object's prototype instead of the config. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function unknownKey(key: string): AiosError {
  const suggestion = suggestConfigKey(key);
  return new AiosError(
    'CONFIG_UNKNOWN_KEY',
    `no config key "${key}": unknown field${suggestion ? ` (did you mean ${suggestion}?)` : ''} (run \`aios config get\` for all keys)`,
    { details: { key, ...(suggestion ? { suggestion } : {}) } },
  );
}

/** A dotted key of the schema (a leaf such as `luna.llm.model`, or a section such as `luna`). */
function splitKey(key: string): string[] {
  const parts = key.split('.');
  if (key.trim() === '' || parts.some((p) => p === '' || !/^[A-Za-z0-9_]+$/.test(p))) {
    throw new AiosError(
      'INVALID_INPUT',
      `key: expected a dotted path like luna.llm.model, got ${JSON.stringify(key)}`,
    );
  }
  const known =
    !parts.some((p) => PROTOTYPE_KEYS.has(p)) &&
    leafPaths().some((leaf) => parts.every((p, i) => leaf[i] === p));
  if (!known) throw unknownKey(key);
  return parts;
}

/** The value at a known key; null where it has none (e.g. luna.llm.model unset). */
function valueAt(config: unknown, path: string[]): unknown {
  let current = config;
  for (const part of path) {
    if (!isPlain(current) || !Object.hasOwn(current, part)) return null;
    current = current[part];
  }
  return current;
}

/** A command-line value: JSON when it parses (numbers, booleans, arrays), else the text. */
function parseValue(text: string): unknown {
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
function targetFile(options: GlobalOptions): string {
  if (options.config) return resolve(options.config);
  if (process.env.AIOS_CONFIG) return resolve(process.env.AIOS_CONFIG);
  if (existsSync(CONFIG_FILE_NAME)) return resolve(CONFIG_FILE_NAME);
  const home = options.home ? resolve(options.home) : defaultHome();
  return join(home, HOME_CONFIG_FILE_NAME);
}

function readJsonObject(file: string): Plain {
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

function formatIssue(i: ConfigIssue): string {
  return `${i.path} = ${JSON.stringify(i.value) ?? 'undefined'} (from ${i.source}): ${i.message}`;
}

/** The `AIOS_*` variable set in this environment that overrides `path` (or a section of it). */
function envOverride(path: string[]): string | undefined {
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
 */
function writeChecked(file: string, content: Plain): void {
  atomicWriteFileSync(file, `${JSON.stringify(content, null, 2)}\n`, {
    createDirectory: true,
    check: (temp) => checkConfigFile(file, temp),
  });
}

/** Loads `temp` as the config file `file` will be; issues are reported against `file`. */
function checkConfigFile(file: string, temp: string): void {
  try {
    loadConfig({ file: temp, env: {}, cwd: dirname(file) });
  } catch (error) {
    if (isAiosError(error) && Array.isArray(error.details?.issues)) {
      const issues = (error.details.issues as ConfigIssue[]).map((i) => ({
        ...i,
        source: i.source === temp ? file : i.source,
      }));
      throw new AiosError(
        'CONFIG_INVALID',
        `refused, ${file} unchanged: ${issues.map(formatIssue).join('; ')}`,
        { details: { file, issues } },
      );
    }
    throw error;
  }
}

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('read, change and check the configuration (validated with the shared schema)');

  config
    .command('get')
    .description('the effective configuration (defaults < file < AIOS_* env < flags), or one key')
    .argument('[key]', 'a dotted key, e.g. luna.llm.model')
    .option('--json', 'print machine-readable JSON')
    .action((key: string | undefined, options: { json?: boolean }, command: Command) => {
      const loaded = loadCliConfig(command.optsWithGlobals<GlobalOptions>());
      const value = key === undefined ? loaded.config : valueAt(loaded.config, splitKey(key));
      if (options.json || isPlain(value) || Array.isArray(value)) return printJson(value ?? null);
      console.log(value == null ? '' : String(value));
    });

  config
    .command('set')
    .description(
      'set one key in <home>/config.json (or --config): the file is validated as it will be written, then replaced atomically',
    )
    .argument('<key>', 'a dotted key, e.g. carma.search.k')
    .argument('<value>', 'the value (parsed as JSON when it is JSON: 5, true, ["a"])')
    .option('--json', 'print machine-readable JSON')
    .action((key: string, text: string, options: { json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const path = splitKey(key);
      const file = targetFile(globals);
      const current = readJsonObject(file);
      const value = parseValue(text);
      const next: Plain = structuredClone(current);
      let node = next;
      for (const part of path.slice(0, -1)) {
        if (!isPlain(node[part])) node[part] = {};
        node = node[part] as Plain;
      }
      node[path[path.length - 1] as string] = value;

      writeChecked(file, next);
      const overriding = envOverride(path);
      if (overriding) {
        process.stderr.write(
          `aios: note: ${overriding} is set and overrides ${key} from ${file} while it is\n`,
        );
      }
      if (options.json) return printJson({ file, key, value });
      console.log(`${pc.bold(key)} = ${JSON.stringify(value)} ${pc.dim(`(${file})`)}`);
    });

  config
    .command('validate')
    .description('check the configuration; exit status 1 with every problem listed')
    .option('--json', 'print machine-readable JSON')
    .action((options: { json?: boolean }, command: Command) => {
      let file: string | undefined;
      let issues: ConfigIssue[] = [];
      try {
        file = loadCliConfig(command.optsWithGlobals<GlobalOptions>()).file;
      } catch (error) {
        if (!isAiosError(error)) throw error;
        const listed = error.details?.issues;
        if (Array.isArray(listed)) issues = listed as ConfigIssue[];
        else {
          // Unreadable or not JSON: one problem, the whole file.
          issues = [{ path: '(file)', value: undefined, source: 'file', message: error.message }];
        }
        file = typeof error.details?.file === 'string' ? error.details.file : undefined;
      }
      process.exitCode = issues.length > 0 ? 1 : 0;
      if (options.json)
        return printJson({ valid: issues.length === 0, file: file ?? null, issues });
      if (issues.length === 0) {
        console.log(`${pc.green('valid')} ${pc.dim(file ?? '(defaults and environment only)')}`);
        return;
      }
      process.stderr.write(
        `aios: invalid configuration${file ? ` (${file})` : ''}: ${issues.length} problem${issues.length === 1 ? '' : 's'} [CONFIG_INVALID]\n`,
      );
      for (const issue of issues) process.stderr.write(`  - ${formatIssue(issue)}\n`);
    });
}
