import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StreamedEntry } from '@aios/backup';
import { LATEST_SCHEMA_VERSION } from '@aios/data';
import { type AiosConfig, AiosError } from '@aios/utils';
import { type DumpFacts, readDump } from './dump-reader.js';
import {
  clientEnv,
  clientError,
  collectStderr,
  exited,
  findPostgresTool,
  type PostgresConnection,
  postgresConnection,
  psqlQuery,
  toolMajor,
} from './postgres-tools.js';

/**
 * Backups of a home whose store is a PostgreSQL database (`data.url`): pg_dump's plain SQL
 * of the store's schema streams into the snapshot beside the home's files, as the entry
 * `postgres/<database>/<schema>.sql` (outside the home's tree: restoring the home's files
 * never writes it); a restore streams it back through psql in one transaction.
 */

/** Where snapshots keep dumps: `postgres/<database>/<schema>.sql`. */
export const DUMP_DIR = 'postgres';

/**
 * Chunk bounds of a dump (4/16/64 KiB). A dump is rows in storage order, and an updated row
 * moves: measured on 5,000 memories (16.7 MB of SQL, 1% of rows changed), a second dump
 * added 1.3 MB with these against 4.6 MB with 64 KiB chunks and all of it with the
 * repository's 1 MiB (see the backup README).
 */
export const DUMP_CHUNKER = { minSize: 4096, avgSize: 16_384, maxSize: 65_536 };

/** What a backup or restore found on the server, before anything is written. */
export interface PostgresStore {
  conn: PostgresConnection;
  /** The schema the store lives in: `data.schema`, else the role's current schema. */
  schema: string;
  /** Whether the schema holds a store (`schema_migrations`); a new database has none yet. */
  exists: boolean;
  serverMajor: number;
}

/** The connection of the config's store; undefined for an SQLite home. */
export function postgresOf(config: AiosConfig): PostgresConnection | undefined {
  const url = config.data.url;
  return url === undefined ? undefined : postgresConnection(url, config.data.password);
}

/** The schema named in the config (`data.schema`), when the config has one. */
function configuredSchema(config: AiosConfig): string | undefined {
  return (config.data as { schema?: string }).schema;
}

/** The snapshot path of a store's dump. */
export function dumpPath(store: Pick<PostgresStore, 'conn' | 'schema'>): string {
  return `${DUMP_DIR}/${store.conn.database}/${store.schema}.sql`;
}

/**
 * Connects with psql: the server's version, the store's schema and whether it holds a store.
 * Fails with the store's codes (`DATA_AUTH_FAILED`, `DATA_UNREACHABLE`...) or
 * `POSTGRES_TOOL_MISSING` before anything is written.
 */
export async function inspectStore(
  config: AiosConfig,
  conn: PostgresConnection,
): Promise<PostgresStore> {
  const psql = findPostgresTool('psql');
  const wanted = configuredSchema(config);
  const schemaSql = wanted === undefined ? 'current_schema()' : `'${wanted}'`;
  const [line] = await psqlQuery(
    psql,
    conn,
    `SELECT current_setting('server_version_num'), ${schemaSql}, EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = ${schemaSql} AND tablename = 'schema_migrations');`,
  );
  const [version, schema, exists] = (line ?? '').split('|');
  if (!version || !schema || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new AiosError(
      'POSTGRES_QUERY_FAILED',
      `${conn.url}: ${schema ? `the current schema ${JSON.stringify(schema)} is not a plain lowercase name` : "no current schema (the role's search_path names none that exists)"}; set data.schema`,
      { details: { url: conn.url } },
    );
  }
  return {
    conn,
    schema,
    exists: exists === 't',
    serverMajor: Math.floor(Number(version) / 10_000),
  };
}

/** The program, refused (`POSTGRES_TOOL_TOO_OLD`) when its major is older than the server's. */
async function toolFor(name: 'pg_dump' | 'psql', store: PostgresStore): Promise<string> {
  const path = findPostgresTool(name);
  const major = await toolMajor(path);
  if (major < store.serverMajor) {
    throw new AiosError(
      'POSTGRES_TOOL_TOO_OLD',
      `${path} is PostgreSQL ${major}, older than the server (${store.serverMajor}): install the client programs of version ${store.serverMajor} or newer (or set AIOS_POSTGRES_BIN to their directory)`,
      { details: { tool: path, major, server: store.serverMajor } },
    );
  }
  return path;
}

/**
 * The snapshot entry of the store's dump: pg_dump of the store's schema (one consistent
 * snapshot of the database), plain SQL with DROP ... IF EXISTS before each object, without
 * owners and grants, piped into the repository as it is written. A pg_dump that fails
 * fails the backup: no snapshot is recorded.
 */
export async function dumpEntry(store: PostgresStore): Promise<StreamedEntry> {
  const pgDump = await toolFor('pg_dump', store);
  return {
    path: dumpPath(store),
    chunker: DUMP_CHUNKER,
    open: () => dumpStream(pgDump, store),
  };
}

async function* dumpStream(pgDump: string, store: PostgresStore): AsyncGenerator<Uint8Array> {
  const child = spawn(
    pgDump,
    [
      `--dbname=${store.conn.url}`,
      `--schema=${store.schema}`,
      '--format=plain',
      '--clean',
      '--if-exists',
      '--no-owner',
      '--no-privileges',
      '--encoding=UTF8',
      '--lock-wait-timeout=60000',
    ],
    { env: clientEnv(store.conn), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr = collectStderr(child);
  const done = exited(child);
  let finished = false;
  try {
    yield* child.stdout as AsyncIterable<Uint8Array>;
    finished = true;
  } finally {
    if (!finished) child.kill();
  }
  const code = await done;
  if (code !== 0) throw clientError(store.conn, 'pg_dump', stderr(), 'BACKUP_DUMP_FAILED');
}

/** What a restore loaded into the store's database, checked after its commit. */
export interface PostgresRestore {
  /** The dump's entry in the snapshot. */
  entry: string;
  url: string;
  schema: string;
  schemaVersion: number;
  /** Rows per table, as the dump has them and the database now holds them. */
  tables: Record<string, number>;
}

/** Drops the store's tables, views, sequences and functions in the schema (not those of extensions). */
function dropStoreObjects(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS "${schema}";
DO $aios$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT format('DROP %s IF EXISTS %I.%I CASCADE',
             CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
               WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
             n.nspname, c.relname) AS statement
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = '${schema}' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
  LOOP EXECUTE r.statement; END LOOP;
  FOR r IN
    SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure) AS statement
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = '${schema}'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
  LOOP EXECUTE r.statement; END LOOP;
END
$aios$;
`;
}

/** Table names as pg_dump writes them in COPY lines, and no other text, go into SQL. */
const TABLE_NAME = /^"?[a-z_][a-z0-9_$]*"?\.(?:"[^"]+"|[a-z_][a-z0-9_$]*)$/;

/**
 * The check at the end of the restore's transaction: each table holds the dump's rows, and
 * the dump's schema is one this version reads; a mismatch raises, so psql rolls it all back.
 */
function checkRows(facts: DumpFacts): string {
  if (facts.schemaVersion > LATEST_SCHEMA_VERSION) {
    return `DO $aios$ BEGIN RAISE EXCEPTION 'AIOS_SCHEMA_TOO_NEW: the dump has schema version ${facts.schemaVersion}, newer than this AIOS reads (${LATEST_SCHEMA_VERSION})'; END $aios$;\n`;
  }
  const lines = [...facts.rows]
    .filter(([table]) => TABLE_NAME.test(table))
    .map(
      ([table, rows]) =>
        `  SELECT count(*) INTO n FROM ${table}; IF n <> ${rows} THEN RAISE EXCEPTION 'AIOS_RESTORE_MISMATCH: ${table.replace(/'/g, "''")} holds % rows, the dump ${rows}', n; END IF;`,
    );
  return `DO $aios$\nDECLARE n bigint;\nBEGIN\n${lines.join('\n')}\nEND\n$aios$;\n`;
}

async function* concat(
  ...parts: Array<string | (() => string) | AsyncIterable<Uint8Array>>
): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    if (typeof part === 'string') yield Buffer.from(part);
    else if (typeof part === 'function') yield Buffer.from(part());
    else yield* part;
  }
}

/**
 * Loads a dump into the store's database in one transaction (psql `--single-transaction`,
 * stopping at the first error): the store's objects in the schema are dropped first, the
 * dump runs, and a check that every table holds the dump's rows ends the transaction. After
 * the commit, the schema version and the row counts are read back from a new connection.
 */
export async function restoreDump(
  store: PostgresStore,
  entry: string,
  dump: AsyncIterable<Uint8Array>,
): Promise<PostgresRestore> {
  const psql = await toolFor('psql', store);
  const facts: DumpFacts = { rows: new Map(), schemaVersion: 0 };
  const child = spawn(
    psql,
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-d', store.conn.url, '-f', '-'],
    { env: clientEnv(store.conn), stdio: ['pipe', 'ignore', 'pipe'] },
  );
  const stderr = collectStderr(child);
  const done = exited(child);
  const input = concat(dropStoreObjects(store.schema), readDump(dump, store.schema, facts), () =>
    checkRows(facts),
  );
  let feedError: unknown;
  await pipeline(Readable.from(input), child.stdin as NodeJS.WritableStream).catch((error) => {
    feedError = error;
    child.kill();
  });
  const code = await done;
  const said = stderr();
  if (code !== 0 || feedError !== undefined) {
    // A dump that could not be read (a damaged chunk) is that error, not psql's.
    if (feedError instanceof AiosError) throw feedError;
    const check = /(AIOS_SCHEMA_TOO_NEW|AIOS_RESTORE_MISMATCH): (.*)/.exec(said);
    if (check) {
      throw new AiosError(
        check[1] === 'AIOS_SCHEMA_TOO_NEW' ? 'DATA_SCHEMA_TOO_NEW' : 'BACKUP_DATABASE_DAMAGED',
        `${check[2]}; the restore was rolled back, ${store.conn.url} is unchanged`,
        { details: { url: store.conn.url } },
      );
    }
    const error = clientError(store.conn, 'psql', said, 'BACKUP_RESTORE_FAILED');
    error.message += `; the restore was rolled back, ${store.conn.url} is unchanged`;
    throw error;
  }
  return verifyRestore(psql, store, entry, facts);
}

/** Reads back what the committed restore left: the schema version and every table's rows. */
async function verifyRestore(
  psql: string,
  store: PostgresStore,
  entry: string,
  facts: DumpFacts,
): Promise<PostgresRestore> {
  const tables = [...facts.rows.keys()].filter((t) => TABLE_NAME.test(t));
  const counts = tables.map((t, i) => `SELECT ${i}, count(*) FROM ${t}`);
  const lines = await psqlQuery(
    psql,
    store.conn,
    `${[`SELECT -1, coalesce(max(version), 0) FROM "${store.schema}".schema_migrations`, ...counts].join(' UNION ALL ')};`,
  );
  const found = new Map(lines.map((l) => l.split('|').map(Number) as [number, number]));
  const version = found.get(-1) ?? 0;
  const wrong = tables.filter((t, i) => found.get(i) !== facts.rows.get(t));
  if (version !== facts.schemaVersion || wrong.length > 0) {
    throw new AiosError(
      'BACKUP_DATABASE_DAMAGED',
      `after the restore, ${store.conn.url} ${version !== facts.schemaVersion ? `has schema version ${version}, the dump ${facts.schemaVersion}` : `differs from the dump in ${wrong.join(', ')}`}`,
      { details: { url: store.conn.url } },
    );
  }
  return {
    entry,
    url: store.conn.url,
    schema: store.schema,
    schemaVersion: version,
    tables: Object.fromEntries(tables.map((t) => [t, facts.rows.get(t) as number])),
  };
}
