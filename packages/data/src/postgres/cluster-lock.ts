/**
 * Work that several servers on one PostgreSQL database would each run on their timers
 * (a retention sweep...) runs once: whoever takes the session advisory lock of its name
 * runs it, the others skip. The lock is taken on a connection opened for it and held
 * until `fn` settles; closing that connection releases it, also when the process dies.
 *
 * Advisory locks rather than a job queue (pg-boss): the jobs are idempotent sweeps that
 * each server's timer starts anyway; a queue would add tables, polling and a worker for
 * the same "run once now" (see the README).
 */
import type { ClusterLockResult } from '../types.js';
import type { ConnectOptions } from './connection.js';
import { pgError } from './errors.js';
import { plainClient } from './plain-client.js';
import type { PostgresTarget } from './url.js';

type Pg = typeof import('pg');

/**
 * The first key of cluster locks ("AIOJ"), apart from the store's own write locks
 * ("AIOS", see sql.ts); the second is a hash of the schema and the name, so that the
 * stores of one database (one per schema) do not skip each other's work.
 */
export const CLUSTER_LOCK_KEY = 0x41494f4a;
/** `application_name` of the connections that hold a cluster lock. */
export const CLUSTER_LOCK_APPLICATION = 'aios-lock';

export async function withClusterLock<T>(
  pg: Pg,
  target: PostgresTarget,
  options: ConnectOptions,
  name: string,
  fn: () => Promise<T>,
): Promise<ClusterLockResult<T>> {
  const client = plainClient(pg, target, options, CLUSTER_LOCK_APPLICATION);
  // A connection lost while `fn` runs releases the lock; `fn` finishes all the same (the
  // work is idempotent), and the error is not thrown at anyone.
  client.on('error', () => undefined);
  try {
    try {
      await client.connect();
    } catch (error) {
      throw pgError(error, `cannot connect to ${target.display}`);
    }
    let held: boolean;
    try {
      const { rows } = await client.query<{ held: boolean }>(
        "SELECT pg_try_advisory_lock($1, hashtext(current_schema() || ':' || $2)) AS held",
        [CLUSTER_LOCK_KEY, name],
      );
      held = rows[0]?.held === true;
    } catch (error) {
      throw pgError(error, target.display);
    }
    if (!held) return { status: 'skipped' };
    return { status: 'ran', value: await fn() };
  } finally {
    await client.end().catch(() => undefined);
  }
}
