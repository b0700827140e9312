import type { Client, QueryResultRow } from 'pg';
import { DataErrorCode, dataError } from '../errors.js';
import { pgError } from './errors.js';
import { toPostgresParams } from './placeholders.js';
import { type ConnectOptions, DEFAULT_QUERY_TIMEOUT_MS, plainClient } from './plain-client.js';
import type { PostgresTarget } from './url.js';

type Pg = typeof import('pg');
type Param = null | number | bigint | string | Uint8Array;

/**
 * Statements with parameters are prepared once per connection under a name (node-postgres
 * keeps which it prepared), so a repeated call skips the parse: a point read is one
 * round trip. Texts built from counts (IN lists) are named only up to a bound.
 */
const names = new Map<string, string>();
const MAX_NAMED = 1000;

function statementName(sql: string): string | undefined {
  let name = names.get(sql);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `aios_${names.size + 1}`;
    names.set(sql, name);
  }
  return name;
}

/** Type ids of the values whose default parsing does not suit the store. */
const INT8 = 20;
const NUMERIC = 1700;
const BYTEA = 17;

/**
 * bytea arrives as hex text (`\x0a1b...`). It is decoded into a buffer of its own, so the
 * vector read from it is a `Float32Array` view (a pooled buffer may be misaligned for one).
 */
function parseBytea(text: string): Uint8Array {
  const bytes = Buffer.allocUnsafeSlow((text.length - 2) >>> 1);
  bytes.write(text.slice(2), 'hex');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export type { ConnectOptions };

/** `pending`'s value, or undefined when it has not settled within `ms`. */
function within<T>(pending: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve({ value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The one PostgreSQL connection of a store (node-postgres `Client`): statements in the
 * store's `?1` notation, rows with bigint and numeric as numbers, every failure an
 * `AiosError`. It knows whether a transaction is open: a connection lost outside one is
 * opened again at the next call; lost inside one, every call fails until the store rolls
 * it back (the server already has).
 */
export class PgConnection {
  private client: Client | undefined;
  private lost: unknown;
  private inTransaction = false;
  private closed = false;

  private constructor(
    private readonly pg: Pg,
    private readonly target: PostgresTarget,
    private readonly options: ConnectOptions,
  ) {}

  static async open(pg: Pg, target: PostgresTarget, options: ConnectOptions) {
    const connection = new PgConnection(pg, target, options);
    await connection.connect();
    return connection;
  }

  private async connect(): Promise<Client> {
    const { pg, target } = this;
    const client = new pg.Client({
      connectionString: target.connectionString,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      application_name: 'aios',
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
          if (format !== 'binary') {
            if (oid === INT8 || oid === NUMERIC) return (text: string) => Number(text);
            if (oid === BYTEA) return parseBytea;
          }
          return pg.types.getTypeParser(oid, format);
        }) as Pg['types']['getTypeParser'],
      },
    });
    // A connection that breaks between calls is reported here, not thrown: noted, and the
    // next call opens another (or fails, inside a transaction).
    client.on('error', (error) => {
      this.lost = error;
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw pgError(error, `cannot connect to ${target.display}`);
    }
    this.client = client;
    this.lost = undefined;
    return client;
  }

  /**
   * What `pending` (a statement on `client`) gives back. A statement can legitimately run
   * for minutes (a migration, a big batch, a wait for a lock), a frozen server never
   * answers: so no fixed cut-off. Each `queryTimeoutMs` without an answer, the server is
   * asked on a connection of its own whether the statement's backend is still there; one
   * that answers keeps its statement, one that does not answer within the timeouts (or
   * whose backend is gone) has the connection dropped (the next call opens another) and the
   * statement fails with `DATA_UNREACHABLE`.
   */
  private async answer<T>(client: Client, pending: Promise<T>): Promise<T> {
    const ms = this.options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    for (;;) {
      const result = await within(pending, ms);
      if (result) return result.value;
      if (await this.backendAlive(client)) continue;
      pending.catch(() => undefined);
      const error = dataError(
        DataErrorCode.DATA_UNREACHABLE,
        `no answer to a statement within ${ms} ms, nor to a check on another connection`,
      );
      this.lost ??= error;
      this.drop(client);
      throw error;
    }
  }

  /** Whether the server answers on a new connection and still runs `client`'s backend. */
  private async backendAlive(client: Client): Promise<boolean> {
    const probe = plainClient(this.pg, this.target, this.options, 'aios-check');
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      const pid = (client as Client & { processID: number | null }).processID;
      if (pid === null) return true;
      const { rows } = await probe.query<{ alive: boolean }>(
        'SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1) AS alive',
        [pid],
      );
      return rows[0]?.alive === true;
    } catch (error) {
      // A server that refuses the check (too many connections...) is there all the same.
      return pgError(error).code !== DataErrorCode.DATA_UNREACHABLE;
    } finally {
      this.drop(probe);
    }
  }

  /**
   * Ends a client without waiting: with a statement under way node-postgres destroys the
   * socket; a frozen server would never acknowledge a polite goodbye.
   */
  private drop(client: Client): void {
    client.end().catch(() => undefined);
    if (this.client === client) this.client = undefined;
  }

  /** The live client: reconnected when it was lost outside a transaction. */
  private async live(): Promise<Client> {
    if (this.closed) throw dataError(DataErrorCode.DATA_CLOSED, 'the store is closed');
    if (this.client && this.lost === undefined) return this.client;
    if (this.inTransaction) {
      throw dataError(
        DataErrorCode.DATA_UNREACHABLE,
        `the connection to ${this.target.display} was lost inside a transaction, which the server rolled back`,
        { cause: this.lost },
      );
    }
    if (this.client) this.drop(this.client);
    return this.connect();
  }

  private failed(error: unknown): never {
    const e = pgError(error);
    if (e.code === DataErrorCode.DATA_UNREACHABLE) {
      this.lost ??= error;
      throw dataError(e.code, `${this.target.display}: ${e.message}`, { cause: error });
    }
    throw e;
  }

  async query<R extends QueryResultRow = Record<string, Param>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: R[]; rowCount: number }> {
    const client = await this.live();
    try {
      const result = await this.answer(
        client,
        client.query<R>({
          text: toPostgresParams(sql),
          values: params as unknown[],
          ...(params && params.length > 0 ? { name: statementName(sql) } : {}),
        }),
      );
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (error) {
      return this.failed(error);
    }
  }

  /** SQL without parameters (several statements allowed); follows BEGIN/COMMIT/ROLLBACK. */
  async exec(sql: string): Promise<void> {
    const statement = sql.trim().toUpperCase();
    const ends = statement === 'COMMIT' || statement === 'ROLLBACK';
    if (this.lost !== undefined && this.inTransaction && statement === 'ROLLBACK') {
      // The server rolled it back when the connection went.
      this.inTransaction = false;
      return;
    }
    const client = await this.live();
    try {
      await this.answer(client, client.query(sql));
      if (statement === 'BEGIN') this.inTransaction = true;
      if (ends) this.inTransaction = false;
    } catch (error) {
      // A failed COMMIT ends the transaction too (the server rolled it back).
      if (ends) this.inTransaction = false;
      this.failed(error);
    }
  }

  /** Whether a transaction is open on the connection. */
  get transactionOpen(): boolean {
    return this.inTransaction;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { client } = this;
    if (client === undefined) return;
    // A frozen server never acknowledges the goodbye: waited for a connect timeout at most.
    await within(
      client.end().catch(() => undefined),
      this.options.connectTimeoutMs,
    );
    this.client = undefined;
  }
}
