import { chmodSync, statSync } from 'node:fs';
import { ConfigError, ErrorCode } from '../errors.js';
import { atomicWriteFileSync } from '../fs/index.js';
import type { ConfigIssue, SecretsWarning } from './load.js';
import {
  deletePath,
  isSecretKey,
  looseSecretsMode,
  readSecretsFile,
  SECRETS_FILE_MODE,
  setPath,
  splitSecrets,
  writeSecretsFile,
} from './secrets.js';

type Plain = Record<string, unknown>;
const isPlain = (value: unknown): value is Plain =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export interface SecretsLayer {
  /** The secrets, merged above the config file. */
  secrets: Plain;
  /** The config file's layer: without the secrets that were moved out of it. */
  fileLayer: Plain;
  warnings: SecretsWarning[];
}

/** Every leaf path set in a layer (a value that is not a section). */
function leaves(layer: Plain, prefix: string[] = []): string[][] {
  return Object.entries(layer).flatMap(([key, value]) =>
    isPlain(value) ? leaves(value, [...prefix, key]) : [[...prefix, key]],
  );
}

function at(layer: Plain, path: readonly string[]): unknown {
  let current: unknown = layer;
  for (const key of path) {
    if (!isPlain(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Makes the secrets file owner-only if it is not; says so (or that it could not). */
function tighten(secretsFile: string, warnings: SecretsWarning[]): void {
  const loose = looseSecretsMode(secretsFile);
  if (loose === 0) return;
  const was = (loose | 0o600).toString(8);
  try {
    chmodSync(secretsFile, SECRETS_FILE_MODE);
    warnings.push({
      code: 'CONFIG_SECRETS_PERMISSIONS',
      keys: [],
      file: secretsFile,
      message: `${secretsFile} was readable by other users (mode ${was}); it is now readable by its owner only (600)`,
    });
  } catch (error) {
    warnings.push({
      code: 'CONFIG_SECRETS_PERMISSIONS',
      keys: [],
      file: secretsFile,
      message: `${secretsFile} is readable by other users (mode ${was}) and could not be made owner-only: ${reason(error)}`,
    });
  }
}

/** The file's permission bits, so that rewriting it keeps them. */
function modeOf(file: string): number {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return 0o644;
  }
}

/**
 * Reads the secrets file and moves the secrets a config file holds into it: the secrets
 * file is written first (owner-only), then the config file without them, each atomically,
 * so that a crash in between leaves the key in both places, never in neither. A config file
 * value that differs from the secrets file's is left where it is and reported. When the
 * files cannot be written (a read-only home), the secrets are used from where they are.
 */
export function secretsLayer(
  secretsFile: string,
  configFile: string | undefined,
  fileLayer: Plain,
): SecretsLayer {
  const warnings: SecretsWarning[] = [];
  const secrets = readSecretsFile(secretsFile);
  tighten(secretsFile, warnings);

  const misplaced = leaves(secrets).filter((path) => !isSecretKey(path));
  if (misplaced.length > 0) {
    const issues: ConfigIssue[] = misplaced.map((path) => ({
      path: path.join('.'),
      value: '****',
      source: secretsFile,
      message: 'not a secret: only API keys and other credentials belong in the secrets file',
    }));
    const lines = issues.map((i) => `  - ${i.path} (from ${i.source}): ${i.message}`);
    throw new ConfigError(
      ErrorCode.CONFIG_INVALID,
      `invalid AIOS configuration:\n${lines.join('\n')}`,
      { details: { issues, file: secretsFile } },
    );
  }

  const found = configFile ? splitSecrets(fileLayer).secrets : [];
  if (!configFile || found.length === 0) return { secrets, fileLayer, warnings };

  const next = structuredClone(secrets);
  const moved: string[][] = [];
  const conflicts: string[][] = [];
  for (const { path, value } of found) {
    const existing = at(secrets, path);
    if (existing === undefined) setPath(next, path, value);
    else if (existing !== value) {
      conflicts.push(path);
      continue;
    }
    moved.push(path);
  }
  if (conflicts.length > 0) {
    const keys = conflicts.map((p) => p.join('.'));
    warnings.push({
      code: 'CONFIG_SECRETS_CONFLICT',
      keys,
      file: configFile,
      message: `${configFile} holds ${keys.join(', ')} with another value than ${secretsFile}; the secrets file's is used (remove it from ${configFile})`,
    });
  }
  if (moved.length === 0) return { secrets, fileLayer, warnings };

  const keys = moved.map((p) => p.join('.'));
  const remaining = structuredClone(fileLayer);
  for (const path of moved) deletePath(remaining, path);
  try {
    if (moved.some((path) => at(secrets, path) === undefined)) {
      writeSecretsFile(secretsFile, next);
    }
  } catch (error) {
    warnings.push({
      code: 'CONFIG_SECRETS_NOT_MOVED',
      keys,
      file: configFile,
      message: `${configFile} holds ${keys.join(', ')}, which could not be moved to ${secretsFile} (${reason(error)}); used from the config file meanwhile`,
    });
    return { secrets, fileLayer, warnings };
  }
  try {
    atomicWriteFileSync(configFile, `${JSON.stringify(remaining, null, 2)}\n`, {
      mode: modeOf(configFile),
    });
  } catch (error) {
    warnings.push({
      code: 'CONFIG_SECRETS_NOT_MOVED',
      keys,
      file: configFile,
      message: `${keys.join(', ')} copied to ${secretsFile}, but ${configFile} could not be rewritten without it (${reason(error)}); remove it from there`,
    });
    return { secrets: next, fileLayer, warnings };
  }
  warnings.push({
    code: 'CONFIG_SECRETS_MOVED',
    keys,
    file: configFile,
    message: `moved ${keys.join(', ')} from ${configFile} to ${secretsFile} (readable by its owner only)`,
  });
  return { secrets: next, fileLayer: remaining, warnings };
}
