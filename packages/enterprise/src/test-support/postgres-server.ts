import type { AiosConfigInput } from '@aios/core';
import type { Implementation } from '@aios/utils';
import { startTestPostgres, type TestPostgres } from '@aios/utils/testing';
import { startTestServer, type TestServer } from './server.js';

export interface PostgresTestServer {
  pg: TestPostgres;
  /** The server's database on `pg`. */
  database: string;
  server: TestServer;
  /** Closes the server, then PostgreSQL. */
  close(): Promise<void>;
}

/**
 * A test server whose store is a database of its own (`name`) on a real PostgreSQL
 * started for it, the password given as the `data.password` secret.
 */
export async function startPostgresTestServer(
  initdb: string,
  native: Implementation,
  name: string,
  overrides: Omit<AiosConfigInput, 'home' | 'data'> = {},
): Promise<PostgresTestServer> {
  const pg = await startTestPostgres(initdb);
  try {
    const database = await pg.createDatabase(name);
    const server = await startTestServer(native, {
      ...overrides,
      data: { url: pg.url(database, { password: null }), password: pg.password },
    });
    return {
      pg,
      database,
      server,
      close: async () => {
        await server.close();
        await pg.close();
      },
    };
  } catch (error) {
    await pg.close();
    throw error;
  }
}
