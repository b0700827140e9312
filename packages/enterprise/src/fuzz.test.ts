import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAios, loadConfig } from '@aios/core';
import { runProcess, testTool } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { cli } from './index.js';
import { startServer } from './serve.js';

const schemathesis = testTool('schemathesis');

/** Examples per operation: enough to reach every branch of the validators, within CI time. */
const MAX_EXAMPLES = Number(process.env.AIOS_FUZZ_EXAMPLES ?? 25);
/** Replays a run: schemathesis prints its seed at the end of every run. */
const SEED = process.env.AIOS_FUZZ_SEED;

/**
 * Schemathesis against a live `aios serve` on loopback, driven by its own /openapi.json
 * with an admin key: every operation, generated valid and invalid input. No answer may be a
 * server error, and every answer must match the schema its route declares.
 */
describe.skipIf(!schemathesis)('the API under schemathesis', () => {
  it(
    'gives no server error and no answer that breaks its own schema',
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'aios-fuzz-'));
      const config = loadConfig({
        overrides: { home, logLevel: 'silent', server: { requestsPerMinute: 1_000_000 } },
        env: {},
      }).config;
      const setup = await createAios({ config, offline: true });
      const { key } = await cli.keysCreate(setup, { name: 'fuzz', scopes: ['admin'] });
      await setup.memory.add({ text: 'The fuzzer may read this fragment.' });
      await setup.close();
      const running = await startServer({ config, port: 0, offline: true, logger: false });
      try {
        // In the temporary home: schemathesis keeps its run data in ./.schemathesis.
        const { code, stdout, stderr } = await runProcess(
          schemathesis as string,
          [
            'run',
            `${running.url}/openapi.json`,
            '--header',
            `Authorization: Bearer ${key}`,
            '--checks',
            'not_a_server_error,response_schema_conformance',
            '--phases',
            'examples,coverage,fuzzing',
            '--max-examples',
            String(MAX_EXAMPLES),
            // One worker: hypothesis describes its strategies with `ast.parse`, and CPython
            // 3.11 can fail that with a SystemError when two threads parse at once.
            '--workers',
            '1',
            '--request-timeout',
            '30',
            // Revoking keys is tested by the authorization matrix; the fuzzer would revoke its own.
            '--exclude-method-regex',
            '^DELETE$',
            '--exclude-path-regex',
            '^/v1/keys/',
            '--suppress-health-check',
            'all',
            '--no-color',
            ...(SEED ? ['--seed', SEED] : []),
          ],
          { cwd: home, env: { ...process.env, NO_COLOR: '1' } },
        );
        if (code !== 0) console.error(`${stdout}${stderr}`.slice(0, 200_000));
        expect(code, 'schemathesis found failures (see the output above)').toBe(0);
      } finally {
        await running.close();
        rmSync(home, { recursive: true, force: true });
      }
    },
    15 * 60_000,
  );
});
