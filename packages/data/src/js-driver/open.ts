import { closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AiosError, ErrorCode, fromNodeIoError } from '@aios/utils';
import type * as Sqlite3Wasm from 'node-sqlite3-wasm';
import type { Database as WasmDatabase } from 'node-sqlite3-wasm';
import type { DriverOptions, SqlRow } from '../driver.js';
import { DataErrorCode, dataError } from '../errors.js';
import {
  APPLICATION_ID,
  LATEST_SCHEMA_VERSION,
  NEW_DATABASE_PRAGMAS,
  SESSION_PRAGMAS,
} from '../sql.js';
import type { ReadOnlyAccess } from '../types.js';
import { migrate } from './migrate.js';
import { readOnlyFiles } from './read-only-files.js';
import { sqliteError } from './statements.js';

/**
 * node-sqlite3-wasm, loaded with require (CommonJS without named ESM exports) when the js
 * implementation first opens a database: a process on the native one never loads it
 * (40 ms of every CLI command).
 */
let wasm: typeof Sqlite3Wasm | undefined;
function wasmDatabase(): typeof Sqlite3Wasm.Database {
  wasm ??= createRequire(import.meta.url)('node-sqlite3-wasm') as typeof Sqlite3Wasm;
  return wasm.Database;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Fails unless `path` is absent, empty, or starts with the SQLite header. Reads only. */
function checkDatabaseFile(path: string): void {
  let size: number;
  try {
    const info = statSync(path);
    if (info.isDirectory()) {
      throw new AiosError(ErrorCode.IO_NOT_A_FILE, `${path} is a directory, not a database file`, {
        details: { path },
      });
    }
    size = info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    if (error instanceof AiosError) throw error;
    throw fromNodeIoError(error, path);
  }
  if (size === 0) return;
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 16 || !header.equals(SQLITE_HEADER)) {
    throw dataError(
      DataErrorCode.DATA_NOT_A_DATABASE,
      `${path} is not an SQLite database (the file was left untouched)`,
      { details: { path } },
    );
  }
}

/**
 * Fails unless the open database is empty or an AIOS database this version can read:
 * runs before anything writes, so a damaged or foreign file is left as it was.
 */
function checkSchema(db: WasmDatabase, path: string): void {
  const objects = Number(
    (db.get("SELECT count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'") as SqlRow).n,
  );
  const userVersion = Number((db.get('PRAGMA user_version') as SqlRow).user_version);
  const applicationId = Number((db.get('PRAGMA application_id') as SqlRow).application_id);
  if (applicationId !== 0 && applicationId !== APPLICATION_ID) {
    throw dataError(
      DataErrorCode.DATA_FOREIGN_DATABASE,
      `${path} belongs to another application (application_id 0x${applicationId.toString(16)})`,
    );
  }
  if (applicationId === 0 && userVersion === 0 && objects > 0) {
    throw dataError(
      DataErrorCode.DATA_FOREIGN_DATABASE,
      `${path} is an SQLite database of another application (${objects} objects, no AIOS schema)`,
    );
  }
  if (userVersion > LATEST_SCHEMA_VERSION) {
    throw dataError(
      DataErrorCode.DATA_SCHEMA_TOO_NEW,
      `${path} has schema version ${userVersion}, newer than this @aios/data supports (${LATEST_SCHEMA_VERSION}); upgrade @aios/data`,
    );
  }
}

/** The size of a WAL file's header: a WAL no longer than this holds no frame. */
const WAL_HEADER_BYTES = 32;

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromNodeIoError(error, path);
  }
}

/**
 * How the js implementation reads the database at `path` to read only (the native one's
 * rules are `read_only_access` in crates/data/src/schema.rs): through its WAL, whose index
 * SQLite builds in its own memory, when it holds frames; else the database file alone. A
 * rollback journal beside it (a transaction cut short in rollback mode, which AIOS never
 * uses) must be rolled back first, which writes the database: `IO_READ_ONLY`.
 */
export function readOnlyAccess(path: string): ReadOnlyAccess {
  if ((sizeOf(`${path}-journal`) ?? 0) > 0) {
    throw new AiosError(
      ErrorCode.IO_READ_ONLY,
      `${path} has a rollback journal (${path}-journal) of a transaction cut short: rolling it back writes the database, so it cannot be read without writing`,
      { details: { path } },
    );
  }
  return (sizeOf(`${path}-wal`) ?? 0) > WAL_HEADER_BYTES ? 'private-index' : 'immutable';
}

/** A database open to read only, and what gives its files back once it is closed. */
export interface ReadOnlyDatabase {
  db: WasmDatabase;
  access: ReadOnlyAccess;
  release(): void;
}

/**
 * Opens the existing AIOS database at `path` to read only, writing nothing to it or beside
 * it (see read-only-files.ts): no lock directory, no WAL made, no migration (a database of
 * an earlier schema is refused with `IO_READ_ONLY`: migrating it writes it). Writes on it
 * fail with `DATA_READ_ONLY`.
 */
export function openReadOnlyDatabase(path: string): ReadOnlyDatabase {
  checkDatabaseFile(path);
  if ((sizeOf(path) ?? 0) === 0) {
    throw new AiosError(
      ErrorCode.IO_NOT_FOUND,
      `${path}: no database to read (there is no file, or it is empty)`,
      { details: { path } },
    );
  }
  const access = readOnlyAccess(path);
  const release = readOnlyFiles(path);
  const Database = wasmDatabase();
  let db: WasmDatabase;
  try {
    db = new Database(path, { readOnly: true });
  } catch (error) {
    release();
    throw sqliteError(error, path);
  }
  try {
    // Before the first read, which opens the WAL: its index then lives in this connection.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    checkSchema(db, path);
    const version = Number((db.get('PRAGMA user_version') as SqlRow).user_version);
    if (version < LATEST_SCHEMA_VERSION) {
      throw new AiosError(
        ErrorCode.IO_READ_ONLY,
        `${path} has schema version ${version}; this version of @aios/data reads version ${LATEST_SCHEMA_VERSION}, and migrating the database writes it: open it once where it can be written`,
        { details: { path, schemaVersion: version } },
      );
    }
    db.exec(`${SESSION_PRAGMAS} PRAGMA temp_store = MEMORY;`);
  } catch (error) {
    if (db.isOpen) db.close();
    release();
    throw unreadable(error, path);
  }
  return { db, access, release };
}

/** An error of reading a database's schema, said to have left a damaged file untouched. */
function unreadable(error: unknown, path: string): AiosError {
  const e = sqliteError(error);
  if (e.code === DataErrorCode.DATA_NOT_A_DATABASE || e.code === DataErrorCode.DATA_CORRUPT) {
    return dataError(
      e.code,
      `${path} is not a readable SQLite database (left untouched): ${e.message}`,
      {
        cause: error,
      },
    );
  }
  return e;
}

/**
 * Opens `path` (or `:memory:`) with the wasm SQLite, checks it is an AIOS database, sets
 * the session pragmas and migrates it to the latest schema. On failure the database is
 * closed again and the file left as it was.
 *
 * The wasm build has no shared-memory WAL index, so a file is opened in exclusive locking
 * mode (WAL kept in process memory): one process at a time. The caller holds the
 * database's exclusive lease (lock.ts), which keeps every other process out.
 */
export function openDatabase(path: string, options: DriverOptions): WasmDatabase {
  const memory = path === ':memory:';
  if (!memory) {
    checkDatabaseFile(path);
    // The VFS locks with a `<db>.lock` directory, which a killed process leaves behind.
    // Under the exclusive lease one left now is such a leftover (as is the owner file
    // earlier versions kept beside it).
    rmSync(`${path}.lock`, { recursive: true, force: true });
    rmSync(`${path}.lock-owner`, { force: true });
  }
  const Database = wasmDatabase();
  let db: WasmDatabase;
  try {
    db = new Database(path);
  } catch (error) {
    throw sqliteError(error, path);
  }
  try {
    // Read the schema before anything writes: a damaged file fails here, unmodified.
    if (!memory) db.exec('PRAGMA locking_mode = EXCLUSIVE');
    checkSchema(db, path);
    // Before the journal mode, which writes a new database's first page.
    db.exec(NEW_DATABASE_PRAGMAS);
    db.get('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${options.synchronousFull ? 'FULL' : 'NORMAL'};`);
    db.exec(`${SESSION_PRAGMAS} PRAGMA temp_store = MEMORY;`);
    migrate(db);
  } catch (error) {
    if (db.isOpen) db.close();
    throw unreadable(error, path);
  }
  return db;
}
