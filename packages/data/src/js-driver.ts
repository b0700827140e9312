import { closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AiosError, ErrorCode, fromNodeIoError, invalidInput } from '@aios/utils';
import type * as Sqlite3Wasm from 'node-sqlite3-wasm';
import type { Statement, Database as WasmDatabase } from 'node-sqlite3-wasm';
import {
  analyticsParams,
  type DriverOptions,
  type SqlDriver,
  type SqlRow,
  type SqlValue,
} from './driver.js';
import { DataErrorCode, dataError } from './errors.js';
import {
  ANALYTICS_SQL,
  APPLICATION_ID,
  CHANGE_INSERT,
  FRAGMENT_FLAG,
  FRAGMENT_UPSERT,
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  SESSION_PRAGMAS,
} from './sql.js';
import type { StoredFragment } from './types.js';
import { parseJson } from './validate.js';

// node-sqlite3-wasm is CommonJS without named ESM exports: load it with require.
const { Database } = createRequire(import.meta.url)('node-sqlite3-wasm') as typeof Sqlite3Wasm;

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Fails unless `path` is absent, empty, or starts with the SQLite header. Reads only. */
export function checkDatabaseFile(path: string): void {
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

/** Maps an SQLite error message (the wasm build reports no numeric code) to our codes. */
export function sqliteError(error: unknown, context?: string): AiosError {
  if (error instanceof AiosError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = /constraint failed/i.test(message)
    ? DataErrorCode.DATA_CONSTRAINT
    : /file is not a database/i.test(message)
      ? DataErrorCode.DATA_NOT_A_DATABASE
      : /malformed|corrupt/i.test(message)
        ? DataErrorCode.DATA_CORRUPT
        : /locked|busy/i.test(message)
          ? DataErrorCode.DATA_BUSY
          : /too big|too large/i.test(message)
            ? DataErrorCode.DATA_ROW_TOO_LARGE
            : /readonly/i.test(message)
              ? 'DATA_READ_ONLY'
              : /unable to open/i.test(message)
                ? 'DATA_CANNOT_OPEN'
                : DataErrorCode.DATA_SQLITE;
  return dataError(code, context ? `${context}: ${message}` : message, { cause: error });
}

/**
 * The js implementation: SQLite compiled to WebAssembly (node-sqlite3-wasm) on a Node fs
 * VFS, so the file is a regular SQLite database that the native implementation reads.
 * The wasm build has no shared-memory WAL index, so the database is opened in exclusive
 * locking mode (WAL kept in process memory): one process at a time. The caller holds the
 * database's exclusive lease (lock.ts), which keeps every other process out.
 */
export function openJsDriver(path: string, options: DriverOptions): SqlDriver {
  const memory = path === ':memory:';
  if (!memory) {
    checkDatabaseFile(path);
    // The VFS locks with a `<db>.lock` directory, which a killed process leaves behind.
    // Under the exclusive lease one left now is such a leftover (as is the owner file
    // earlier versions kept beside it).
    rmSync(`${path}.lock`, { recursive: true, force: true });
    rmSync(`${path}.lock-owner`, { force: true });
  }
  let db: WasmDatabase;
  try {
    db = new Database(path);
  } catch (error) {
    throw sqliteError(error, path);
  }
  const statements = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  };
  // A statement whose step failed keeps failing on reset in this SQLite build: after any
  // error, drop the cache so the next call prepares afresh.
  const dropStatements = () => {
    for (const stmt of statements.values()) {
      try {
        stmt.finalize();
      } catch {
        // finalize repeats the statement's last error, already reported to its caller
      }
    }
    statements.clear();
  };
  let closed = false;
  const ensureOpen = () => {
    if (closed) throw dataError(DataErrorCode.DATA_CLOSED, 'the store is closed');
  };
  const query = (sql: string, params?: readonly SqlValue[]): SqlRow[] => {
    ensureOpen();
    try {
      return prepare(sql).all(params as SqlValue[]) as SqlRow[];
    } catch (error) {
      dropStatements();
      throw sqliteError(error);
    }
  };
  const run = (sql: string, params?: readonly SqlValue[]) => {
    ensureOpen();
    try {
      const r = prepare(sql).run(params as SqlValue[]);
      return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
    } catch (error) {
      dropStatements();
      throw sqliteError(error);
    }
  };
  const exec = (sql: string) => {
    ensureOpen();
    try {
      db.exec(sql);
    } catch (error) {
      throw sqliteError(error);
    }
  };
  const transaction = <T>(fn: () => T): T => {
    const nested = db.inTransaction;
    exec(nested ? 'SAVEPOINT aios_batch' : 'BEGIN IMMEDIATE');
    try {
      const result = fn();
      exec(nested ? 'RELEASE aios_batch' : 'COMMIT');
      return result;
    } catch (error) {
      dropStatements();
      try {
        db.exec(nested ? 'ROLLBACK TO aios_batch; RELEASE aios_batch' : 'ROLLBACK');
      } catch {
        // the original error matters more
      }
      throw error;
    }
  };
  const rowError = (i: number, error: unknown) => {
    const e = sqliteError(error);
    return dataError(e.code, `row ${i}: ${e.message}`, { cause: error });
  };
  const checkLen = (name: string, len: number, expected: number) => {
    if (len !== expected) throw invalidInput(name, len, `${expected} entries`);
  };

  const closeAll = () => {
    dropStatements();
    if (db.isOpen) db.close();
  };

  try {
    // Read the schema before anything writes: a damaged file fails here, unmodified.
    if (!memory) db.exec('PRAGMA locking_mode = EXCLUSIVE');
    const objects = Number(
      (db.get("SELECT count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'") as SqlRow)
        .n,
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
    db.get('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${options.synchronousFull ? 'FULL' : 'NORMAL'};`);
    db.exec(`${SESSION_PRAGMAS} PRAGMA temp_store = MEMORY;`);
    migrate();
  } catch (error) {
    closeAll();
    const e = sqliteError(error);
    if (e.code === DataErrorCode.DATA_NOT_A_DATABASE || e.code === DataErrorCode.DATA_CORRUPT) {
      throw dataError(
        e.code,
        `${path} is not a readable SQLite database (left untouched): ${e.message}`,
        { cause: error },
      );
    }
    throw e;
  }

  function migrate(): void {
    const start = Number((db.get('PRAGMA user_version') as SqlRow).user_version);
    for (const m of MIGRATIONS) {
      if (m.version <= start) continue;
      db.exec('BEGIN IMMEDIATE');
      try {
        const now = Number((db.get('PRAGMA user_version') as SqlRow).user_version);
        if (now < m.version) {
          db.exec(m.sql);
          db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
            m.version,
            m.name,
            Date.now(),
          ]);
          db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${m.version};`);
        }
        db.exec('COMMIT');
      } catch (error) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // keep the migration error
        }
        const e = sqliteError(error);
        throw dataError(e.code, `migration ${m.version} (${m.name}) failed: ${e.message}`, {
          cause: error,
        });
      }
    }
  }

  return {
    implementation: 'js',
    checksVectors: false,
    query,
    run,
    exec,
    runBatch(sql, rows) {
      ensureOpen();
      return transaction(() => {
        const stmt = prepare(sql);
        let changes = 0;
        rows.forEach((row, i) => {
          try {
            changes += stmt.run(row as SqlValue[]).changes;
          } catch (error) {
            throw rowError(i, error);
          }
        });
        return changes;
      });
    },
    putFragments(b) {
      ensureOpen();
      const n = b.ids.length;
      checkLen('namespaceIndex', b.namespaceIndex.length, n);
      checkLen('texts', b.texts.length, n);
      checkLen('metadata', b.metadata.length, n);
      checkLen('attributes', b.attributes.length, n);
      checkLen('numbers', b.numbers.length, n * 4);
      checkLen('flags', b.flags.length, n);
      const c = b.changes;
      checkLen('changeKinds', c.kinds.length, c.fragmentIds.length);
      checkLen('changeData', c.data.length, c.fragmentIds.length);
      checkLen('changeAt', c.at.length, c.fragmentIds.length);
      return transaction(() => {
        const stmt = prepare(FRAGMENT_UPSERT);
        let offset = 0;
        const bytes = new Uint8Array(b.vectors.buffer, b.vectors.byteOffset, b.vectors.byteLength);
        const params: SqlValue[] = new Array(11);
        for (let i = 0; i < n; i++) {
          const flags = b.flags[i] as number;
          let blob: Uint8Array | null = null;
          if (flags & FRAGMENT_FLAG.HAS_VECTOR) {
            blob = bytes.subarray(offset * 4, (offset + b.dimension) * 4);
            offset += b.dimension;
          }
          const lastUsed = b.numbers[i * 4 + 3] as number;
          params[0] = b.ids[i] as string;
          params[1] = b.namespaces[b.namespaceIndex[i] as number] as string;
          params[2] = b.texts[i] as string;
          params[3] = b.metadata[i] as string;
          params[4] = b.attributes[i] as string;
          params[5] = blob;
          params[6] = Math.trunc(b.numbers[i * 4] as number);
          params[7] = Math.trunc(b.numbers[i * 4 + 1] as number);
          params[8] =
            flags & FRAGMENT_FLAG.SET_USE_COUNT ? Math.trunc(b.numbers[i * 4 + 2] as number) : 0;
          params[9] =
            flags & FRAGMENT_FLAG.SET_LAST_USED && !Number.isNaN(lastUsed)
              ? Math.trunc(lastUsed)
              : null;
          params[10] = flags;
          try {
            stmt.run(params);
          } catch (error) {
            throw rowError(i, error);
          }
        }
        const change = prepare(CHANGE_INSERT);
        for (let i = 0; i < c.fragmentIds.length; i++) {
          const data = c.data[i] as string;
          try {
            change.run([
              c.fragmentIds[i] as string,
              c.kinds[i] as string,
              data === '' ? null : data,
              Math.trunc(c.at[i] as number),
            ]);
          } catch (error) {
            const e = sqliteError(error);
            throw dataError(e.code, `change ${i}: ${e.message}`, { cause: error });
          }
        }
        return n;
      });
    },
    listFragments(after, limit, namespace, withVectors) {
      const columns = `id, namespace, text, metadata, attributes, ${withVectors ? 'vector' : 'NULL AS vector'},
             created_at, updated_at, use_count, last_used_at`;
      const rows =
        namespace === null
          ? query(`SELECT ${columns} FROM fragments WHERE id > ?1 ORDER BY id LIMIT ?2`, [
              after,
              limit,
            ])
          : query(
              `SELECT ${columns} FROM fragments WHERE namespace = ?3 AND id > ?1 ORDER BY id LIMIT ?2`,
              [after, limit, namespace],
            );
      return rows.map(toFragment);
    },
    getFragments(ids, withVectors) {
      ensureOpen();
      const stmt = prepare(
        `SELECT id, namespace, text, metadata, attributes, ${withVectors ? 'vector' : 'NULL AS vector'},
             created_at, updated_at, use_count, last_used_at
             FROM fragments WHERE id = ?1`,
      );
      const out: StoredFragment[] = [];
      for (const id of ids) {
        let row: SqlRow | null;
        try {
          row = stmt.get([id]) as SqlRow | null;
        } catch (error) {
          throw sqliteError(error);
        }
        if (!row) continue;
        out.push(toFragment(row));
      }
      return out;
    },
    markFragmentsUsed(ids, at) {
      ensureOpen();
      return transaction(() => {
        const stmt = prepare(
          'UPDATE fragments SET use_count = use_count + 1, last_used_at = ?2 WHERE id = ?1',
        );
        let changes = 0;
        for (const id of ids) changes += stmt.run([id, Math.trunc(at)]).changes;
        return changes;
      });
    },
    addMessages(b) {
      ensureOpen();
      const n = b.conversationIds.length;
      checkLen('roles', b.roles.length, n);
      checkLen('contents', b.contents.length, n);
      checkLen('models', b.models.length, n);
      checkLen('promptTokens', b.promptTokens.length, n);
      checkLen('completionTokens', b.completionTokens.length, n);
      checkLen('metadata', b.metadata.length, n);
      checkLen('timestamps', b.timestamps.length, n);
      return transaction(() => {
        const stmt = prepare(
          `INSERT INTO messages (conversation_id, role, content, model, prompt_tokens,
                   completion_tokens, metadata, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
        );
        const touch = prepare(
          'UPDATE conversations SET updated_at = max(updated_at, ?2) WHERE id = ?1',
        );
        const ids: number[] = new Array(n);
        let last: string | undefined;
        let lastTs = 0;
        for (let i = 0; i < n; i++) {
          const model = b.models[i] as string;
          const ts = Math.trunc(b.timestamps[i] as number);
          const cid = b.conversationIds[i] as string;
          try {
            const r = stmt.run([
              cid,
              b.roles[i] as string,
              b.contents[i] as string,
              model === '' ? null : model,
              Math.trunc(b.promptTokens[i] as number),
              Math.trunc(b.completionTokens[i] as number),
              b.metadata[i] as string,
              ts,
            ]);
            ids[i] = Number(r.lastInsertRowid);
          } catch (error) {
            throw rowError(i, error);
          }
          if (last !== undefined && last !== cid) touch.run([last, lastTs]);
          last = cid;
          lastTs = Math.max(lastTs, ts);
        }
        if (last !== undefined) touch.run([last, lastTs]);
        return ids;
      });
    },
    addEvents(b) {
      ensureOpen();
      const n = b.typeIndex.length;
      checkLen('values', b.values.length, n);
      checkLen('hasData', b.hasData.length, n);
      checkLen('timestamps', b.timestamps.length, n);
      return transaction(() => {
        const stmt = prepare(
          'INSERT INTO events (type, value, data, created_at) VALUES (?1, ?2, ?3, ?4)',
        );
        const params: SqlValue[] = [null, null, null, null];
        for (let i = 0, d = 0; i < n; i++) {
          const value = b.values[i] as number;
          params[0] = b.types[b.typeIndex[i] as number] as string;
          params[1] = Number.isNaN(value) ? null : value;
          params[2] = b.hasData[i] ? (b.data[d++] as string) : null;
          params[3] = Math.trunc(b.timestamps[i] as number);
          try {
            stmt.run(params);
          } catch (error) {
            throw rowError(i, error);
          }
        }
        return n;
      });
    },
    async analytics(name, args) {
      const sql = ANALYTICS_SQL[name];
      return query(sql, analyticsParams(sql, args));
    },
    integrityCheck() {
      return query('PRAGMA integrity_check')
        .map((r) => String(r.integrity_check))
        .join('\n');
    },
    schemaVersion() {
      return Number((query('PRAGMA user_version')[0] as SqlRow).user_version);
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        closeAll();
      } catch (error) {
        throw sqliteError(error);
      }
    },
  };
}

function toFragment(row: SqlRow): StoredFragment {
  return {
    id: row.id as string,
    namespace: row.namespace as string,
    text: row.text as string,
    metadata: parseJson(row.metadata),
    attributes: parseJson(row.attributes),
    vector: row.vector === null ? null : blobToVector(row.vector as Uint8Array),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    useCount: Number(row.use_count),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/** A Float32Array over a blob's bytes: a view when aligned, else one copy. */
export function blobToVector(blob: Uint8Array): Float32Array {
  if (blob.byteLength % 4 !== 0) {
    throw dataError(
      DataErrorCode.DATA_CORRUPT,
      `vector blob of ${blob.byteLength} bytes is not a float32 array`,
    );
  }
  if (blob.byteOffset % 4 === 0) {
    return new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
  }
  return new Float32Array(blob.slice().buffer);
}
