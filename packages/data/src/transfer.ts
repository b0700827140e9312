import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { atomicWriteFile, fromNodeIoError, invalidInput } from '@aios/utils';
import type { SqlDriver, SqlRow, SqlValue } from './driver.js';
import { DataErrorCode, dataError } from './errors.js';
import { LATEST_SCHEMA_VERSION } from './sql.js';
import type { ExportFormat, ImportOptions, TransferSummary } from './types.js';
import { isPlainObject } from './validate.js';

export const EXPORT_FORMAT = 'aios-data';
export const EXPORT_VERSION = 1;

/** Every table with user data, parents before children. */
export const EXPORT_TABLES = [
  'meta',
  'conversations',
  'messages',
  'feedback',
  'fragments',
  'fragment_changes',
  'personality_states',
  'events',
  'tenants',
  'api_keys',
  'audit_log',
  'sources',
  'source_pieces',
] as const;

const PAGE = 2000;

type JsonCell = null | number | string | { $bytes: string };

function encode(value: SqlValue): JsonCell {
  if (value instanceof Uint8Array) {
    return {
      $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    };
  }
  if (typeof value === 'bigint') return Number(value);
  return value;
}

function* tableRows(driver: SqlDriver, table: string): Generator<Record<string, JsonCell>> {
  if (table === 'meta') {
    for (const row of driver.query('SELECT key, value FROM meta ORDER BY key')) {
      yield { key: row.key as string, value: row.value as string };
    }
    return;
  }
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = driver.query(
      `SELECT rowid AS __rowid, * FROM ${table} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2`,
      [after, PAGE],
    );
    for (const row of rows) {
      const out: Record<string, JsonCell> = {};
      for (const [key, value] of Object.entries(row)) {
        if (key !== '__rowid') out[key] = encode(value);
      }
      yield out;
    }
    if (rows.length < PAGE) return;
    after = Number((rows[rows.length - 1] as SqlRow).__rowid);
  }
}

function formatFor(path: string, format: ExportFormat | undefined): ExportFormat {
  if (format === undefined) return path.endsWith('.jsonl') ? 'jsonl' : 'json';
  if (format !== 'json' && format !== 'jsonl') {
    throw invalidInput('format', format, '"json" or "jsonl"');
  }
  return format;
}

/** Writes every table to `path` (JSON document or JSON lines), atomically. */
export async function exportStore(
  driver: SqlDriver,
  path: string,
  requested?: ExportFormat,
): Promise<TransferSummary> {
  const format = formatFor(path, requested);
  const header = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    schemaVersion: driver.schemaVersion(),
    exportedAt: new Date().toISOString(),
  };
  const tables: Record<string, number> = {};
  function* jsonl(): Generator<string> {
    yield `${JSON.stringify({ ...header, tables: EXPORT_TABLES })}\n`;
    for (const table of EXPORT_TABLES) {
      let n = 0;
      let buffer = '';
      for (const row of tableRows(driver, table)) {
        buffer += `${JSON.stringify({ table, row })}\n`;
        n++;
        if (buffer.length > 1 << 20) {
          yield buffer;
          buffer = '';
        }
      }
      if (buffer) yield buffer;
      tables[table] = n;
    }
  }
  function* json(): Generator<string> {
    yield `${JSON.stringify(header).slice(0, -1)},"tables":{`;
    let firstTable = true;
    for (const table of EXPORT_TABLES) {
      yield `${firstTable ? '' : ','}\n${JSON.stringify(table)}:[`;
      firstTable = false;
      let n = 0;
      for (const row of tableRows(driver, table)) {
        yield `${n === 0 ? '' : ','}\n${JSON.stringify(row)}`;
        n++;
      }
      yield ']';
      tables[table] = n;
    }
    yield '\n}}\n';
  }
  await atomicWriteFile(path, format === 'jsonl' ? jsonl() : json());
  return { format, path, tables };
}

function decodeCell(value: unknown, where: string): SqlValue {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (isPlainObject(value) && typeof value.$bytes === 'string' && Object.keys(value).length === 1) {
    return new Uint8Array(Buffer.from(value.$bytes, 'base64'));
  }
  throw dataError(
    DataErrorCode.DATA_IMPORT_INVALID,
    `${where}: unsupported value ${JSON.stringify(value)}`,
  );
}

function checkHeader(header: unknown, path: string): void {
  if (!isPlainObject(header) || header.format !== EXPORT_FORMAT) {
    throw dataError(DataErrorCode.DATA_IMPORT_INVALID, `${path} is not an AIOS data export`);
  }
  if (header.version !== EXPORT_VERSION) {
    throw dataError(
      DataErrorCode.DATA_IMPORT_INVALID,
      `${path}: export format version ${String(header.version)} is not supported (expected ${EXPORT_VERSION})`,
    );
  }
  const schema = Number(header.schemaVersion);
  if (!Number.isInteger(schema) || schema > LATEST_SCHEMA_VERSION) {
    throw dataError(
      DataErrorCode.DATA_SCHEMA_TOO_NEW,
      `${path} was exported from schema version ${String(header.schemaVersion)}; this @aios/data supports up to ${LATEST_SCHEMA_VERSION}`,
    );
  }
}

/** Reads an export back in one transaction: every row, or none. */
export async function importStore(
  driver: SqlDriver,
  path: string,
  options: ImportOptions,
): Promise<TransferSummary> {
  const format = formatFor(path, options.format);
  const columns = new Map<string, Set<string>>();
  for (const table of EXPORT_TABLES) {
    const info = driver.query(`PRAGMA table_info(${table})`);
    columns.set(table, new Set(info.map((c) => String(c.name))));
  }
  const verb = options.replace ? 'INSERT OR REPLACE' : 'INSERT';
  const tables: Record<string, number> = {};
  let pending: { table: string; keys: string[]; rows: SqlValue[][] } | undefined;
  const flush = () => {
    if (!pending || pending.rows.length === 0) return;
    const { table, keys, rows } = pending;
    const sql = `${verb} INTO ${table} (${keys.join(', ')}) VALUES (${keys.map((_, i) => `?${i + 1}`).join(', ')})`;
    try {
      driver.runBatch(sql, rows);
    } catch (error) {
      const e = error as { code?: string; message?: string };
      throw dataError(e.code ?? DataErrorCode.DATA_SQLITE, `import into ${table}: ${e.message}`, {
        cause: error,
      });
    }
    tables[table] = (tables[table] ?? 0) + rows.length;
    pending = undefined;
  };
  let storedDimension = driver.query("SELECT value FROM meta WHERE key = 'vector_dimension'")[0]
    ?.value as string | undefined;
  const add = (table: unknown, row: unknown, where: string) => {
    if (typeof table !== 'string' || !columns.has(table)) {
      throw dataError(
        DataErrorCode.DATA_IMPORT_INVALID,
        `${where}: unknown table ${JSON.stringify(table)}`,
      );
    }
    if (!isPlainObject(row)) {
      throw dataError(DataErrorCode.DATA_IMPORT_INVALID, `${where}: a row must be an object`);
    }
    const allowed = columns.get(table) as Set<string>;
    const keys = Object.keys(row);
    for (const key of keys) {
      if (!allowed.has(key)) {
        throw dataError(
          DataErrorCode.DATA_IMPORT_INVALID,
          `${where}: unknown column ${table}.${key}`,
        );
      }
    }
    if (table === 'meta') {
      if (row.key === 'vector_dimension') {
        if (storedDimension !== undefined && storedDimension !== row.value) {
          throw dataError(
            DataErrorCode.DATA_DIMENSION_MISMATCH,
            `${path} holds ${String(row.value)}-dimensional vectors; this store holds ${storedDimension}`,
          );
        }
        storedDimension = String(row.value);
      }
      flush();
      driver.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)', [
        decodeCell(row.key, where),
        decodeCell(row.value, where),
      ]);
      tables.meta = (tables.meta ?? 0) + 1;
      return;
    }
    const values = keys.map((k) => decodeCell(row[k], `${where}.${k}`));
    if (!pending || pending.table !== table || pending.keys.join() !== keys.join()) {
      flush();
      pending = { table, keys, rows: [] };
    }
    pending.rows.push(values);
    if (pending.rows.length >= PAGE) flush();
  };

  driver.exec('BEGIN IMMEDIATE');
  try {
    driver.exec('PRAGMA defer_foreign_keys = ON');
    if (format === 'json') {
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(path, 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code) throw fromNodeIoError(error, path);
        throw dataError(
          DataErrorCode.DATA_IMPORT_INVALID,
          `${path} is not valid JSON: ${(error as Error).message}`,
        );
      }
      checkHeader(doc, path);
      const tablesIn = (doc as { tables?: unknown }).tables;
      if (!isPlainObject(tablesIn)) {
        throw dataError(DataErrorCode.DATA_IMPORT_INVALID, `${path}: "tables" must be an object`);
      }
      for (const [table, rows] of Object.entries(tablesIn)) {
        if (!Array.isArray(rows)) {
          throw dataError(
            DataErrorCode.DATA_IMPORT_INVALID,
            `${path}: tables.${table} must be an array`,
          );
        }
        for (const [i, row] of rows.entries()) add(table, row, `tables.${table}[${i}]`);
      }
    } else {
      const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
      let lineNo = 0;
      try {
        for await (const line of lines) {
          lineNo++;
          if (line.trim() === '') continue;
          let record: unknown;
          try {
            record = JSON.parse(line);
          } catch (error) {
            throw dataError(
              DataErrorCode.DATA_IMPORT_INVALID,
              `${path}:${lineNo}: not JSON: ${(error as Error).message}`,
            );
          }
          if (lineNo === 1) {
            checkHeader(record, path);
            continue;
          }
          if (!isPlainObject(record)) {
            throw dataError(
              DataErrorCode.DATA_IMPORT_INVALID,
              `${path}:${lineNo}: expected {"table", "row"}`,
            );
          }
          add(record.table, record.row, `${path}:${lineNo}`);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw fromNodeIoError(error, path);
        throw error;
      }
      if (lineNo === 0) {
        throw dataError(DataErrorCode.DATA_IMPORT_INVALID, `${path} is empty`);
      }
    }
    flush();
    driver.exec('COMMIT');
  } catch (error) {
    try {
      driver.exec('ROLLBACK');
    } catch {
      // keep the import error
    }
    const e = error as { code?: string };
    if (e.code === DataErrorCode.DATA_CONSTRAINT || e.code === 'DATA_SQLITE') {
      throw dataError(e.code, `${(error as Error).message} (nothing was imported)`, {
        cause: error,
      });
    }
    throw error;
  }
  return { format, path, tables };
}
