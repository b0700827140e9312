/**
 * A PostgreSQL server for one test file, on which CARMA's tests open several memories over
 * one database, as servers sharing a store do: fresh databases, data stores and home
 * folders, all closed and removed after the file. `sharedPostgres` registers the hooks, so
 * it is called in the `describe` it serves (skipped when `initdb` is not installed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DataStore, openDataStore } from '@aios/data';
import { startTestPostgres, type TestPostgres, testTool } from '@aios/utils/testing';
import { afterAll, beforeAll } from 'vitest';

export const initdb = testTool('initdb');

export interface SharedPostgres {
  /** The server (started before the first test). */
  server(): TestPostgres;
  /** The URL of a new database, named `<name>_<n>`. */
  freshUrl(): Promise<string>;
  /** A data store on `url`, closed after the file. */
  open(url: string): Promise<DataStore>;
  /** A new home folder for a memory's index files, removed after the file. */
  home(): string;
}

export function sharedPostgres(name: string): SharedPostgres {
  let pg: TestPostgres | undefined;
  let database = 0;
  const dirs: string[] = [];
  const stores: DataStore[] = [];
  beforeAll(async () => {
    pg = await startTestPostgres(initdb as string);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.close()));
    await pg?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const server = () => {
    if (!pg) throw new Error('the test PostgreSQL server is not started yet');
    return pg;
  };
  return {
    server,
    freshUrl: async () => server().url(await server().createDatabase(`${name}_${++database}`)),
    async open(url) {
      const store = await openDataStore({ url });
      stores.push(store);
      return store;
    },
    home() {
      const dir = mkdtempSync(join(tmpdir(), `${name.replaceAll('_', '-')}-`));
      dirs.push(dir);
      return dir;
    },
  };
}
