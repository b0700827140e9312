import { type LoadedConfig, loadConfig, type NativeMode } from '@aios/utils';

export interface GlobalOptions {
  home?: string;
  config?: string;
  native?: NativeMode;
}

/** Loads the configuration with the global flags as the highest layer. */
export function loadCliConfig(options: GlobalOptions): LoadedConfig {
  const overrides: Record<string, unknown> = {};
  if (options.home) overrides.home = options.home;
  if (options.native) overrides.native = options.native;
  return loadConfig({ file: options.config, overrides });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
