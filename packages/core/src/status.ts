import { accessSync, constants, existsSync } from 'node:fs';
import {
  type AiosConfig,
  hideUrlPassword,
  isAiosError,
  type LoadedConfig,
  type NativeMode,
  readOnlyCauseOf,
} from '@aios/utils';
import packageJson from '../package.json' with { type: 'json' };
import { CORES, type CoreDescriptor } from './cores.js';

export interface CoreStatus {
  name: string;
  version: string;
  implementation: 'native' | 'js' | 'unavailable';
  reason: string;
  loadErrors: string[];
}

export interface SystemStatus {
  version: string;
  node: string;
  platform: string;
  home: string;
  /**
   * Why the home cannot be written (its filesystem is read-only, or this user may not
   * write it): it is then read, and every command that writes is refused. Null when it can.
   */
  readOnly: 'filesystem' | 'permissions' | null;
  configFile: string | null;
  native: NativeMode;
  cores: CoreStatus[];
  /** Where the data lives: the SQLite file, or the PostgreSQL URL without its password. */
  store: { database: 'sqlite' | 'postgres'; location: string };
  /** Where `aios serve` counts each key's requests: in Redis (shared) or per instance. */
  rateLimits: {
    scope: 'shared' | 'instance';
    /** The Redis URL without a password; null without Redis. */
    redis: string | null;
    requestsPerMinute: number;
  };
}

export function coreStatus(core: CoreDescriptor, mode: NativeMode): CoreStatus {
  try {
    const report = core.implementation(mode);
    return {
      name: core.name,
      version: core.version,
      implementation: report.implementation,
      reason: report.reason,
      loadErrors: report.loadErrors,
    };
  } catch (error) {
    if (!isAiosError(error)) throw error;
    const loadErrors = (error.details?.loadErrors as string[] | undefined) ?? [];
    return {
      name: core.name,
      version: core.version,
      implementation: 'unavailable',
      reason: error.message,
      loadErrors,
    };
  }
}

/** A URL without its password (the config refuses one in `data.url`; shown safe anyway). */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return hideUrlPassword(url);
  }
}

/**
 * Why the home (or its SQLite database) cannot be written by this process, or null: asked of
 * the filesystem (`access`), without writing anything. A home not made yet is writable.
 */
export function homeReadOnly(config: AiosConfig): 'filesystem' | 'permissions' | null {
  const paths = config.data.url ? [config.home] : [config.home, config.data.path];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    try {
      accessSync(path, constants.W_OK);
    } catch (error) {
      const cause = readOnlyCauseOf(error);
      if (cause) return cause;
    }
  }
  return null;
}

/** Versions and implementations of every core, for `aios status` and health checks. */
export function systemStatus(loaded: LoadedConfig): SystemStatus {
  const mode = loaded.config.native;
  return {
    version: packageJson.version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    home: loaded.config.home,
    readOnly: homeReadOnly(loaded.config),
    configFile: loaded.file ?? null,
    native: mode,
    cores: CORES.map((core) => coreStatus(core, mode)),
    store: loaded.config.data.url
      ? { database: 'postgres', location: withoutPassword(loaded.config.data.url) }
      : { database: 'sqlite', location: loaded.config.data.path },
    rateLimits: {
      scope: loaded.config.redis.url ? 'shared' : 'instance',
      redis: loaded.config.redis.url ? hideUrlPassword(loaded.config.redis.url) : null,
      requestsPerMinute: loaded.config.server.requestsPerMinute,
    },
  };
}
