import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAios, loadConfig } from '@aios/core';
import { startChatServer } from '@aios/luna/testing';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from './index.js';
import { serveAios } from './test-support/cli.js';

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

/** A home with `fragments` memories and an admin key. */
async function preparedHome(
  impl: string,
  fragments: number,
): Promise<{ home: string; key: string }> {
  const home = mkdtempSync(join(tmpdir(), 'aios-lifecycle-'));
  homes.push(home);
  const config = loadConfig({
    overrides: { home, native: impl, logLevel: 'silent' },
    env: {},
  }).config;
  const aios = await createAios({ config, offline: true });
  try {
    const texts = Array.from(
      { length: fragments },
      (_, i) =>
        `Note ${i}: the ${i % 7 === 0 ? 'boiler' : 'garden'} needs attention in week ${i % 52} of the year, item ${i * 7919}.`,
    );
    for (let i = 0; i < texts.length; i += 500) await aios.memory.addMany(texts.slice(i, i + 500));
    const { key } = await cli.keysCreate(aios, { name: 'ops', scopes: ['admin'] });
    return { home, key };
  } finally {
    await aios.close();
  }
}

describe('a server killed during an upload', () => {
  it('leaves files that the next start of a server on the home removes', async () => {
    const { home } = await preparedHome('native', 0);
    // What a killed server left: an upload being staged, and one being ingested by a tenant.
    const staged = join(home, '.uploads', 'staging-0f3e', 'notes.md');
    const placed = join(home, 'tenants', 'acme', '.uploads', 'ns-5a1c', 'plan.md');
    for (const file of [staged, placed]) {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, 'half of a file\n');
    }
    const server = await serveAios(home);
    try {
      expect(existsSync(join(home, '.uploads'))).toBe(false);
      expect(existsSync(join(home, 'tenants', 'acme', '.uploads'))).toBe(false);
      expect(existsSync(join(home, 'tenants', 'acme'))).toBe(true);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 60_000);
});

describe('aios serve', () => {
  it('writes its log lines to stderr: stdout says where it listens, nothing else', async () => {
    const { home, key } = await preparedHome('native', 0);
    const server = await serveAios(home, [], { AIOS_LOG_LEVEL: 'info' });
    try {
      const res = await fetch(`${server.url}/v1/status`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(200);
      await expect.poll(() => server.stderr()).toMatch(/"msg":"request completed"/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    expect(server.stdout()).toMatch(/^AIOS listening on http:\/\/127\.0\.0\.1:\d+ .*\n$/);
    const line = server
      .stderr()
      .split('\n')
      .find((l) => l.includes('request completed'));
    expect(JSON.parse(line as string)).toMatchObject({ level: 30, name: 'aios-serve' });
  }, 60_000);
});

describe.each(testImplementations())('SIGTERM (%s)', (impl) => {
  it('during a backup job: the job ends, the server closes, no snapshot is half-written', async () => {
    const { home, key } = await preparedHome(impl, 3000);
    const server = await serveAios(home, [], { AIOS_NATIVE: impl });
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const started = await fetch(`${server.url}/v1/backups`, {
      method: 'POST',
      headers,
      body: '{}',
    });
    expect(started.status).toBe(202);
    const job = (await started.json()) as { id: string };
    server.child.kill('SIGTERM');
    // A request after the signal is refused in the one error shape (or the socket is closed).
    const late = await fetch(`${server.url}/v1/jobs/${job.id}`, { headers }).catch(() => undefined);
    if (late) {
      expect([200, 503]).toContain(late.status);
      if (late.status === 503)
        expect(((await late.json()) as { error: { code: string } }).error.code).toBe(
          'SHUTTING_DOWN',
        );
    }
    const code = await server.exited;
    expect(server.stderr()).toMatch(/stopped/);
    expect(code).toBe(143);

    const config = loadConfig({
      overrides: { home, native: impl, logLevel: 'silent' },
      env: {},
    }).config;
    const aios = await createAios({ config, offline: true });
    try {
      const list = await aios.backup.list();
      expect(list.damaged).toEqual([]);
      const verified = await aios.backup.verify(1);
      expect(verified.errors).toEqual([]);
      // The job finished within the shutdown time, so its snapshot is there, whole.
      expect(list.snapshots.length).toBe(1);
      expect(aios.memory.stats().fragments).toBe(3000);
    } finally {
      await aios.close();
    }
  }, 180_000);

  it('during a streamed answer: the answer ends with done, whole and stored', async () => {
    const chat = await startChatServer();
    const { home, key } = await preparedHome(impl, 200);
    // About twenty words, one every 100 ms: the signal lands mid-answer.
    chat.queue.push({ kind: 'slow-stream', gapMs: 100 });
    const server = await serveAios(home, [], {
      AIOS_NATIVE: impl,
      AIOS_LUNA__LLM__BASE_URL: chat.baseUrl,
      AIOS_LUNA__LLM__MODEL: 'test-model',
    });
    try {
      const res = await fetch(`${server.url}/v1/ask`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          accept: 'text/event-stream',
        },
        body: JSON.stringify({ question: 'When does the boiler need attention?' }),
      });
      expect(res.status).toBe(200);
      const events: Array<{ event: string; data: Record<string, unknown> }> = [];
      const decoder = new TextDecoder();
      let buffer = '';
      let signalled = false;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}') as Record<
            string,
            unknown
          >;
          events.push({ event: name, data });
          if (name === 'token' && !signalled) {
            signalled = true;
            server.child.kill('SIGTERM');
          }
        }
      }
      expect(signalled).toBe(true);
      const last = events.at(-1);
      expect(last?.event).toBe('done');
      const text = events
        .filter((e) => e.event === 'token')
        .map((e) => e.data.text)
        .join('');
      expect(text).toMatch(/^You asked: When does the boiler need attention\?/);
      expect(await server.exited).toBe(143);

      const config = loadConfig({
        overrides: { home, native: impl, logLevel: 'silent' },
        env: {},
      }).config;
      const aios = await createAios({ config, offline: true });
      try {
        const conversationId = String(last?.data.conversationId);
        const messages = await aios.data.messages.list(conversationId);
        expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
        expect(messages[1]?.content).toBe(text);
      } finally {
        await aios.close();
      }
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await chat.close();
    }
  }, 180_000);
});
