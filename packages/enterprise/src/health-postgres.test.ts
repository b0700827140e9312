import { testImplementations, testTool } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PostgresTestServer,
  startPostgresTestServer,
} from './test-support/postgres-server.js';

const initdb = testTool('initdb');

/**
 * The health routes of a server whose store (keys included) is a PostgreSQL server that
 * stops: they answer in the API's error shape, never with a failure of their own.
 */
describe.skipIf(!initdb).each(testImplementations())(
  'health on a stopped PostgreSQL (%s)',
  (impl) => {
    let cluster: PostgresTestServer;

    beforeAll(async () => {
      cluster = await startPostgresTestServer(initdb as string, impl, `health_${impl}`);
    }, 120_000);
    afterAll(() => cluster?.close(), 60_000);

    it('answers /health with a key 503 DATA_UNREACHABLE while the store is down, its report once it is back', {
      timeout: 120_000,
    }, async () => {
      const t = cluster.server;
      // A report either way: 503 when a check of the machine fails (a loaded event loop).
      const report = async () => {
        const res = await t.call('GET', '/health', t.adminKey);
        expect([200, 503], res.body).toContain(res.statusCode);
        return res.json();
      };
      expect((await report()).checks['postgres:responseTime'][0].status).toBe('pass');
      await cluster.pg.stop('fast');
      try {
        const down = await t.call('GET', '/health', t.adminKey);
        expect(down.statusCode, down.body).toBe(503);
        expect(down.json().error).toMatchObject({ code: 'DATA_UNREACHABLE' });
      } finally {
        await cluster.pg.start();
      }
      expect((await report()).checks['postgres:responseTime'][0].status).toBe('pass');
    });
  },
);
