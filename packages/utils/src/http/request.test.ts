import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from './backoff.js';
import { httpRequest } from './request.js';

/** What the loopback server does with each request, in order; then 200 "ok". */
type Step =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'hang' }
  | { kind: 'destroy' }
  | { kind: 'sse'; events: string[]; gapMs: number; cutAfter?: number };

const queue: Step[] = [];
const hits: number[] = [];
const open = new Set<ServerResponse>();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    hits.push(Date.now());
    req.resume();
    const step = queue.shift();
    if (!step) return void res.writeHead(200).end('ok');
    if (step.kind === 'status') {
      const headers = step.retryAfter === undefined ? {} : { 'retry-after': step.retryAfter };
      return void res.writeHead(step.status, headers).end(`status ${step.status}`);
    }
    if (step.kind === 'hang') return void open.add(res);
    if (step.kind === 'destroy') return void req.socket.destroy();
    open.add(res);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const [i, event] of step.events.entries()) {
      if (i === step.cutAfter) return void req.socket.destroy();
      res.write(`data: ${event}\n\n`);
      await new Promise((r) => setTimeout(r, step.gapMs));
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
});
afterEach(() => {
  queue.length = 0;
  hits.length = 0;
  for (const res of open) res.destroy();
  open.clear();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const fast = { timeoutMs: 2_000, retryBaseMs: 5, retryMaxMs: 50 };

describe('httpRequest against a loopback server', () => {
  it('returns a 2xx body and counts one attempt', async () => {
    const response = await httpRequest(url, {}, fast);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
    expect(response.attempts).toBe(1);
  });

  it('retries 429, 5xx and dropped connections, up to the retry count', async () => {
    queue.push(
      { kind: 'status', status: 429 },
      { kind: 'status', status: 502 },
      { kind: 'destroy' },
    );
    const response = await httpRequest(url, {}, { ...fast, retries: 3 });
    expect(response.attempts).toBe(4);
    expect(hits).toHaveLength(4);

    hits.length = 0;
    queue.push(
      { kind: 'status', status: 503 },
      { kind: 'status', status: 503 },
      { kind: 'status', status: 503 },
    );
    await expect(httpRequest(url, {}, { ...fast, retries: 1 })).rejects.toMatchObject({
      code: 'HTTP_STATUS',
      details: expect.objectContaining({ status: 503, attempts: 2, body: 'status 503' }),
    });
    expect(hits).toHaveLength(2);
  });

  it('does not retry a client error', async () => {
    queue.push({ kind: 'status', status: 404 });
    await expect(httpRequest(url, {}, { ...fast, retries: 3 })).rejects.toMatchObject({
      code: 'HTTP_STATUS',
      details: expect.objectContaining({ status: 404, attempts: 1 }),
    });
    expect(hits).toHaveLength(1);
  });

  it('reports an unreachable server as HTTP_NETWORK', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      httpRequest(`http://127.0.0.1:${port}/`, {}, { ...fast, retries: 1 }),
    ).rejects.toMatchObject({
      code: 'HTTP_NETWORK',
      details: expect.objectContaining({ attempts: 2 }),
    });
  });

  it('says that a port fetch refuses (9, a blocked port) is the reason, naming it', async () => {
    await expect(
      httpRequest('http://127.0.0.1:9/v1/models', {}, { ...fast, retries: 0 }),
    ).rejects.toMatchObject({
      code: 'HTTP_NETWORK',
      message:
        'http://127.0.0.1:9/v1/models: port 9 is one that fetch refuses to connect to (it is reserved for another protocol): give the server another port',
    });
  });

  it('honours Retry-After, bounded by retryMaxMs', async () => {
    queue.push({ kind: 'status', status: 429, retryAfter: '1' });
    await httpRequest(url, {}, { ...fast, retryBaseMs: 1, retryMaxMs: 5_000 });
    expect((hits[1] ?? 0) - (hits[0] ?? 0)).toBeGreaterThanOrEqual(950);

    hits.length = 0;
    queue.push({ kind: 'status', status: 503, retryAfter: '120' });
    const started = Date.now();
    await httpRequest(url, {}, { ...fast, retryBaseMs: 1, retryMaxMs: 100 });
    expect(hits).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('times out a silent server, once per attempt', async () => {
    queue.push({ kind: 'hang' }, { kind: 'hang' });
    const started = Date.now();
    await expect(
      httpRequest(url, {}, { ...fast, timeoutMs: 100, retries: 1 }),
    ).rejects.toMatchObject({
      code: 'HTTP_TIMEOUT',
      details: expect.objectContaining({ timeoutMs: 100, attempts: 2 }),
    });
    expect(hits).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('cancels with the AbortSignal, before and during a request', async () => {
    const early = new AbortController();
    early.abort();
    await expect(httpRequest(url, {}, { ...fast, signal: early.signal })).rejects.toMatchObject({
      code: 'HTTP_ABORTED',
    });
    queue.push({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(
      httpRequest(url, {}, { ...fast, timeoutMs: 5_000, signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'HTTP_ABORTED',
      details: expect.objectContaining({ attempts: 1 }),
    });
  });

  it('cancels the wait between retries', async () => {
    queue.push({ kind: 'status', status: 503, retryAfter: '60' });
    const controller = new AbortController();
    const pending = httpRequest(
      url,
      {},
      { ...fast, retryMaxMs: 60_000, signal: controller.signal },
    );
    while (hits.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'HTTP_ABORTED' });
    expect(hits).toHaveLength(1);
  });

  it('reads server-sent events under an idle timeout that each chunk restarts', async () => {
    queue.push({ kind: 'sse', events: ['a', 'b', 'c', 'd'], gapMs: 60 });
    const response = await httpRequest(url, {}, { ...fast, timeoutMs: 200 });
    const seen: string[] = [];
    for await (const data of response.events()) seen.push(data);
    expect(seen).toEqual(['a', 'b', 'c', 'd']);

    queue.push({ kind: 'sse', events: ['a', 'b'], gapMs: 500 });
    const silent = await httpRequest(url, {}, { ...fast, timeoutMs: 150 });
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const data of silent.events()) got.push(data);
      })(),
    ).rejects.toMatchObject({ code: 'HTTP_TIMEOUT' });
    expect(got).toEqual(['a']);
  });

  it('does not retry once a streamed body has started', async () => {
    queue.push({ kind: 'sse', events: ['a', 'b', 'c'], gapMs: 10, cutAfter: 2 });
    const response = await httpRequest(url, {}, { ...fast, retries: 3 });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const data of response.events()) seen.push(data);
      })(),
    ).rejects.toMatchObject({ code: 'HTTP_BODY_INTERRUPTED' });
    expect(seen).toEqual(['a', 'b']);
    expect(hits).toHaveLength(1);
  });

  it('cancels a stream mid-way with the AbortSignal', async () => {
    queue.push({ kind: 'sse', events: ['a', 'b', 'c', 'd'], gapMs: 30 });
    const controller = new AbortController();
    const response = await httpRequest(url, {}, { ...fast, signal: controller.signal });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const data of response.events()) {
          seen.push(data);
          if (seen.length === 2) controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: 'HTTP_ABORTED' });
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('backoff', () => {
  it('doubles with jitter, at least Retry-After, at most the cap', () => {
    expect(backoffDelay(0, 100, 10_000, 0, () => 0)).toBe(50);
    expect(backoffDelay(3, 100, 10_000, 0, () => 1)).toBe(800);
    expect(backoffDelay(0, 100, 10_000, 3_000, () => 1)).toBe(3_000);
    expect(backoffDelay(10, 100, 2_000, 60_000, () => 1)).toBe(2_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5_000);
  });
});
