/**
 * Transactions that span repositories, and cores: `store.transaction(fn)` makes every call
 * on the store from inside `fn`'s asynchronous context (its own calls, and those of another
 * core that shares the store, such as CARMA writing fragments) one database transaction,
 * committed when `fn` resolves and rolled back when it rejects.
 *
 * The store has one connection and runs its calls one at a time. A transaction holds that
 * queue from its BEGIN to its COMMIT or ROLLBACK: calls from outside wait, calls from
 * inside run in order on the transaction's own queue. BEGIN is issued at the first call
 * from inside, not before: a transaction whose first writer is another core takes that
 * core's lock first and the store's second, the order the core's own writes take them in.
 * (So call such a core first: waiting inside a begun transaction for work that itself
 * waits for this store from outside would never end.)
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { invalidInput, SerialQueue } from '@aios/utils';
import { drive, type Steps } from './awaitable.js';
import type { SqlDriver } from './driver.js';
import { DataErrorCode, dataError } from './errors.js';

interface Transaction {
  /** The store the transaction belongs to: calls on another store do not join it. */
  readonly owner: object;
  /** False once the callback settled: later calls (say from a timer set inside) go to the store's queue. */
  open: boolean;
  /** BEGIN issued on the store's queue; undefined until the first call. */
  begun: Promise<void> | undefined;
  /** The calls inside, one after the other. */
  calls: SerialQueue;
  /** Lets the store's queue go on once the transaction is over. */
  release: (() => void) | undefined;
}

const current = new AsyncLocalStorage<Transaction>();
/** Drivers with a transaction open: their atomic writes become savepoints inside it. */
const openOn = new WeakSet<SqlDriver>();

/** Whether `driver` is inside a transaction of `store.transaction` (see `atomically`). */
export function inTransaction(driver: SqlDriver): boolean {
  return openOn.has(driver);
}

export interface Transactions {
  /**
   * Runs `fn` inside the transaction of the calling context, if there is one on this store
   * (else undefined: the caller queues it as usual).
   */
  join<T>(fn: () => T | Promise<T>): Promise<T> | undefined;
  /** Whether the calling context is inside a transaction on this store. */
  inside(): boolean;
  /** `DataStore.rollbacks`. */
  rollbacks(): number;
  /** `DataStore.transaction`. */
  run<T, S>(store: S, fn: (tx: S) => Promise<T>): Promise<T>;
}

/**
 * The transactions of one store: `driver` is its connection, `enqueue` its queue (which
 * runs a function after every earlier call has finished).
 */
export function createTransactions(
  driver: SqlDriver,
  enqueue: <T>(fn: () => T | Promise<T>) => Promise<T>,
): Transactions {
  const owner = {};
  let rollbacks = 0;
  const ours = (): Transaction | undefined => {
    const tx = current.getStore();
    return tx && tx.owner === owner && tx.open ? tx : undefined;
  };

  /** Takes the store's queue and begins; the queue is held until `release`. */
  const begin = (tx: Transaction): Promise<void> =>
    new Promise<void>((ready, fail) => {
      enqueue(
        () =>
          new Promise<void>((release) => {
            const began = () => {
              openOn.add(driver);
              tx.release = release;
              ready();
            };
            const failed = (error: unknown) => {
              fail(error);
              release();
            };
            try {
              const pending = driver.begin();
              if (pending instanceof Promise) pending.then(began, failed);
              else began();
            } catch (error) {
              failed(error);
            }
          }),
      ).catch(fail); // the store was closed before the transaction's turn
    });

  /** Commits or rolls back; synchronous on SQLite (see `drive`). */
  function* finish(tx: Transaction, commit: boolean): Steps<void> {
    try {
      if (commit) {
        try {
          yield driver.commit();
        } catch (error) {
          rollbacks++;
          try {
            yield driver.rollback();
          } catch {
            // the failed commit is what the caller must hear about
          }
          throw error;
        }
      } else {
        rollbacks++;
        try {
          yield driver.rollback();
        } catch {
          // the error that made the transaction fail matters more
        }
      }
    } finally {
      openOn.delete(driver);
      tx.release?.();
    }
  }

  async function run<T, S>(store: S, fn: (tx: S) => Promise<T>): Promise<T> {
    if (typeof fn !== 'function') {
      throw invalidInput('fn', fn, 'a function (tx) => Promise');
    }
    // A transaction inside a transaction is part of it.
    if (ours()) return fn(store);
    const tx: Transaction = {
      owner,
      open: true,
      begun: undefined,
      calls: new SerialQueue(),
      release: undefined,
    };
    let result: T | undefined;
    let failure: { error: unknown } | undefined;
    try {
      result = await current.run(tx, () => fn(store));
    } catch (error) {
      failure = { error };
    }
    tx.open = false;
    if (tx.begun) {
      // Calls made inside and not awaited still belong to the transaction.
      await tx.calls.idle();
      let began = true;
      await tx.begun.catch((error: unknown) => {
        began = false;
        // Nothing was written: the callback either saw this error or ignored every
        // failed write; either way the transaction did not happen.
        failure ??= { error };
      });
      if (began) await drive(finish(tx, failure === undefined));
    }
    if (failure) throw failure.error;
    return result as T;
  }

  return {
    join(fn) {
      const tx = ours();
      if (!tx) return undefined;
      if (!tx.begun) tx.begun = begin(tx);
      const begun = tx.begun;
      return tx.calls.run(async () => {
        await begun;
        return fn();
      });
    },

    inside: () => ours() !== undefined,

    rollbacks: () => rollbacks,

    run,
  };
}

/** The error of a call that cannot be part of a transaction (it would wait for its end). */
export function notInTransaction(what: string) {
  return dataError(
    DataErrorCode.DATA_IN_TRANSACTION,
    `${what} cannot run inside a transaction of the same store`,
  );
}
