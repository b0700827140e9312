import { statSync } from 'node:fs';
import { fileInTheWay } from '@aios/data';
import { type LoadedConfig, loadConfig, type NativeMode } from '@aios/utils';
import { InvalidArgumentError } from 'commander';

export interface GlobalOptions {
  home?: string;
  config?: string;
  native?: NativeMode;
}

let warned = false;

/**
 * Loads the configuration with the global flags as the highest layer (and `extra`, the
 * settings a command's own flags give for one call, above them); warnings go to stderr.
 */
export function loadCliConfig(
  options: GlobalOptions,
  extra: Record<string, unknown> = {},
): LoadedConfig {
  const overrides: Record<string, unknown> = { ...extra };
  if (options.home) overrides.home = options.home;
  if (options.native) overrides.native = options.native;
  const loaded = loadConfig({ file: options.config, overrides });
  checkHome(loaded.config.home);
  if (!warned) {
    warned = true;
    for (const w of loaded.warnings)
      process.stderr.write(`aios: warning: ${w.message} [${w.code}]\n`);
  }
  return loaded;
}

/**
 * A home that is a file is said at once, before a command writes a file into it (an
 * `ENOTDIR` then) or reads nothing from it and reports nothing wrong.
 */
export function checkHome(home: string): string {
  if (statSync(home, { throwIfNoEntry: false })?.isDirectory() === false) throw fileInTheWay(home);
  return home;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Parsers for numeric options and arguments, for commander's `.option(flags, text, parser)`
 * and `.argument(...).argParser(parser)`. A bad value is a commander invalid-argument error,
 * which the CLI reports with the option's name as `[INVALID_INPUT]` before anything opens.
 * Only plain decimal numbers are accepted: `Number()` alone would also take `''`, `0x10`
 * and `1e3`.
 */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const text = value.trim();
    const n = Number(text);
    if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

export function numberIn(min: number, max: number, what = 'a number'): (value: string) => number {
  return (value) => {
    const text = value.trim();
    const n = Number(text);
    if (!DECIMAL.test(text) || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected ${what} from ${min} to ${max}`);
    }
    return n;
  };
}
