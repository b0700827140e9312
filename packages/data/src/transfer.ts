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

/** The primary key of each table: export pages and import upserts on PostgreSQL go by it. */
const TABLE_KEYS: Record<(typeof EXPORT_TABLES)[number], readonly string[]> = {
  meta: ['key'],
  conversations: ['id'],
  messages: ['id'],
  feedback: ['id'],
  fragments: ['id'],
  fragment_changes: ['seq'],
  personality_states: ['id'],
  events: ['id'],
  tenants: ['id'],
  api_keys: ['id'],
  audit_log: ['seq'],
  sources: ['namespace', 'path'],
  source_pieces: ['namespace', 'path', 'piece_hash'],
};

const keysOf = (table: string): readonly string[] =>
  TABLE_KEYS[table as keyof typeof TABLE_KEYS] ?? [];

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

/** One page of `table` after the row `last` (none: from the start), in key order. */
async function page(driver: SqlDriver, table: string, last: SqlRow | undefined): Promise<SqlRow[]> {
  if (driver.dialect.name === 'sqlite') {
    // SQLite pages by rowid, the order the rows were written in.
    const after = last === undefined ? Number.MIN_SAFE_INTEGER : Number(last.__rowid);
    return driver.query(
      `SELECT rowid AS __rowid, * FROM ${table} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2`,
      [after, PAGE],
    );
  }
  const keys = keysOf(table);
  const order = keys.join(', ');
  if (last === undefined) {
    return driver.query(`SELECT * FROM ${table} ORDER BY ${order} LIMIT ?1`, [PAGE]);
  }
  const marks = keys.map((_, i) => `?${i + 2}`).join(', ');
  return driver.query(
    `SELECT * FROM ${table} WHERE (${order}) > (${marks}) ORDER BY ${order} LIMIT ?1`,
    [PAGE, ...keys.map((k) => last[k] as SqlValue)],
  );
}

async function* tableRows(
  driver: SqlDriver,
  table: string,
): AsyncGenerator<Record<string, JsonCell>> {
  if (table === 'meta') {
    for (const row of await driver.query('SELECT key, value FROM meta ORDER BY key')) {
      yield { key: row.key as string, value: row.value as string };
    }
    return;
  }
  let last: SqlRow | undefined;
  for (;;) {
    const rows = await page(driver, table, last);
    for (const row of rows) {
      const out: Record<string, JsonCell> = {};
      for (const [key, value] of Object.entries(row)) {
        if (key !== '__rowid') out[key] = encode(value);
      }
      yield out;
    }
    if (rows.length < PAGE) return;
    last = rows[rows.length - 1] as SqlRow;
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
    schemaVersion: await driver.schemaVersion(),
    exportedAt: new Date().toISOString(),
  };
  const tables: Record<string, number> = {};
  async function* jsonl(): AsyncGenerator<string> {
    yield `${JSON.stringify({ ...header, tables: EXPORT_TABLES })}\n`;
    for (const table of EXPORT_TABLES) {
      let n = 0;
      let buffer = '';
      for await (const row of tableRows(driver, table)) {
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
  async function* json(): AsyncGenerator<string> {
    yield `${JSON.stringify(header).slice(0, -1)},"tables":{`;
    let firstTable = true;
    for (const table of EXPORT_TABLES) {
      yield `${firstTable ? '' : ','}\n${JSON.stringify(table)}:[`;
      firstTable = false;
      let n = 0;
      for await (const row of tableRows(driver, table)) {
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
    const info = await driver.query(driver.dialect.tableColumns(table));
    columns.set(table, new Set(info.map((c) => String(c.name))));
  }
  const sqlite = driver.dialect.name === 'sqlite';
  /** The insert of `keys` into `table`; with `replace`, a row with the same key is replaced. */
  const insert = (table: string, keys: string[]) => {
    const values = keys.map((_, i) => `?${i + 1}`).join(', ');
    if (!options.replace) return `INSERT INTO ${table} (${keys.join(', ')}) VALUES (${values})`;
    if (sqlite) return `INSERT OR REPLACE INTO ${table} (${keys.join(', ')}) VALUES (${values})`;
    const key = keysOf(table);
    const rest = keys.filter((k) => !key.includes(k));
    return `INSERT INTO ${table} (${keys.join(', ')}) VALUES (${values}) ON CONFLICT (${key.join(', ')}) DO ${
      rest.length === 0
        ? 'NOTHING'
        : `UPDATE SET ${rest.map((k) => `${k} = excluded.${k}`).join(', ')}`
    }`;
  };
  const tables: Record<string, number> = {};
  let pending: { table: string; keys: string[]; rows: SqlValue[][] } | undefined;
  const flush = async () => {
    if (!pending || pending.rows.length === 0) return;
    const { table, keys, rows } = pending;
    const sql = insert(table, keys);
    try {
      await driver.runBatch(sql, rows);
    } catch (error) {
      const e = error as { code?: string; message?: string };
      throw dataError(e.code ?? DataErrorCode.DATA_SQLITE, `import into ${table}: ${e.message}`, {
        cause: error,
      });
    }
    tables[table] = (tables[table] ?? 0) + rows.length;
    pending = undefined;
  };
  let storedDimension = (
    await driver.query("SELECT value FROM meta WHERE key = 'vector_dimension'")
  )[0]?.value as string | undefined;
  const add = async (table: unknown, row: unknown, where: string) => {
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
      await flush();
      await driver.run(
        'INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        [decodeCell(row.key, where), decodeCell(row.value, where)],
      );
      tables.meta = (tables.meta ?? 0) + 1;
      return;
    }
    const values = keys.map((k) => decodeCell(row[k], `${where}.${k}`));
    if (!pending || pending.table !== table || pending.keys.join() !== keys.join()) {
      await flush();
      pending = { table, keys, rows: [] };
    }
    pending.rows.push(values);
    if (pending.rows.length >= PAGE) await flush();
  };

  await driver.begin();
  try {
    await driver.exec(driver.dialect.deferForeignKeys);
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
        for (const [i, row] of rows.entries()) await add(table, row, `tables.${table}[${i}]`);
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
          await add(record.table, record.row, `${path}:${lineNo}`);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw fromNodeIoError(error, path);
        throw error;
      }
      if (lineNo === 0) {
        throw dataError(DataErrorCode.DATA_IMPORT_INVALID, `${path} is empty`);
      }
    }
    await flush();
    if (driver.dialect.afterImport) await driver.exec(driver.dialect.afterImport);
    await driver.commit();
  } catch (error) {
    try {
      await driver.rollback();
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
