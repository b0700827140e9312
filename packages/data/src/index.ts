import { dirname, resolve } from 'node:path';
import {
  AiosError,
  fromNodeIoError,
  type ImplementationReport,
  invalidInput,
  isAiosError,
  type LoadConfigOptions,
  loadConfig,
  makeDirSync,
  type NativeMode,
  type ReadOnlyCause,
  readOnlyCauseOf,
} from '@aios/utils';
import packageJson from '../package.json' with { type: 'json' };
import { loadDataBinding } from './binding.js';
import { openWithDiskErrors } from './disk-errors.js';
import type { DriverOptions, SqlDriver } from './driver.js';
import { openJsDriver } from './js-driver/index.js';
import { defaultOperation, lockDatabase } from './lock.js';
import { openNativeDriver } from './native-driver.js';
import type { DropSchemaOptions } from './postgres/drop-schema.js';
import { isPostgresUrl } from './postgres/url.js';
import {
  noDatabase,
  readOnlyError,
  refuseWriters,
  refusingWrites,
  unwritableDatabase,
} from './read-only.js';
import { createStore } from './store.js';
import type { DataStore } from './types.js';

export type * from './access-types.js';
export { AUDIT_GENESIS, auditHash } from './audit.js';
export { DataErrorCode } from './errors.js';
export { type DatabaseLock, type LockDatabaseOptions, lockDatabase } from './lock.js';
export { RESERVED_META_KEYS } from './meta.js';
export type { DropSchemaOptions } from './postgres/drop-schema.js';
export { isPostgresUrl, type PostgresTarget, postgresTarget } from './postgres/url.js';
export type * from './source-types.js';
export {
  ANALYTICS_SQL,
  type AnalyticsQuery,
  APPLICATION_ID,
  DEFAULT_FRAGMENT_NAMESPACE,
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  type Migration,
} from './sql.js';
export { EXPORT_FORMAT, EXPORT_TABLES, EXPORT_VERSION } from './transfer.js';
export type * from './types.js';
export { MAX_NAMESPACE_LENGTH } from './validate.js';

export const VERSION: string = packageJson.version;

/** Rows larger than this are refused (text + metadata + vector bytes). */
export const DEFAULT_MAX_ROW_BYTES = 16 * 1024 * 1024;

export interface OpenDataStoreOptions {
  /**
   * Database file or `:memory:`, or a PostgreSQL server's `postgres://` URL. Default:
   * `data.url` of the AIOS config when set, else its `data.path` (`<home>/aios.db`).
   */
  path?: string;
  /** A PostgreSQL server: `postgres://user[:password]@host[:port]/database` (or `postgresql://`). */
  url?: string;
  /** The PostgreSQL password, when the URL has none (the config keeps it apart, as a secret). */
  password?: string;
  /**
   * The PostgreSQL schema the store lives in (created when missing, the search_path of
   * its connections): several stores in one database, such as a server's tenants. Default:
   * the role's (`public`). Not for SQLite.
   */
  schema?: string;
  /** How long to wait for a PostgreSQL server to accept the connection. Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * How long a PostgreSQL statement may go unanswered before the server is checked on a
   * connection of its own: a server that answers keeps its long statement, one that does
   * not (frozen, cut off) fails it with `DATA_UNREACHABLE`. Default 15 s.
   */
  queryTimeoutMs?: number;
  /** Overrides `AIOS_NATIVE` for this store. */
  native?: NativeMode;
  /** Fix the vector dimension up front (else the first vector written fixes it). */
  vectorDimension?: number;
  /** Default 16 MiB. */
  maxRowBytes?: number;
  /**
   * `full`: every commit is fsynced (survives power loss). `normal` (default): survives
   * process crashes; a power loss may roll back the last commits, never corrupt.
   */
  durability?: 'normal' | 'full';
  busyTimeoutMs?: number;
  /** How the config is loaded when neither `path` nor `url` is given. */
  config?: LoadConfigOptions;
  /**
   * What this store is opened for, named to a process the open keeps out (`DATA_BUSY`).
   * Default: the program and its arguments (e.g. "aios ingest notes").
   */
  operation?: string;
  /**
   * Whether an SQLite store is opened to read only (read-only.ts): writing nothing to the
   * database's folder, not even its lease, and refusing every write with `IO_READ_ONLY`
   * (`DataStore.readOnly` says why). `'auto'` (default): when the folder cannot be written
   * (a read-only filesystem, a folder this user may not write), found as the lease is
   * taken. `true`: always (the database must exist). `false`: never (a folder that cannot
   * be written fails the open with `IO_READ_ONLY` or `IO_PERMISSION_DENIED`, as it is
   * found). Not for PostgreSQL or `:memory:`.
   */
  readOnly?: boolean | 'auto';
}

function positiveInt(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw invalidInput(field, value, `an integer from 1 to ${max}`);
  }
  return value;
}

/** The error of a data folder that cannot be made because a file is where it would go. */
export function fileInTheWay(dir: string, cause?: unknown): AiosError {
  return new AiosError('IO_ERROR', `${dir}: cannot be made the data folder: a file is in its way`, {
    ...(cause === undefined ? {} : { cause }),
    details: { path: dir },
  });
}

/** The folder the database file goes in, made when missing; a file in its place is named. */
function makeFolder(dir: string): void {
  try {
    makeDirSync(dir);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === 'EEXIST' || errno === 'ENOTDIR') throw fileInTheWay(dir, error);
    throw fromNodeIoError(error, dir);
  }
}

/**
 * Opens (creating and migrating) an AIOS database with the native implementation when it
 * loads, else the js one (see `AIOS_NATIVE`).
 */
export async function openDataStore(options: OpenDataStoreOptions = {}): Promise<DataStore> {
  if (typeof options !== 'object' || options === null) {
    throw invalidInput('options', options, 'an options object');
  }
  let path = options.url ?? options.path;
  let password = options.password;
  let schema = options.schema;
  let { connectTimeoutMs, queryTimeoutMs } = options;
  if (path === undefined) {
    const { data } = loadConfig(options.config).config;
    path = data.url ?? data.path;
    if (data.url !== undefined) {
      password ??= data.password;
      schema ??= data.schema;
      connectTimeoutMs ??= data.connectTimeoutMs;
      queryTimeoutMs ??= data.queryTimeoutMs;
    }
  }
  if (typeof path !== 'string' || path === '') {
    throw invalidInput(
      options.url === undefined ? 'path' : 'url',
      path,
      'a database file path, ":memory:" or a postgres:// URL',
    );
  }
  if (password !== undefined && (typeof password !== 'string' || password === '')) {
    throw invalidInput('password', '****', 'a non-empty string');
  }
  const vectorDimension =
    options.vectorDimension === undefined
      ? undefined
      : positiveInt(options.vectorDimension, 'vectorDimension', 65_536);
  const maxRowBytes =
    options.maxRowBytes === undefined
      ? DEFAULT_MAX_ROW_BYTES
      : positiveInt(options.maxRowBytes, 'maxRowBytes', 1_000_000_000);
  if (options.durability !== undefined && !['normal', 'full'].includes(options.durability)) {
    throw invalidInput('durability', options.durability, '"normal" or "full"');
  }
  if (schema !== undefined && !isPostgresUrl(path)) {
    throw invalidInput('schema', schema, 'no schema: an SQLite store is a file of its own');
  }
  const readOnly = options.readOnly ?? 'auto';
  if (readOnly !== 'auto' && typeof readOnly !== 'boolean') {
    throw invalidInput('readOnly', readOnly, "true, false or 'auto'");
  }
  if (readOnly === true && (isPostgresUrl(path) || path === ':memory:')) {
    throw invalidInput(
      'readOnly',
      readOnly,
      'false or auto: only a database file opens to read only',
    );
  }
  if (isPostgresUrl(path)) {
    // Imported here: a user of SQLite only never loads node-postgres.
    const { openPostgres } = await import('./postgres/driver.js');
    const parts = await openPostgres(path, {
      password,
      ...(schema === undefined ? {} : { schema }),
      connectTimeoutMs:
        connectTimeoutMs === undefined
          ? 10_000
          : positiveInt(connectTimeoutMs, 'connectTimeoutMs', 600_000),
      ...(queryTimeoutMs === undefined
        ? {}
        : { queryTimeoutMs: positiveInt(queryTimeoutMs, 'queryTimeoutMs', 3_600_000) }),
      mode: options.native ?? 'auto',
    });
    return createStore(parts.driver, {
      path: parts.display,
      report: parts.report,
      maxRowBytes,
      vectorDimension,
      maintenance: parts.maintenance,
    });
  }
  /** Why the store opens to read only (decided below), or undefined: to write. */
  let readOnlyCause: ReadOnlyCause | undefined = readOnly === true ? 'asked' : undefined;
  /** Whether a write the open tries that fails for want of permission means reading only. */
  const auto = (error: unknown) => {
    const cause = readOnly === 'auto' ? readOnlyCauseOf(error) : undefined;
    if (cause === undefined) throw error;
    return cause;
  };
  if (path !== ':memory:') {
    path = resolve(path);
    if (readOnly === 'auto') readOnlyCause = unwritableDatabase(path);
    if (readOnlyCause === undefined) {
      try {
        makeFolder(dirname(path));
      } catch (error) {
        readOnlyCause = auto(error);
      }
    }
  }
  const driverOptions: DriverOptions = {
    synchronousFull: options.durability === 'full',
    busyTimeoutMs:
      options.busyTimeoutMs === undefined
        ? 5000
        : positiveInt(options.busyTimeoutMs, 'busyTimeoutMs', 600_000),
  };
  if (
    options.operation !== undefined &&
    (typeof options.operation !== 'string' || options.operation === '')
  ) {
    throw invalidInput('operation', options.operation, 'a non-empty string');
  }
  const { binding, report } = loadDataBinding(options.native);
  // Native stores share the file (SQLite's locks serialise them); a js one needs it alone.
  let lock: Awaited<ReturnType<typeof lockDatabase>> | undefined;
  if (path !== ':memory:' && readOnlyCause === undefined) {
    try {
      lock = await lockDatabase(path, {
        mode: binding ? 'shared' : 'exclusive',
        operation: options.operation ?? defaultOperation(),
        detail: `${report.implementation} implementation`,
      });
    } catch (error) {
      readOnlyCause = auto(error);
    }
  }
  if (readOnlyCause !== undefined) {
    return openReadOnly(path, readOnlyCause, {
      binding,
      report,
      driverOptions: { ...driverOptions, readOnly: true },
      maxRowBytes,
      vectorDimension,
    });
  }
  try {
    const open = (): SqlDriver =>
      binding ? openNativeDriver(binding, path, driverOptions) : openJsDriver(path, driverOptions);
    const driver = path === ':memory:' ? open() : openWithDiskErrors(open, path);
    return await createStore(driver, {
      path,
      report,
      maxRowBytes,
      vectorDimension,
      ...(lock ? { release: lock.release } : {}),
    });
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

/**
 * Opens the store of the database at `path` to read only (read-only.ts), `cause` saying
 * why: no lease, and only once no live writer holds it that a lockless read cannot follow.
 */
async function openReadOnly(
  path: string,
  cause: ReadOnlyCause,
  settings: {
    binding: ReturnType<typeof loadDataBinding>['binding'];
    report: ImplementationReport;
    driverOptions: DriverOptions;
    maxRowBytes: number;
    vectorDimension: number | undefined;
  },
): Promise<DataStore> {
  const { binding, report, driverOptions } = settings;
  await refuseWriters(path, !binding);
  let driver: SqlDriver;
  try {
    driver = binding
      ? openNativeDriver(binding, path, driverOptions)
      : openJsDriver(path, driverOptions);
  } catch (error) {
    const e = readOnlyError(error, path, cause);
    throw isAiosError(e, 'IO_NOT_FOUND') ? noDatabase(path, cause, e) : e;
  }
  const access = driver.readOnlyAccess ?? 'immutable';
  return createStore(refusingWrites(driver, path, cause), {
    path,
    report,
    maxRowBytes: settings.maxRowBytes,
    vectorDimension: settings.vectorDimension,
    readOnly: { cause, access },
  });
}

/**
 * Drops a PostgreSQL store's schema (`openDataStore({ url, schema })`) with everything in
 * it, then checkpoints when the role may: the erasure of a store that has a schema of its
 * own. Whether it existed, and whether the checkpoint ran.
 */
export async function dropPostgresSchema(
  url: string,
  options: DropSchemaOptions,
): Promise<{ dropped: boolean; checkpointed: boolean }> {
  if (typeof url !== 'string' || !isPostgresUrl(url)) {
    throw invalidInput('url', url, 'a postgres:// URL');
  }
  // Imported here: a user of SQLite only never loads node-postgres.
  const { dropPostgresSchema: drop } = await import('./postgres/drop-schema.js');
  return drop(url, options);
}

/** Which implementation @aios/data runs in this process, and why. */
export function implementation(mode?: NativeMode): ImplementationReport {
  return loadDataBinding(mode).report;
}
