import type { Client } from 'pg';
import type { PostgresTarget } from './url.js';

type Pg = typeof import('pg');

export interface ConnectOptions {
  /** How long to wait for the server to answer a connection. */
  connectTimeoutMs: number;
  /**
   * How long a statement may go unanswered before the server is checked on a connection
   * of its own (see `PgConnection`). Default 15 s.
   */
  queryTimeoutMs?: number;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 15_000;

/** A plain node-postgres client to `target` (no type parsers: it reads nothing of the store's). */
export function plainClient(
  pg: Pg,
  target: PostgresTarget,
  options: ConnectOptions,
  applicationName: string,
): Client {
  return new pg.Client({
    connectionString: target.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs,
    application_name: applicationName,
    // Its statements are short (LISTEN, a try of a lock, a check): a server that leaves one
    // unanswered this long is taken for gone.
    query_timeout: options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
    // A peer that vanished without closing (a network cut) is noticed by TCP keepalive.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
}
