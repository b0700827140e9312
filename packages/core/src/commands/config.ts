import { basename } from 'node:path';
import {
  AiosError,
  type ConfigIssue,
  deletePath,
  isAiosError,
  isSecretKey,
  leafPaths,
  maskSecret,
  maskSecrets,
  readSecretsFile,
  recordPaths,
  setPath,
  splitSecrets,
  writeSecretsFile,
} from '@aios/utils';
import type { Command } from 'commander';
import { pc } from './colors.js';
import {
  envOverride,
  fileIssues,
  formatIssue,
  isPlain,
  type Plain,
  parseValue,
  readJsonObject,
  secretsTarget,
  splitKey,
  targetFile,
  valueAt,
  writeChecked,
} from './config-files.js';
import { readSecretInput } from './secret-input.js';
import { type GlobalOptions, loadCliConfig, printJson } from './shared.js';

function noteOverride(path: string[], key: string, where: string): void {
  const overriding = envOverride(path);
  if (overriding) {
    process.stderr.write(
      `aios: note: ${overriding} is set and overrides ${key} from ${where} while it is\n`,
    );
  }
}

/** A secret given on the command line: the text as typed (an API key is never JSON). */
function checkSecret(key: string, value: unknown): string {
  const control = typeof value === 'string' && [...value].some((c) => c < ' ' || c === '\u007f');
  if (typeof value !== 'string' || value.trim() === '' || /\s/.test(value) || control) {
    throw new AiosError(
      'INVALID_INPUT',
      `${key}: expected a key without spaces or line breaks (the value is not shown)`,
    );
  }
  return value;
}

/**
 * Sets `path` to `value`: the secrets it holds (the key itself, or those of a section) go
 * to the secrets file, owner-only; the rest to the config file, validated as it will be
 * written. A secret the config file still holds is taken out of it.
 */
function setValue(globals: GlobalOptions, path: string[], value: unknown) {
  const file = targetFile(globals);
  const current = readJsonObject(file);
  const next: Plain = structuredClone(current);
  setPath(next, path, value);
  const { plain, secrets } = splitSecrets(next);
  if (secrets.length === 0) {
    writeChecked(file, plain);
    return { file, secretsFile: undefined };
  }
  const secretsFile = secretsTarget(globals);
  const stored = readSecretsFile(secretsFile);
  for (const s of secrets) setPath(stored, s.path, checkSecret(s.path.join('.'), s.value));
  // The secrets are written first: a config file that held one loses it only after.
  if (JSON.stringify(plain) === JSON.stringify(current)) writeSecretsFile(secretsFile, stored);
  else writeChecked(file, plain, () => writeSecretsFile(secretsFile, stored));
  return { file, secretsFile };
}

/** Removes `path` from the config file, or a secret from the secrets file (and the config file). */
function unsetValue(globals: GlobalOptions, path: string[]) {
  const file = targetFile(globals);
  const content: Plain = structuredClone(readJsonObject(file));
  const fromFile = deletePath(content, path);
  // A file that is broken already can be mended one key at a time.
  if (fromFile) writeChecked(file, content, undefined, fileIssues(file));
  let fromSecrets = false;
  let secretsFile: string | undefined;
  const secretInside = leafPaths().some(
    (leaf) => isSecretKey(leaf) && path.every((p, i) => leaf[i] === p),
  );
  if (secretInside) {
    secretsFile = secretsTarget(globals);
    const stored = readSecretsFile(secretsFile);
    fromSecrets = deletePath(stored, path);
    if (fromSecrets) writeSecretsFile(secretsFile, stored);
  }
  return { file, secretsFile, fromFile, fromSecrets };
}

/**
 * The key `config unset` removes: one of the schema, or one the config file holds that the
 * schema does not know (misspelt, or of an older version), which stops the config loading.
 */
function keyToUnset(globals: GlobalOptions, key: string): string[] {
  try {
    return splitKey(key);
  } catch (error) {
    if (!isAiosError(error, 'CONFIG_UNKNOWN_KEY')) throw error;
    const parts = key.split('.');
    if (valueAt(readJsonObject(targetFile(globals)), parts) === null) throw error;
    return parts;
  }
}

/** Every key that has a value, with where it comes from; entries of maps one by one. */
function listEntries(config: unknown, sources: Record<string, string>) {
  const records = new Set(recordPaths().map((p) => p.join('.')));
  const out: { key: string; value: unknown; source: string }[] = [];
  for (const leaf of leafPaths()) {
    const key = leaf.join('.');
    const value = valueAt(config, leaf);
    if (value === null || value === undefined) continue;
    if (records.has(key) && isPlain(value)) {
      for (const [name, v] of Object.entries(value)) {
        const entry = `${key}.${name}`;
        out.push({ key: entry, value: v, source: sources[entry] ?? sources[key] ?? 'default' });
      }
      continue;
    }
    const source = sources[key] ?? 'default';
    out.push({ key, value: isSecretKey(leaf) ? maskSecret(value) : value, source });
  }
  return out;
}

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description(
      'read, change and check the configuration (validated with the shared schema; API keys are kept in <home>/secrets.json and never shown)',
    );

  config
    .command('get')
    .description(
      'the effective configuration (defaults < file < secrets < AIOS_* env < flags), or one key; secrets are masked',
    )
    .argument('[key]', 'a dotted key, e.g. luna.llm.model')
    .option('--json', 'print machine-readable JSON')
    .action((key: string | undefined, options: { json?: boolean }, command: Command) => {
      const loaded = loadCliConfig(command.optsWithGlobals<GlobalOptions>());
      const path = key === undefined ? [] : splitKey(key);
      const value = maskSecrets(valueAt(loaded.config, path), path);
      if (options.json || isPlain(value) || Array.isArray(value)) return printJson(value ?? null);
      console.log(value == null ? '' : String(value));
    });

  config
    .command('list')
    .description('every key that has a value, one per line, with where it comes from')
    .option('--json', 'print machine-readable JSON')
    .action((options: { json?: boolean }, command: Command) => {
      const loaded = loadCliConfig(command.optsWithGlobals<GlobalOptions>());
      const entries = listEntries(loaded.config, loaded.sources);
      if (options.json) return printJson(entries);
      const width = Math.max(0, ...entries.map((e) => e.key.length));
      for (const e of entries) {
        // One key a line: a text that spans lines (a persona) is shown quoted, as JSON.
        const plain = typeof e.value === 'string' && ![...e.value].some((c) => c < ' ');
        const shown = plain ? (e.value as string) : JSON.stringify(e.value);
        console.log(`${e.key.padEnd(width)}  ${shown}  ${pc.dim(`(${e.source})`)}`);
      }
    });

  config
    .command('set')
    .description(
      'set one key in <home>/config.json (or --config), validated as it will be written and replaced atomically; API keys go to <home>/secrets.json (owner-only) and are not echoed',
    )
    .argument('<key>', 'a dotted key, e.g. carma.search.k or luna.personas.<name>')
    .argument(
      '[value]',
      'the value (parsed as JSON when it is JSON: 5, true, ["a"]); for an API key, leave it out to type it unseen or pipe it in',
    )
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        key: string,
        text: string | undefined,
        options: { json?: boolean },
        command: Command,
      ) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        const path = splitKey(key);
        const secret = isSecretKey(path);
        if (text === undefined && !secret) {
          command.error(`error: missing required argument 'value'`);
        }
        const value =
          text === undefined ? await readSecretInput(key) : secret ? text : parseValue(text);
        const written = setValue(globals, path, value);
        noteOverride(path, key, written.secretsFile ?? written.file);
        const shown = maskSecrets(value, path);
        const where = secret && written.secretsFile ? written.secretsFile : written.file;
        if (options.json) return printJson({ file: where, key, value: shown });
        const note =
          written.secretsFile === undefined
            ? ''
            : secret
              ? ', readable by you only'
              : `; its secrets in ${written.secretsFile}, readable by you only`;
        console.log(`${pc.bold(key)} = ${JSON.stringify(shown)} ${pc.dim(`(${where}${note})`)}`);
        if (path[0] === 'carma' && path[1] === 'embedder') {
          // Vectors of two models do not compare: a memory that has some will not open.
          console.log(
            pc.dim(
              '(a memory embedded before opens only with the embedder it was made with: `aios memory reembed` embeds it again with this one)',
            ),
          );
        }
        if (secret && text !== undefined && process.stdin.isTTY) {
          console.log(
            pc.dim(
              `(tip: \`aios config set ${key}\` without a value asks for it unseen, which keeps it out of your shell history)`,
            ),
          );
        }
      },
    );

  config
    .command('unset')
    .description(
      'remove one key from the config file (an API key from the secrets file): back to its default',
    )
    .argument('<key>', 'a dotted key, e.g. luna.llm.model')
    .option('--json', 'print machine-readable JSON')
    .action((key: string, options: { json?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const path = keyToUnset(globals, key);
      const result = unsetValue(globals, path);
      const removed = result.fromFile || result.fromSecrets;
      const files = [
        ...(result.fromFile ? [result.file] : []),
        ...(result.fromSecrets && result.secretsFile ? [result.secretsFile] : []),
      ];
      if (options.json) return printJson({ key, removed, files });
      if (removed) {
        console.log(`${pc.bold(key)} unset ${pc.dim(`(${files.join(', ')})`)}`);
        noteOverride(path, key, 'the defaults');
      } else {
        const where = [result.file, ...(result.secretsFile ? [result.secretsFile] : [])]
          .map((f) => basename(f))
          .join(' or ');
        console.log(`${pc.bold(key)} was not set ${pc.dim(`(in ${where})`)}`);
        noteOverride(path, key, 'the defaults');
      }
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
