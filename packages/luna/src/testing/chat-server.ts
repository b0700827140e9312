import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP server that speaks the OpenAI chat completions protocol (JSON and SSE
 * streaming) for tests, and misbehaves on request. For tests: exported by `@aios/luna/testing`.
 */
export type Behaviour =
  | { kind: 'ok'; content?: string; usage?: boolean; finishReason?: string }
  | { kind: 'status'; status: number; retryAfter?: number }
  | { kind: 'malformed' }
  | { kind: 'hang' }
  | { kind: 'stream-cut'; afterChunks: number }
  | { kind: 'stream-malformed' }
  | { kind: 'slow-stream'; gapMs: number };

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: {
    model?: string;
    messages?: { role: string; content: string }[];
    stream?: boolean;
    temperature?: number;
    top_p?: number;
    max_tokens?: number;
    stop?: string[];
    stream_options?: { include_usage?: boolean };
  };
}

export interface ChatServer {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Behaviours for the next chat requests, consumed in order; then `ok`. */
  queue: Behaviour[];
  models: string[];
  /** Chat requests closed before their answer was complete (the client went away, a cut). */
  readonly abandoned: number;
  close(): Promise<void>;
}

/** The reply the server gives: built from the request, so tests can check what was sent. */
export function replyFor(body: RecordedRequest['body']): string {
  const messages = body.messages ?? [];
  const question = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  const cited = system.match(/^\[\d+\]/gm)?.length ?? 0;
  return `You asked: ${question.slice(0, 200)} (with ${cited} memory fragments)`;
}

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

function chunk(id: string, model: string, delta: Record<string, unknown>, finish: string | null) {
  return `data: ${JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;
}

function pieces(content: string): string[] {
  return content.match(/\S+\s*/g) ?? [content];
}

export async function startChatServer(): Promise<ChatServer> {
  const requests: RecordedRequest[] = [];
  const queue: Behaviour[] = [];
  const state = { models: ['test-model'], abandoned: 0 };
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(parts).toString('utf8');
      const body = raw ? (JSON.parse(raw) as RecordedRequest['body']) : {};
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.method === 'GET' && req.url === '/v1/models') {
        return json(res, 200, { object: 'list', data: state.models.map((id) => ({ id })) });
      }
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        return json(res, 404, { error: { message: 'not found' } });
      }
      const behaviour = queue.shift() ?? { kind: 'ok' };
      res.on('close', () => {
        if (!res.writableFinished) state.abandoned++;
      });
      const model = body.model ?? 'test-model';
      const content =
        behaviour.kind === 'ok' && behaviour.content !== undefined
          ? behaviour.content
          : replyFor(body);
      const promptTokens = JSON.stringify(body.messages ?? []).length;
      const finish = (behaviour.kind === 'ok' && behaviour.finishReason) || 'stop';
      const usage = { prompt_tokens: promptTokens, completion_tokens: pieces(content).length };
      switch (behaviour.kind) {
        case 'status':
          res.writeHead(behaviour.status, {
            'content-type': 'application/json',
            ...(behaviour.retryAfter === undefined
              ? {}
              : { 'retry-after': String(behaviour.retryAfter) }),
          });
          res.end(JSON.stringify({ error: { message: `status ${behaviour.status}` } }));
          return;
        case 'malformed':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"choices": [ {"message": ');
          return;
        case 'hang':
          return; // never answers; closed with the server
        default:
          break;
      }
      if (!body.stream) {
        const withUsage = behaviour.kind !== 'ok' || behaviour.usage !== false;
        return json(res, 200, {
          id: 'chatcmpl-test',
          object: 'chat.completion',
          model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
          ...(withUsage
            ? { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }
            : {}),
        });
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const events = [chunk('c', model, { role: 'assistant', content: '' }, null)];
      for (const piece of pieces(content)) events.push(chunk('c', model, { content: piece }, null));
      events.push(chunk('c', model, {}, finish));
      const wantsUsage = body.stream_options?.include_usage === true;
      if (wantsUsage && (behaviour.kind !== 'ok' || behaviour.usage !== false)) {
        events.push(
          `data: ${JSON.stringify({ id: 'c', model, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } })}\n\n`,
        );
      }
      events.push('data: [DONE]\n\n');
      if (behaviour.kind === 'stream-cut') {
        res.write(events.slice(0, behaviour.afterChunks).join(''));
        const timer = setTimeout(() => res.socket?.destroy(), 20);
        timers.add(timer);
        return;
      }
      if (behaviour.kind === 'stream-malformed') {
        res.write(events.slice(0, 2).join(''));
        res.end('data: {"choices": [{"delta": \n\n');
        return;
      }
      if (behaviour.kind === 'slow-stream') {
        let i = 0;
        const next = () => {
          if (res.destroyed) return;
          if (i >= events.length) return res.end();
          res.write(events[i++]);
          const timer = setTimeout(next, behaviour.gapMs);
          timers.add(timer);
        };
        return next();
      }
      res.end(events.join(''));
    });
  });
  // Idle connections are closed by the client, never here: a server that closes one after
  // its 5 s default races a client reusing it on a loaded machine ("other side closed"),
  // which a test that allows no retry takes for a model that is down.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    queue,
    get abandoned() {
      return state.abandoned;
    },
    get models() {
      return state.models;
    },
    set models(value: string[]) {
      state.models = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port with nothing listening (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
