import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Aios, createAios, loadConfig } from '@aios/core';
import { type ChatServer, startChatServer } from '@aios/luna/testing';
import type { Implementation } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from './access/keys.js';
import { type AiosServer, buildServer } from './app.js';
import { startTestServer, type TestServer } from './test-support/server.js';
import { readEvents, type SseEvent } from './test-support/sse-client.js';

const NOTES = [
  'The boiler is serviced every May by Hansen Heating.',
  'The cat sleeps on the red sofa most afternoons.',
  'The spare key is under the blue flower pot.',
];

interface SourceBody {
  id: string;
  text: string;
  score: number;
  relevance: number;
  grounded: boolean;
}

const json = (e: SseEvent) => JSON.parse(e.data) as Record<string, unknown>;

describe.each(testImplementations())('ask routes, offline (%s)', (impl) => {
  let t: TestServer;
  let chat: { authorization: string };
  let other: { authorization: string };
  let ids: string[];

  beforeAll(async () => {
    t = await startTestServer(impl);
    chat = t.auth((await t.key(['chat'])).key);
    other = t.auth((await t.key(['chat'], { tenant: 'ask-other' })).key);
    ids = (await t.system.memory.addMany(NOTES)).map((r) => r.fragment.id);
  });
  afterAll(() => t.close());

  const ask = (payload: unknown, headers: Record<string, string> = chat) =>
    t.server.app.inject({ method: 'POST', url: '/v1/ask', headers, payload: payload as object });

  it('answers with its sources, an answer id and a conversation id', async () => {
    const res = await ask({ question: 'When is the boiler serviced?' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      mode: 'offline',
      grounded: true,
      id: expect.any(String),
      conversationId: expect.any(String),
      usage: null,
    });
    expect(body.answer).toContain('Hansen');
    const first = body.sources[0] as SourceBody;
    expect(first).toMatchObject({ id: ids[0], text: NOTES[0], grounded: true });
    expect(first.score).toEqual(expect.any(Number));
    expect(first.relevance).toBeGreaterThan(0);
    const stored = await t.system.data.messages.byExchange(body.id);
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('continues a conversation by its id; an unknown one, or another tenant’s, is 404', async () => {
    const first = (await ask({ question: 'When is the boiler serviced?' })).json();
    const next = await ask({
      question: 'And where is the spare key?',
      conversationId: first.conversationId,
    });
    expect(next.statusCode, next.body).toBe(200);
    expect(next.json().conversationId).toBe(first.conversationId);
    const messages = await t.system.data.messages.list(first.conversationId);
    expect(messages).toHaveLength(4);

    const unknown = await ask({ question: 'Hello?', conversationId: 'no-such-conversation' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('CONVERSATION_NOT_FOUND');
    const theirs = await ask(
      { question: 'Where is the spare key?', conversationId: first.conversationId },
      other,
    );
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().error.code).toBe('CONVERSATION_NOT_FOUND');
    // Nothing of the owner's reached the other tenant, nor the other way round.
    expect(await t.system.data.messages.list(first.conversationId)).toHaveLength(4);
    const elsewhere = await ask({ question: 'Where is the spare key?' }, other);
    expect(elsewhere.json().sources).toEqual([]);
  });

  it('refuses bad questions with a 4xx and a code, storing nothing', async () => {
    const before = await t.system.data.messages.count();
    for (const [payload, status, code] of [
      [{ question: '' }, 400, 'INVALID_INPUT'],
      [{ question: 'x'.repeat(100_001) }, 400, 'INVALID_INPUT'],
      [{ question: 'hi', conversationId: '' }, 400, 'INVALID_INPUT'],
      [{ question: 'hi', temperature: 2 }, 400, 'INVALID_INPUT'],
      [{}, 400, 'INVALID_INPUT'],
      [{ question: '   ' }, 400, 'INVALID_INPUT'],
    ] as const) {
      const res = await ask(payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
    expect(await t.system.data.messages.count()).toBe(before);
  });

  it('streams to a real client: sources, then tokens, then done', async () => {
    const base = await listen(t.server);
    const res = await fetch(`${base}/v1/ask`, {
      method: 'POST',
      headers: { ...chat, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ question: 'Where does the cat sleep?' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readEvents(res.body as ReadableStream<Uint8Array>);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('sources');
    expect(names.at(-1)).toBe('done');
    expect(names.slice(1, -1).every((n) => n === 'token')).toBe(true);
    expect(names.filter((n) => n === 'token').length).toBeGreaterThan(1);
    const sources = json(events[0] as SseEvent).sources as SourceBody[];
    expect(sources[0]).toMatchObject({ id: ids[1], text: NOTES[1] });
    const done = json(events.at(-1) as SseEvent);
    expect(done).toMatchObject({ mode: 'offline', conversationId: expect.any(String) });
    const text = events
      .filter((e) => e.event === 'token')
      .map((e) => json(e).text)
      .join('');
    const stored = await t.system.data.messages.byExchange(done.id as string);
    expect(stored.find((m) => m.role === 'assistant')?.content).toBe(text);
  });

  it('answers an error before the stream began as an HTTP error', async () => {
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/v1/ask',
      headers: { ...chat, accept: 'text/event-stream' },
      payload: { question: 'Hello?', conversationId: 'missing' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json().error.code).toBe('CONVERSATION_NOT_FOUND');
  });
});

/** A real server on a system that asks a loopback chat server. */
async function startOnlineServer(
  impl: Implementation,
  chat: ChatServer,
  server: Record<string, unknown> = {},
): Promise<{
  system: Aios;
  server: AiosServer;
  auth: { authorization: string };
  close(): Promise<void>;
}> {
  const home = mkdtempSync(join(tmpdir(), 'aios-enterprise-ask-'));
  const config = loadConfig({
    overrides: {
      home,
      native: impl,
      logLevel: 'silent',
      server,
      luna: {
        llm: { baseUrl: chat.baseUrl, model: 'test-model', timeoutMs: 5_000, maxRetries: 0 },
      },
    },
    env: {},
  }).config;
  const system = await createAios({ config });
  const built = await buildServer({ system, logger: false });
  const { key } = await createKey(system.data, {
    tenant: 'default',
    name: 'ask',
    scopes: ['chat'],
  });
  return {
    system,
    server: built,
    auth: { authorization: `Bearer ${key}` },
    async close() {
      await built.close();
      await system.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function listen(server: AiosServer): Promise<string> {
  if (!server.app.server.listening) await server.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

describe.each(testImplementations())('ask routes with a language model (%s)', (impl) => {
  let chat: ChatServer;
  let s: Awaited<ReturnType<typeof startOnlineServer>>;
  let base: string;

  beforeAll(async () => {
    chat = await startChatServer();
    s = await startOnlineServer(impl, chat);
    await s.system.memory.addMany(NOTES);
    base = await listen(s.server);
  });
  afterAll(async () => {
    await s.close();
    await chat.close();
  });
  afterEach(() => {
    chat.queue.length = 0;
  });

  const stream = (question: string) =>
    fetch(`${base}/v1/ask`, {
      method: 'POST',
      headers: { ...s.auth, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ question }),
    });

  /** How many questions the system finished with a failure (its metrics count them). */
  async function failedAsks(): Promise<number> {
    const text = await s.system.metrics.render();
    const line = text
      .split('\n')
      .find((l) => /operation="ask"/.test(l) && /outcome="error"/.test(l) && !l.startsWith('#'));
    return line ? Number(line.trim().split(/\s+/).at(-1)) : 0;
  }

  it("streams the model's reply: the sources it was given first, then its tokens, then done with usage", async () => {
    const res = await stream('When is the boiler serviced?');
    expect(res.status).toBe(200);
    const events = await readEvents(res.body as ReadableStream<Uint8Array>);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('sources');
    expect(names.at(-1)).toBe('done');
    expect(names.filter((n) => n === 'token').length).toBeGreaterThan(2);
    expect(names.indexOf('token')).toBeGreaterThan(names.lastIndexOf('sources'));
    const sources = json(events[0] as SseEvent).sources as SourceBody[];
    expect(sources.map((x) => x.text)).toContain(NOTES[0]);
    const done = json(events.at(-1) as SseEvent);
    expect(done).toMatchObject({ mode: 'llm', model: 'test-model' });
    expect(done.usage).toMatchObject({ completionTokens: expect.any(Number) });
    const text = events
      .filter((e) => e.event === 'token')
      .map((e) => json(e).text)
      .join('');
    expect(text).toMatch(/^You asked: When is the boiler serviced\?/);
    const stored = await s.system.data.messages.byExchange(done.id as string);
    expect(stored.find((m) => m.role === 'assistant')?.content).toBe(text);
  });

  it('ends with an error event, storing nothing, when the model fails after tokens went out', async () => {
    chat.queue.push({ kind: 'stream-cut', afterChunks: 4 });
    const before = await s.system.data.messages.count();
    const res = await stream('Where does the cat sleep?');
    const events = await readEvents(res.body as ReadableStream<Uint8Array>);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('sources');
    expect(names).toContain('token');
    expect(names.at(-1)).toBe('error');
    expect(json(events.at(-1) as SseEvent)).toMatchObject({
      error: { code: 'LLM_STREAM_INTERRUPTED', requestId: expect.any(String) },
    });
    expect(await s.system.data.messages.count()).toBe(before);
  });

  it('gives the offline answer when the model fails before its first token', async () => {
    chat.queue.push({ kind: 'status', status: 400 });
    const res = await stream('Where is the spare key?');
    const events = await readEvents(res.body as ReadableStream<Uint8Array>);
    const names = events.map((e) => e.event);
    expect(names.at(-1)).toBe('done');
    expect(names.indexOf('token')).toBeGreaterThan(names.lastIndexOf('sources'));
    const done = json(events.at(-1) as SseEvent);
    expect(done).toMatchObject({
      mode: 'offline',
      offlineReason: expect.stringMatching(/^LLM_HTTP_ERROR/),
    });
    const last = json(events[names.lastIndexOf('sources')] as SseEvent).sources as SourceBody[];
    expect(last[0]?.text).toBe(NOTES[2]);
  });

  it('aborts the answer when the client goes away mid-stream: the model call stops, nothing is stored', async () => {
    chat.queue.push({ kind: 'slow-stream', gapMs: 100 });
    const messages = await s.system.data.messages.count();
    const abandoned = chat.abandoned;
    const failed = await failedAsks();
    // node:http, so that exactly this connection goes (fetch may open a spare one, which
    // would hold the server's close).
    const seen = await new Promise<string[]>((resolve, reject) => {
      const names: string[] = [];
      const req = request(`${base}/v1/ask`, {
        method: 'POST',
        agent: false,
        headers: { ...s.auth, 'content-type': 'application/json', accept: 'text/event-stream' },
      });
      req.on('response', (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          for (const m of chunk.matchAll(/^event: (\w+)$/gm)) names.push(m[1] as string);
          if (names.includes('token')) {
            req.destroy();
            resolve(names);
          }
        });
      });
      req.on('error', (error) => {
        if (!names.includes('token')) reject(error);
      });
      req.end(JSON.stringify({ question: 'Where does the cat sleep?' }));
    });
    expect(seen.slice(0, 2)).toEqual(['sources', 'token']);
    // Acknowledged, not timed: the model saw its request closed, and the ask ended failed.
    await until(async () => chat.abandoned > abandoned && (await failedAsks()) > failed);
    expect(await s.system.data.messages.count()).toBe(messages);
  });

  it("refuses a question once the tenant's tokens for the day are spent (429, before any event)", async () => {
    const chat2 = await startChatServer();
    const limited = await startOnlineServer(impl, chat2, { tokenBudgetPerDay: 1 });
    try {
      const first = await limited.server.app.inject({
        method: 'POST',
        url: '/v1/ask',
        headers: limited.auth,
        payload: { question: 'When is the boiler serviced?' },
      });
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json().mode).toBe('llm');
      const asked = chat2.requests.length;
      const second = await limited.server.app.inject({
        method: 'POST',
        url: '/v1/ask',
        headers: { ...limited.auth, accept: 'text/event-stream' },
        payload: { question: 'And again?' },
      });
      expect(second.statusCode).toBe(429);
      expect(second.json().error.code).toBe('TOKEN_BUDGET_EXCEEDED');
      expect(second.headers['retry-after']).toMatch(/^\d+$/);
      expect(chat2.requests.length).toBe(asked);
    } finally {
      await limited.close();
      await chat2.close();
    }
  });
});

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('the condition never held');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
