import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  startTestPostgres,
  type TestPostgres,
  testImplementations,
  testTool,
} from '@aios/utils/testing';
import type * as Sqlite3Wasm from 'node-sqlite3-wasm';
import { afterAll } from 'vitest';
import { type DataStore, type OpenDataStoreOptions, openDataStore } from './index.js';

const { Database } = createRequire(import.meta.url)('node-sqlite3-wasm') as typeof Sqlite3Wasm;

/** Runs SQL on a database file directly, bypassing the store (for tests only). */
export function rawSql(path: string, sql: string): void {
  const db = new Database(path);
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** Where a DataStore contract suite runs: SQLite through either implementation, or PostgreSQL. */
export type StoreTarget = 'native' | 'js' | 'postgres';

const initdb = testTool('initdb');

/**
 * The targets of the suites that test the DataStore contract: the implementations of
 * `testImplementations()`, and `postgres` when PostgreSQL's server is installed (a real
 * server per test file, a fresh database per store). `AIOS_TEST_TARGETS` narrows them
 * (e.g. `postgres`). Use with `describe.each(storeTargets())`.
 */
export function storeTargets(env: NodeJS.ProcessEnv = process.env): StoreTarget[] {
  const all: StoreTarget[] = [
    ...testImplementations(env),
    ...(initdb ? ['postgres' as const] : []),
  ];
  const narrowed = env.AIOS_TEST_TARGETS?.split(',').map((s) => s.trim());
  return narrowed ? all.filter((t) => narrowed.includes(t)) : all;
}

let server: Promise<TestPostgres> | undefined;
let template: Promise<string> | undefined;
let creating: Promise<unknown> = Promise.resolve();
const databases = new Map<string, Promise<string>>();

afterAll(async () => {
  const running = server;
  server = undefined;
  template = undefined;
  databases.clear();
  if (running) await (await running).close();
});

/** This test file's PostgreSQL server, started at its first use. */
export function testPostgres(): Promise<TestPostgres> {
  if (!initdb) throw new Error('PostgreSQL is not installed (initdb not found)');
  server ??= startTestPostgres(initdb);
  return server;
}

/** A new database (CREATE DATABASE from a migrated template: fast), one at a time. */
async function freshDatabase(): Promise<string> {
  const pg = await testPostgres();
  template ??= (async () => {
    const name = await pg.createDatabase('aios_template');
    // amcheck makes integrityCheck() meaningful; the test user is a superuser.
    await pg.sql(name, 'CREATE EXTENSION amcheck');
    await (await openDataStore({ url: pg.url(name) })).close();
    return name;
  })();
  const from = await template;
  const made = creating.then(() => pg.createDatabase(undefined, from));
  creating = made.catch(() => undefined);
  return made;
}

/** The URL of the PostgreSQL database that stands for SQLite file `path` in this file's tests. */
export async function postgresUrlFor(path: string): Promise<string> {
  const pg = await testPostgres();
  if (path === ':memory:') return pg.url(await freshDatabase());
  const key = createHash('sha1').update(path).digest('hex');
  let name = databases.get(key);
  if (!name) {
    name = freshDatabase();
    databases.set(key, name);
  }
  return pg.url(await name);
}

/**
 * Opens a store on `target`: the SQLite file `path` (or `:memory:`) with that
 * implementation, or for `postgres` a database of the test server that stands for `path`
 * (the same one each time `path` is opened again; a new one for `:memory:`).
 */
export async function openTestStore(
  target: StoreTarget,
  path: string,
  options: Omit<OpenDataStoreOptions, 'path' | 'url' | 'native'> = {},
): Promise<DataStore> {
  if (target === 'postgres') return openDataStore({ ...options, url: await postgresUrlFor(path) });
  return openDataStore({ ...options, path, native: target });
}

/** Runs SQL under the store that `openTestStore(target, path)` opens (for tests that tamper). */
export async function rawStoreSql(target: StoreTarget, path: string, sql: string): Promise<void> {
  if (target !== 'postgres') return rawSql(path, sql);
  const url = new URL(await postgresUrlFor(path));
  await (await testPostgres()).sql(url.pathname.slice(1), sql);
}

/** A promise and the function that resolves it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Whether `promise` is still pending after `ms`. */
export async function pendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  const settle = () => {
    settled = true;
  };
  void promise.then(settle, settle);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return !settled;
}
