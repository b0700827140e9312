import { describe, expect, it } from 'vitest';
import { closedPort } from '../testing/chat-server.js';
import { useChatServer } from '../testing/use-chat-server.js';
import { createTokenizer } from '../tokens/index.js';
import { ChatClient } from './client.js';

const server = useChatServer();

const messages = [
  { role: 'system' as const, content: 'You are a test.' },
  { role: 'user' as const, content: 'What is the capital of France?' },
];

const client = (extra: ConstructorParameters<typeof ChatClient>[0] = {}) =>
  new ChatClient({
    baseUrl: server.baseUrl,
    model: 'test-model',
    timeoutMs: 2_000,
    retryBaseMs: 5,
    retryMaxMs: 20,
    ...extra,
  });

describe('ChatClient against a loopback chat completions server', () => {
  it('completes without streaming and reports the server usage', async () => {
    const result = await client({ apiKey: 'sk-test' }).chat({
      messages,
      temperature: 0.4,
      topP: 0.9,
      maxTokens: 77,
    });
    expect(result.content).toBe(
      'You asked: What is the capital of France? (with 0 memory fragments)',
    );
    expect(result.streamed).toBe(false);
    expect(result.attempts).toBe(1);
    expect(result.usage.estimated).toBe(false);
    expect(result.usage.totalTokens).toBe(
      result.usage.promptTokens + result.usage.completionTokens,
    );
    const sent = server.requests.at(-1);
    expect(sent?.headers.authorization).toBe('Bearer sk-test');
    expect(sent?.body).toMatchObject({
      model: 'test-model',
      temperature: 0.4,
      top_p: 0.9,
      max_tokens: 77,
    });
    expect(sent?.body.stream).toBeUndefined();
  });

  it('streams deltas over SSE and gets the usage from the final chunk', async () => {
    const deltas: string[] = [];
    const result = await client().chat({ messages, stream: true, onDelta: (d) => deltas.push(d) });
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(result.content);
    expect(result.content).toContain('capital of France');
    expect(result.streamed).toBe(true);
    expect(result.finishReason).toBe('stop');
    expect(result.usage.estimated).toBe(false);
    expect(server.requests.at(-1)?.body.stream_options).toEqual({ include_usage: true });
  });

  it('counts usage with the tokenizer when the server reports none', async () => {
    const tokenizer = createTokenizer({ native: 'js' });
    server.queue.push({ kind: 'ok', content: 'Paris.', usage: false });
    const result = await client({ tokenizer }).chat({ messages });
    expect(result.usage).toEqual({
      promptTokens:
        3 +
        4 * 2 +
        tokenizer.count(messages[0]?.content ?? '') +
        tokenizer.count(messages[1]?.content ?? ''),
      completionTokens: tokenizer.count('Paris.'),
      totalTokens: expect.any(Number),
      estimated: true,
    });
  });

  it('retries 429 and 500 with backoff, then succeeds', async () => {
    server.queue.push(
      { kind: 'status', status: 429, retryAfter: 1 },
      { kind: 'status', status: 500 },
    );
    const started = Date.now();
    const result = await client({ maxRetries: 2 }).chat({ messages });
    expect(result.attempts).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(10); // waited (Retry-After capped at 20 ms)
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
  });

  it('gives up after the retries with the status code', async () => {
    server.queue.push(
      { kind: 'status', status: 503 },
      { kind: 'status', status: 503 },
      { kind: 'status', status: 503 },
    );
    await expect(client({ maxRetries: 2 }).chat({ messages })).rejects.toMatchObject({
      code: 'LLM_SERVER_ERROR',
      details: expect.objectContaining({ status: 503, attempts: 3 }),
    });
    server.queue.push({ kind: 'status', status: 429 });
    await expect(client({ maxRetries: 0 }).chat({ messages })).rejects.toMatchObject({
      code: 'LLM_RATE_LIMITED',
    });
  });

  it('does not retry a client error such as 401', async () => {
    server.queue.push({ kind: 'status', status: 401 });
    await expect(client({ maxRetries: 3 }).chat({ messages })).rejects.toMatchObject({
      code: 'LLM_HTTP_ERROR',
      details: expect.objectContaining({ status: 401, attempts: 1 }),
    });
  });

  it('times out a server that never answers', async () => {
    server.queue.push({ kind: 'hang' });
    const started = Date.now();
    await expect(
      client({ timeoutMs: 150, maxRetries: 0 }).chat({ messages }),
    ).rejects.toMatchObject({
      code: 'LLM_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('times out a stream that goes silent, but not a slow steady one', async () => {
    server.queue.push({ kind: 'slow-stream', gapMs: 40 });
    const ok = await client({ timeoutMs: 300, maxRetries: 0 }).chat({ messages, stream: true });
    expect(ok.content).toContain('capital');
    server.queue.push({ kind: 'slow-stream', gapMs: 400 });
    await expect(
      client({ timeoutMs: 150, maxRetries: 0 }).chat({ messages, stream: true }),
    ).rejects.toMatchObject({ code: 'LLM_TIMEOUT' });
  });

  it('rejects malformed JSON, whole or in a stream event', async () => {
    server.queue.push({ kind: 'malformed' });
    await expect(client().chat({ messages })).rejects.toMatchObject({ code: 'LLM_BAD_RESPONSE' });
    server.queue.push({ kind: 'stream-malformed' });
    await expect(client().chat({ messages, stream: true })).rejects.toMatchObject({
      code: 'LLM_BAD_RESPONSE',
    });
  });

  it('reports a stream closed mid-way, retrying only when nothing was emitted yet', async () => {
    server.queue.push({ kind: 'stream-cut', afterChunks: 3 });
    const deltas: string[] = [];
    await expect(
      client({ maxRetries: 2 }).chat({ messages, stream: true, onDelta: (d) => deltas.push(d) }),
    ).rejects.toMatchObject({ code: 'LLM_STREAM_INTERRUPTED' });
    expect(deltas.length).toBe(2);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);

    server.queue.push({ kind: 'stream-cut', afterChunks: 1 });
    const result = await client({ maxRetries: 2 }).chat({ messages, stream: true });
    expect(result.attempts).toBe(2);
  });

  it('cancels with an AbortSignal, before and during a request', async () => {
    const early = new AbortController();
    early.abort();
    await expect(client().chat({ messages, signal: early.signal })).rejects.toMatchObject({
      code: 'LUNA_ABORTED',
    });
    server.queue.push({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(
      client({ timeoutMs: 5_000 }).chat({ messages, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'LUNA_ABORTED' });
  });

  // Slow: the cancel lands between two reads. Whole: the server writes every event at
  // once, so the cancel lands while the rest of the stream is already buffered.
  it.each([
    { stream: 'slow', behaviour: { kind: 'slow-stream', gapMs: 30 } as const, cancelAt: 2 },
    { stream: 'whole', behaviour: { kind: 'ok' } as const, cancelAt: 1 },
  ])('cancels a stream mid-way ($stream)', async ({ behaviour, cancelAt }) => {
    server.queue.push(behaviour);
    const controller = new AbortController();
    const deltas: string[] = [];
    await expect(
      client().chat({
        messages,
        stream: true,
        signal: controller.signal,
        onDelta: (d) => {
          deltas.push(d);
          if (deltas.length === cancelAt) controller.abort();
        },
      }),
    ).rejects.toMatchObject({ code: 'LUNA_ABORTED' });
    expect(deltas).toHaveLength(cancelAt);
  });

  it('probes the candidates in order and picks the first listed model', async () => {
    const port = await closedPort();
    const probing = new ChatClient({
      candidates: [`http://127.0.0.1:${port}/v1`, server.baseUrl],
      probeTimeoutMs: 500,
    });
    server.models = ['first-model', 'second-model'];
    expect(await probing.resolve()).toEqual({ baseUrl: server.baseUrl, model: 'first-model' });
    const result = await probing.chat({ messages });
    expect(result.model).toBe('first-model');
  });

  it('says which servers it tried when none answers, and when no model is listed', async () => {
    const port = await closedPort();
    const nothing = new ChatClient({
      candidates: [`http://127.0.0.1:${port}/v1`],
      probeTimeoutMs: 300,
    });
    await expect(nothing.chat({ messages })).rejects.toMatchObject({
      code: 'LLM_UNREACHABLE',
      message: expect.stringContaining(`127.0.0.1:${port}`),
    });
    server.models = [];
    await expect(new ChatClient({ baseUrl: server.baseUrl }).resolve()).rejects.toMatchObject({
      code: 'LLM_NO_MODEL',
    });
  });

  it('rejects bad options and bad requests', async () => {
    expect(() => new ChatClient({ baseUrl: 'ftp://x' })).toThrow(/baseUrl: expected an http/);
    expect(() => new ChatClient({ timeoutMs: -1 })).toThrow(/timeoutMs/);
    await expect(client().chat({ messages: [] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
