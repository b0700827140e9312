/**
 * Change notices of a PostgreSQL store: a trigger on the history sends one at the commit
 * of every transaction that wrote history (sql/change_notices.sql), and each store that
 * is watched listens for them on one dedicated connection of its own (never the store's
 * statement connection, which runs one call at a time and may sit in a transaction).
 *
 * A notice is a hint, not a log: one sent while the listener was down is lost. So after
 * every connect the watchers hear `onResync` and compare with the latest seq themselves,
 * and the listener connects again with backoff for as long as anyone watches.
 */
import type { Client, Notification } from 'pg';
import { DataErrorCode, dataError } from '../errors.js';
import type { ChangeHandlers, ChangeWatch } from '../types.js';
import { atomic } from './bulk.js';
import type { ConnectOptions, PgConnection } from './connection.js';
import { underMigrationLock } from './migrate.js';
import { plainClient } from './plain-client.js';
import changeNoticesSql from './sql/change_notices.sql';
import type { PostgresTarget } from './url.js';

type Pg = typeof import('pg');

/** The channel of every store of a database; the payload names the schema. */
export const CHANGES_CHANNEL = 'aios_changes';
/** `application_name` of the listening connections (what pg_stat_activity shows). */
export const LISTENER_APPLICATION = 'aios-changes';

/** Backoff between connection attempts: doubles from `minMs` up to `maxMs`, with jitter. */
export interface RetryOptions {
  minMs: number;
  maxMs: number;
}

const DEFAULT_RETRY: RetryOptions = { minMs: 100, maxMs: 5000 };

/** Whether the store's schema has the trigger that sends the notices. */
async function hasTrigger(conn: PgConnection): Promise<boolean> {
  const { rows } = await conn.query<{ n: number }>(
    `SELECT count(*) AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE t.tgname = 'fragment_changes_notify' AND c.relname = 'fragment_changes'
        AND c.relnamespace = current_schema()::regnamespace`,
  );
  return Number(rows[0]?.n) > 0;
}

/**
 * Installs the trigger that sends the notices, when the store's schema lacks it (a store
 * made before it existed included). Under the migration lock: openers that start together
 * find it made once. It is not part of the schema version, which SQLite shares.
 */
export async function ensureChangeNotices(conn: PgConnection): Promise<void> {
  if (await hasTrigger(conn)) return;
  await underMigrationLock(conn, async () => {
    if (!(await hasTrigger(conn))) await atomic(conn, () => conn.exec(changeNoticesSql));
  });
}

/** `<schema> <seq>` of a notice, or undefined for one that is not the store's. */
export function parseNotice(
  payload: string | undefined,
): { schema: string; seq: number } | undefined {
  if (!payload) return undefined;
  const space = payload.lastIndexOf(' ');
  const seq = Number(payload.slice(space + 1));
  if (space <= 0 || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { schema: payload.slice(0, space), seq };
}

interface Watcher {
  readonly handlers: ChangeHandlers;
}

/** Calls a watcher's handler; what it throws is its own business, not the listener's. */
function call(fn: () => void): void {
  try {
    fn();
  } catch {
    // a handler that fails must not stop the notices of the others
  }
}

/** The listening connection of one store, shared by all its watchers. */
export class ChangeNotices {
  private readonly watchers = new Set<Watcher>();
  private client: Client | undefined;
  private connecting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private schema: string | undefined;
  private closed = false;
  /** Whether the connection is up and listening. */
  live = false;

  constructor(
    private readonly pg: Pg,
    private readonly target: PostgresTarget,
    private readonly options: ConnectOptions & { retry?: RetryOptions },
  ) {}

  watch(handlers: ChangeHandlers): ChangeWatch {
    if (this.closed) throw dataError(DataErrorCode.DATA_CLOSED, 'the store is closed');
    const watcher: Watcher = { handlers };
    this.watchers.add(watcher);
    if (this.live) {
      // Already listening: from now on this watcher hears every notice; it compares once.
      queueMicrotask(() => {
        if (this.live && this.watchers.has(watcher)) call(() => handlers.onResync());
      });
    }
    this.start();
    const notices = this;
    return {
      get live() {
        return notices.live && notices.watchers.has(watcher);
      },
      async close() {
        if (!notices.watchers.delete(watcher)) return;
        if (notices.watchers.size === 0) await notices.stop();
      },
    };
  }

  /** Stops listening for good (the store closes). */
  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    await this.stop();
  }

  private get wanted(): boolean {
    return !this.closed && this.watchers.size > 0;
  }

  private start(): void {
    if (this.client || this.connecting || this.timer || !this.wanted) return;
    this.connecting = this.connect().finally(() => {
      this.connecting = undefined;
    });
  }

  private async connect(): Promise<void> {
    const client = plainClient(this.pg, this.target, this.options, LISTENER_APPLICATION);
    // Errors of a live connection arrive as events; both end it (see `lost`).
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (n) => this.notice(n));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      const { rows } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
      this.schema = rows[0]?.schema;
    } catch {
      await client.end().catch(() => undefined);
      this.retry();
      return;
    }
    if (!this.wanted) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.attempts = 0;
    // Live and resync in one step: a watcher that sees `live` has a resync coming.
    this.live = true;
    for (const w of [...this.watchers]) call(() => w.handlers.onResync());
  }

  private notice(n: Notification): void {
    if (n.channel !== CHANGES_CHANNEL) return;
    const notice = parseNotice(n.payload);
    if (!notice || notice.schema !== this.schema) return;
    for (const w of [...this.watchers]) call(() => w.handlers.onChange(notice.seq));
  }

  /** The listening connection failed or ended: connect again (with backoff) while watched. */
  private lost(client: Client): void {
    if (client !== this.client) return; // one still connecting reports through `connect`
    this.client = undefined;
    this.live = false;
    client.end().catch(() => undefined);
    this.retry();
  }

  private retry(): void {
    if (!this.wanted || this.timer) return;
    const { minMs, maxMs } = this.options.retry ?? DEFAULT_RETRY;
    const base = Math.min(maxMs, minMs * 2 ** this.attempts);
    this.attempts++;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.start();
      },
      base / 2 + Math.random() * (base / 2),
    );
    // Watchers that keep the process alive are the ones that should (the memory's own).
    this.timer.unref();
  }

  private async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.live = false;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
    // One connecting now sees that nobody watches and ends itself.
    await this.connecting;
  }
}
