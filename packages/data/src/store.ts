import { type ImplementationReport, invalidInput, SerialQueue } from '@aios/utils';
import { createAnalyticsRepository } from './analytics.js';
import { createApiKeyRepository } from './api-keys.js';
import { createAuditRepository } from './audit.js';
import { type Awaitable, chain, drive } from './awaitable.js';
import type { StoreContext } from './context.js';
import { createConversationRepository } from './conversations.js';
import type { SqlDriver } from './driver.js';
import { compactDatabase } from './erase.js';
import { DataErrorCode, dataError } from './errors.js';
import { createEventRepository } from './events.js';
import { createFeedbackRepository } from './feedback.js';
import { snapshotDatabase } from './files.js';
import { createFragmentRepository } from './fragments.js';
import { createMessageRepository } from './messages.js';
import { createMetaRepository } from './meta.js';
import { createPersonalityRepository } from './personality.js';
import { createSourceRepository } from './sources.js';
import { createTenantRepository } from './tenants.js';
import { createTransactions, notInTransaction } from './transaction.js';
import { exportStore, importStore } from './transfer.js';
import type { CompactResult, DataStore, ReadOnlyStore } from './types.js';
import { requireString } from './validate.js';

/** What the store does with the database as a whole, which differs between databases. */
export interface Maintenance {
  snapshotTo(path: string): Promise<{ path: string; bytes: number }>;
  compact(): Promise<CompactResult>;
}

export interface StoreSettings {
  /** The database file or `:memory:`; for PostgreSQL its URL without the password. */
  path: string;
  report: ImplementationReport;
  maxRowBytes: number;
  vectorDimension: number | undefined;
  /** Default: SQLite's (`VACUUM INTO`, `VACUUM` and a WAL checkpoint). */
  maintenance?: Maintenance;
  /** Gives up the database's lease once the connection is closed. */
  release?: () => Promise<void>;
  /** Set for a store open to read only (its driver refuses every write). */
  readOnly?: ReadOnlyStore;
}

/** SQLite's snapshot and compaction, on the store's one connection. */
function sqliteMaintenance(driver: SqlDriver, path: string): Maintenance {
  return {
    async snapshotTo(target) {
      if (path === ':memory:') {
        throw invalidInput('path', path, 'a store in a file (this one is in memory)');
      }
      return snapshotDatabase((sql) => driver.exec(sql), target);
    },
    compact: () => compactDatabase(driver),
  };
}

/**
 * The one DataStore, for every driver: calls run one at a time, in order, on the driver's
 * one connection. On failure the driver is closed before the error is thrown.
 */
export async function createStore(driver: SqlDriver, settings: StoreSettings): Promise<DataStore> {
  try {
    return await buildStore(driver, settings);
  } catch (error) {
    await Promise.resolve()
      .then(() => driver.close())
      .catch(() => undefined);
    throw error;
  }
}

async function buildStore(driver: SqlDriver, settings: StoreSettings): Promise<DataStore> {
  // One connection, not re-entrant: calls run one at a time, in order; with nothing
  // outstanding a synchronous call runs at once, without a queue hop.
  const queue = new SerialQueue({ immediate: true });
  let closed = false;
  const closedError = () => dataError(DataErrorCode.DATA_CLOSED, 'the store is closed');
  const enqueue = <T>(fn: () => T | Promise<T>): Promise<T> =>
    queue.run(() => {
      if (closed) throw closedError();
      return fn();
    });
  // Calls from inside `store.transaction(fn)` run in that transaction instead.
  const transactions = createTransactions(driver, enqueue);
  const serial = <T>(fn: () => T | Promise<T>): Promise<T> => transactions.join(fn) ?? enqueue(fn);
  const outsideTransaction = (what: string) => {
    if (transactions.inside()) throw notInTransaction(what);
  };
  const { maxRowBytes } = settings;
  const maintenance = settings.maintenance ?? sqliteMaintenance(driver, settings.path);

  const readDimension = (): Awaitable<number | undefined> =>
    chain(driver.query("SELECT value FROM meta WHERE key = 'vector_dimension'"), (rows) =>
      rows[0] ? Number(rows[0].value) : undefined,
    );
  const ctx: StoreContext = {
    driver,
    sql: driver.dialect,
    serial,
    steps: (body) => serial(() => drive(body())),
    busy: () => queue.pending > 0,
    maxRowBytes,
    dimension: await readDimension(),
    readDimension,
  };
  if (settings.vectorDimension !== undefined) {
    if (ctx.dimension === undefined) {
      await driver.run(
        "INSERT INTO meta (key, value) VALUES ('vector_dimension', ?1) ON CONFLICT (key) DO NOTHING",
        [String(settings.vectorDimension)],
      );
      // Another process may have fixed it first.
      ctx.dimension = await readDimension();
    }
    if (ctx.dimension !== settings.vectorDimension) {
      throw dataError(
        DataErrorCode.DATA_DIMENSION_MISMATCH,
        `${settings.path} stores ${ctx.dimension}-dimensional vectors, not ${settings.vectorDimension}`,
        { details: { expected: settings.vectorDimension, stored: ctx.dimension } },
      );
    }
  }

  const store: DataStore = {
    implementation: settings.report.implementation,
    report: settings.report,
    readOnly: settings.readOnly,
    path: settings.path,
    database: driver.dialect.name,

    fragments: createFragmentRepository(ctx),
    meta: createMetaRepository(ctx),

    conversations: createConversationRepository(ctx),
    messages: createMessageRepository(ctx),
    feedback: createFeedbackRepository(ctx),
    personality: createPersonalityRepository(ctx),
    events: createEventRepository(ctx),
    analytics: createAnalyticsRepository(ctx),
    tenants: createTenantRepository(ctx),
    apiKeys: createApiKeyRepository(ctx),
    audit: createAuditRepository(ctx),
    sources: createSourceRepository(ctx),

    schemaVersion: () => serial(() => driver.schemaVersion()),
    async exportTo(path, options = {}) {
      requireString(path, 'path');
      return serial(() => exportStore(driver, path, options.format));
    },
    async importFrom(path, options = {}) {
      requireString(path, 'path');
      outsideTransaction('importFrom');
      return serial(async () => {
        const summary = await importStore(driver, path, options);
        ctx.dimension = await readDimension();
        return summary;
      });
    },
    async snapshotTo(path) {
      requireString(path, 'path');
      outsideTransaction('snapshotTo');
      return serial(() => maintenance.snapshotTo(path));
    },
    integrityCheck: () => serial(() => driver.integrityCheck()),
    async compact() {
      outsideTransaction('compact');
      return serial(() => maintenance.compact());
    },
    transaction: (fn) => transactions.run(store, fn),
    inTransaction: () => transactions.inside(),
    rollbacks: () => transactions.rollbacks(),
    watchChanges(handlers) {
      if (typeof handlers?.onChange !== 'function' || typeof handlers.onResync !== 'function') {
        throw invalidInput('handlers', handlers, '{ onChange(seq), onResync() }');
      }
      if (closed) throw closedError();
      return driver.watchChanges?.(handlers);
    },
    async withClusterLock(name, fn) {
      requireString(name, 'name');
      if (typeof fn !== 'function') throw invalidInput('fn', fn, 'a function () => Promise');
      if (closed) throw closedError();
      if (!driver.clusterLock) return { status: 'ran', value: await fn() };
      return driver.clusterLock(name, fn);
    },
    async close() {
      outsideTransaction('close');
      if (closed) return;
      try {
        await serial(() => {
          closed = true;
          return driver.close();
        });
      } finally {
        await settings.release?.();
      }
    },
  };
  return store;
}
