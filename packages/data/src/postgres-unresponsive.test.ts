import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDataStore } from './index.js';
import { postgresUrlFor, storeTargets, testPostgres } from './test-support.js';

/**
 * A PostgreSQL server that takes the connection but never answers (frozen, or a proxy in
 * front of a dead one): node-postgres then gives up with errors that carry no code.
 */
describe.runIf(storeTargets().includes('postgres'))('an unresponsive PostgreSQL', () => {
  it('is DATA_UNREACHABLE when it does not answer a connection in time', {
    timeout: 60_000,
  }, async () => {
    const pg = await testPostgres();
    const url = await postgresUrlFor(':memory:');
    const dir = await pg.sql('postgres', 'SHOW data_directory');
    // The postmaster: the kernel still completes the TCP handshake, nobody answers after.
    const postmaster = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    // As root the server runs under `runuser`, which stops itself while its child is
    // stopped: it is continued too, or the server's stop at the end waits for it forever.
    const parent = Number(
      readFileSync(`/proc/${postmaster}/stat`, 'utf8').split(') ')[1]?.split(' ')[1],
    );
    process.kill(postmaster, 'SIGSTOP');
    try {
      const error = await openDataStore({ url, connectTimeoutMs: 1_000 }).then(
        async (store) => {
          await store.close();
          throw new Error('opened');
        },
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'DATA_UNREACHABLE' });
    } finally {
      process.kill(postmaster, 'SIGCONT');
      if (parent > 1) process.kill(parent, 'SIGCONT');
    }
  });
});
