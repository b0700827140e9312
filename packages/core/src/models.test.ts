import { createConnection } from 'node:net';
import { type ChatServer, closedPort, startChatServer } from '@aios/luna/testing';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, tempHomes } from './testing/cli.js';
import { runCliAsync } from './testing/run.js';

// Setting up a language model: `aios models` against a scripted server on loopback, the
// model check `aios health` always has, and the reason an answer gives when no model wrote
// it (--offline, none configured, the configured one down).

const tempHome = tempHomes('aios-models-');
const SLOW = { timeout: 180_000 };

let server: ChatServer;
let closed: string;
beforeAll(async () => {
  server = await startChatServer();
  server.models = ['qwen3-8b', 'llama-3.2-3b'];
  closed = `http://127.0.0.1:${await closedPort()}/v1`;
});
afterAll(() => server.close());

/** Whether something listens on a local port (LM Studio's, Ollama's). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: 'localhost', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
const localServers = (await listening(1234)) || (await listening(11434));

describe('aios models', () => {
  it('lists what the configured server offers, marking the model answers use', SLOW, async () => {
    const home = tempHome();
    await runCliAsync(home, ['config', 'set', 'luna.llm.baseUrl', server.baseUrl]);
    const r = await runCliAsync(home, ['models']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${server.baseUrl} (OpenAI-compatible, configured): 2 models`);
    expect(r.stdout).toMatch(/\* qwen3-8b \(used: first listed\)/);
    expect(r.stdout).toContain('    llama-3.2-3b');

    await runCliAsync(home, ['config', 'set', 'luna.llm.model', 'llama-3.2-3b']);
    const json = JSON.parse((await runCliAsync(home, ['models', '--json'])).stdout);
    expect(json.servers).toEqual([
      {
        baseUrl: server.baseUrl,
        kind: 'OpenAI-compatible',
        source: 'configured',
        models: ['qwen3-8b', 'llama-3.2-3b'],
      },
    ]);
    expect(json.model).toEqual({
      baseUrl: server.baseUrl,
      model: 'llama-3.2-3b',
      why: 'configured',
    });

    await runCliAsync(home, ['config', 'set', 'luna.llm.model', 'gone-model']);
    const unlisted = await runCliAsync(home, ['models']);
    expect(unlisted.stdout).toContain(
      `luna.llm.model is gone-model, which ${server.baseUrl} does not list`,
    );
  });

  it('asks any OpenAI-compatible URL given, and says why one does not answer', SLOW, async () => {
    const home = tempHome();
    const given = await runCliAsync(home, ['models', '--url', `${server.baseUrl}/`, '--json']);
    expect(JSON.parse(given.stdout).servers[0]).toMatchObject({
      source: 'given',
      models: ['qwen3-8b', 'llama-3.2-3b'],
    });
    await runCliAsync(home, ['config', 'set', 'luna.llm.baseUrl', closed]);
    const down = await runCliAsync(home, ['models']);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain('not answering');
    expectOneLineError(down.stderr, 'LLM_UNREACHABLE');
    expect(down.stderr).toContain(`${closed} did not answer`);
    const bad = await runCliAsync(home, ['models', '--url', 'localhost:1234']);
    expectOneLineError(bad.stderr, 'INVALID_INPUT');
  });
});

describe.each(testImplementations())('why no model answered (AIOS_NATIVE=%s)', (impl) => {
  const env = { AIOS_NATIVE: impl };

  it('--offline says it was asked for, in the answer and in health', SLOW, async () => {
    const home = tempHome();
    const text = await runCliAsync(home, ['--offline', 'ask', 'who', 'waters', 'plants'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('(offline: --offline was given, so no language model was asked)');
    expect(text.stdout).toContain('[offline] Working offline as asked');
    expect(text.stdout).not.toMatch(/no language model is configured/i);
    const json = JSON.parse(
      (await runCliAsync(home, ['--offline', 'ask', 'who waters plants', '--json'], env)).stdout,
    );
    expect(json.offlineCause).toBe('offline-flag');
    const health = JSON.parse(
      (await runCliAsync(home, ['--offline', 'health', '--json'], env)).stdout,
    );
    expect(health.checks['llm:model'][0]).toMatchObject({
      status: 'pass',
      output: expect.stringContaining('--offline'),
    });
  });

  it(
    'a configured server that does not answer is named, and fails the health check',
    SLOW,
    async () => {
      const home = tempHome();
      await runCliAsync(home, ['config', 'set', 'luna.llm.baseUrl', closed], env);
      await runCliAsync(home, ['config', 'set', 'luna.llm.maxRetries', '0'], env);
      const text = await runCliAsync(home, ['ask', 'who waters plants'], env);
      expect(text.stderr).toBe('');
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(
        `(the language model at ${closed} did not answer: LLM_UNREACHABLE`,
      );
      const json = JSON.parse(
        (await runCliAsync(home, ['ask', 'who waters plants', '--json'], env)).stdout,
      );
      expect(json.offlineCause).toBe('model-unreachable');
      const health = await runCliAsync(home, ['health', '--json'], env);
      expect(health.code).toBe(1);
      expect(JSON.parse(health.stdout).checks['llm:model'][0]).toMatchObject({
        status: 'fail',
        output: expect.stringContaining(`${closed} did not answer`),
      });
    },
  );

  it('a reachable one is reported with its model', SLOW, async () => {
    const home = tempHome();
    await runCliAsync(home, ['config', 'set', 'luna.llm.baseUrl', server.baseUrl], env);
    const run = await runCliAsync(home, ['health', '--json'], env);
    expect(run.stderr).toBe('');
    const health = JSON.parse(run.stdout);
    expect(health.checks['llm:model'][0]).toMatchObject({
      status: 'pass',
      observedValue: 'qwen3-8b',
      output: `qwen3-8b (first listed) on ${server.baseUrl}`,
    });
  });

  // Only where no LM Studio or Ollama runs: Luna would find it.
  it.skipIf(localServers)(
    'none configured and none running: said so, with how to set one',
    SLOW,
    async () => {
      const home = tempHome();
      const text = await runCliAsync(home, ['ask', 'who waters plants'], env);
      expect(text.stdout).toContain(
        '(no language model is configured, and none is running where Luna looks',
      );
      expect(text.stdout).toContain('aios config set luna.llm.baseUrl <url>');
      const json = JSON.parse(
        (await runCliAsync(home, ['ask', 'who waters plants', '--json'], env)).stdout,
      );
      expect(json.offlineCause).toBe('no-model-configured');
      const health = JSON.parse((await runCliAsync(home, ['health', '--json'], env)).stdout);
      expect(health.checks['llm:model'][0]).toMatchObject({
        status: 'pass',
        output: expect.stringContaining(
          'no language model is configured, and none was found running',
        ),
      });
      const models = await runCliAsync(home, ['models'], env);
      expect(models.code).toBe(1);
      expectOneLineError(models.stderr, 'LLM_UNREACHABLE');
    },
  );
});
