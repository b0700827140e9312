// The mix of requests the soak sends: what a server used by several people and programs
// sees over a day, including clients that go away mid-answer and requests that are wrong.

import { randomUUID } from 'node:crypto';

export interface Tenant {
  id: string;
  /** An admin key of the tenant. */
  key: string;
}

/** Counts of what the server answered, by status class (`2xx`, `4xx`, `aborted`...). */
export type Outcomes = Map<string, number>;

/**
 * Fragments of its own the soak keeps per tenant: past this, each write deletes one, so
 * that the memory stays the same size and what grows is what the server keeps, not data.
 */
const KEEP_IDS = 200;

/** Uploads go to this many paths, each ingest replacing what the last one there held. */
const UPLOAD_PATHS = 5;

type Op = (client: SoakClient, tenant: Tenant) => Promise<void>;

const MODES = ['hybrid', 'vector', 'lexical'] as const;

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

/** Reads a streamed body to its end, or cancels it after the first chunk (a client leaving). */
async function consume(response: Response, abortAfterFirst: boolean): Promise<void> {
  const reader = response.body?.getReader();
  if (!reader) return;
  for (;;) {
    const { done } = await reader.read();
    if (done) return;
    if (abortAfterFirst) {
      await reader.cancel();
      return;
    }
  }
}

export class SoakClient {
  requests = 0;
  private shownErrors = 0;
  readonly outcomes: Outcomes = new Map();
  private readonly ids = new Map<string, string[]>();

  constructor(
    readonly url: string,
    /** The server admin's key (default tenant). */
    readonly adminKey: string,
    private readonly words: readonly string[],
  ) {}

  private count(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  /** One request; its status is counted. A body object is sent as JSON. */
  async call(
    method: string,
    path: string,
    options: {
      key?: string | null;
      json?: unknown;
      body?: string | FormData;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? this.adminKey : options.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    this.requests += 1;
    try {
      const response = await fetch(`${this.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      this.count(`${Math.floor(response.status / 100)}xx`);
      // A server error is what a soak is for: the first ones are shown (a failing health
      // check, the event loop slowed by the forced collections, answers 503 by design).
      if (response.status >= 500 && path !== '/health' && this.shownErrors++ < 5) {
        const text = await response.clone().text();
        console.log(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
      }
      return response;
    } catch (error) {
      this.count('failed');
      throw error;
    }
  }

  /** A request whose body is read and dropped. */
  async send(method: string, path: string, options: Parameters<SoakClient['call']>[2] = {}) {
    const response = await this.call(method, path, options);
    await response.arrayBuffer();
    return response;
  }

  async json<T>(method: string, path: string, options: Parameters<SoakClient['call']>[2] = {}) {
    const response = await this.call(method, path, options);
    return { status: response.status, body: (await response.json()) as T };
  }

  query(): string {
    return Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => pick(this.words)).join(
      ' ',
    );
  }

  remember(tenant: string, id: string): void {
    const ids = this.ids.get(tenant) ?? [];
    ids.push(id);
    this.ids.set(tenant, ids);
  }

  /** One of the tenant's fragments to delete: always one once it holds `KEEP_IDS`. */
  forget(tenant: string): string | undefined {
    const ids = this.ids.get(tenant) ?? [];
    if (ids.length <= KEEP_IDS && Math.random() >= 0.4) return undefined;
    return ids.splice(Math.floor(Math.random() * ids.length), 1)[0];
  }

  known(tenant: string): string | undefined {
    const ids = this.ids.get(tenant) ?? [];
    return ids.length === 0 ? undefined : pick(ids);
  }
}

const search: Op = async (c, t) => {
  const filter = Math.random() < 0.3 ? { filter: { importance: { $gte: 0.2 } } } : {};
  const namespace = Math.random() < 0.2 ? { namespace: 'soak' } : {};
  await c.send('POST', '/v1/memory/search', {
    key: t.key,
    json: {
      query: c.query(),
      k: 1 + Math.floor(Math.random() * 10),
      mode: pick(MODES),
      explain: Math.random() < 0.3,
      ...filter,
      ...namespace,
    },
  });
};

const write: Op = async (c, t) => {
  const added = await c.json<{ fragment?: { id: string } }>('POST', '/v1/memory', {
    key: t.key,
    json: {
      text: `${c.query()} ${c.query()} note ${randomUUID()}`,
      namespace: Math.random() < 0.5 ? 'soak' : 'default',
      metadata: { source: `soak/${Math.floor(Math.random() * 20)}.md` },
      importance: Math.random(),
    },
  });
  if (added.body.fragment) c.remember(t.id, added.body.fragment.id);
  const id = c.known(t.id);
  if (id && Math.random() < 0.5) {
    await c.send('PATCH', `/v1/memory/${id}`, {
      key: t.key,
      json: { importance: Math.random(), text: `${c.query()} revised ${randomUUID()}` },
    });
  }
  const gone = c.forget(t.id);
  if (gone) await c.send('DELETE', `/v1/memory/${gone}`, { key: t.key });
};

const read: Op = async (c, t) => {
  const id = c.known(t.id);
  if (!id) return;
  await c.send('GET', `/v1/memory/${id}`, { key: t.key });
  await c.send('GET', `/v1/memory/${id}/history`, { key: t.key });
};

const ask: Op = async (c, t) => {
  await c.send('POST', '/v1/ask', { key: t.key, json: { question: `what about ${c.query()}?` } });
};

const askStream: Op = async (c, t) => {
  const abort = new AbortController();
  const response = await c.call('POST', '/v1/ask', {
    key: t.key,
    json: { question: `tell me about ${c.query()}` },
    headers: { accept: 'text/event-stream' },
    signal: abort.signal,
  });
  await consume(response, Math.random() < 0.4).catch(() => undefined);
};

const conversations: Op = async (c, t) => {
  const list = await c.json<{ items: Array<{ id: string }> }>('GET', '/v1/conversations?limit=5', {
    key: t.key,
  });
  const first = list.body.items?.[0];
  if (!first) return;
  await c.send('GET', `/v1/conversations/${first.id}`, { key: t.key });
  await c.send('GET', `/v1/conversations/${first.id}/messages`, { key: t.key });
  if (Math.random() < 0.2) await c.send('DELETE', `/v1/conversations/${first.id}`, { key: t.key });
};

const ingest: Op = async (c, t) => {
  const form = new FormData();
  const text = `# ${c.query()}\n\n${Array.from({ length: 20 }, () => c.query()).join('. ')}.\n`;
  form.append(
    'file',
    new Blob([text], { type: 'text/markdown' }),
    `soak-${Math.floor(Math.random() * UPLOAD_PATHS)}.md`,
  );
  const started = await c.json<{ id?: string; job?: { id: string } }>('POST', '/v1/ingest', {
    key: t.key,
    body: form,
  });
  const jobId = started.body.job?.id ?? started.body.id;
  if (!jobId) return;
  const roll = Math.random();
  if (roll < 0.25) {
    await c.send('DELETE', `/v1/jobs/${jobId}`, { key: t.key });
    return;
  }
  const response = await c.call('GET', `/v1/jobs/${jobId}/events`, { key: t.key });
  await consume(response, roll < 0.45).catch(() => undefined);
  await c.send('GET', `/v1/jobs/${jobId}`, { key: t.key });
};

const page: Op = async (c, t) => {
  let cursor: string | null = null;
  for (let i = 0; i < 3; i++) {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const got: { body: { nextCursor?: string | null } } = await c.json(
      'GET',
      `/v1/memory?limit=50${query}`,
      { key: t.key },
    );
    cursor = got.body.nextCursor ?? null;
    if (!cursor) return;
  }
};

const keys: Op = async (c) => {
  const made = await c.json<{ key: string; apiKey: { id: string } }>('POST', '/v1/keys', {
    json: { name: `soak-${randomUUID()}`, scopes: ['memory:read'] },
  });
  if (!made.body.key) return;
  await c.send('GET', '/v1/whoami', { key: made.body.key });
  await c.send('DELETE', `/v1/keys/${made.body.apiKey.id}`);
  // Refused from the next request on.
  await c.send('GET', '/v1/whoami', { key: made.body.key });
};

const badKeys: Op = async (c) => {
  const id = randomUUID().replaceAll('-', '').slice(0, 10);
  const key = pick([
    `aios_sk_${id}_${randomUUID().replaceAll('-', '')}`,
    `not-a-key-${id}`,
    `${c.adminKey.slice(0, -4)}${id.slice(0, 4)}`,
  ]);
  await c.send('POST', '/v1/memory/search', { key, json: { query: 'x' } });
  await c.send('GET', '/v1/status', { key: null });
};

const badInput: Op = async (c, t) => {
  const id = randomUUID();
  const requests: Array<() => Promise<unknown>> = [
    () => c.send('POST', '/v1/memory/search', { key: t.key, json: { query: '', k: 0 } }),
    () => c.send('POST', '/v1/memory', { key: t.key, json: { text: 'x', unknown: id } }),
    () => c.send('GET', `/v1/memory/${id}`, { key: t.key }),
    () => c.send('GET', `/v1/no-such-route/${id}`, { key: t.key }),
    () => c.send('GET', `/v1/jobs/job_${id.replaceAll('-', '')}`, { key: t.key }),
    () =>
      c.send('POST', '/v1/ask', {
        key: t.key,
        body: '{"question": ',
        headers: { 'content-type': 'application/json' },
      }),
    () => c.send('GET', `/v1/memory?limit=50&cursor=${id}`, { key: t.key }),
  ];
  await pick(requests)();
};

const observe: Op = async (c) => {
  await c.send('GET', '/health');
  await c.send('GET', '/v1/status');
};

const mcp: Op = async (c, t) => {
  const post = (body: unknown) =>
    c.send('POST', '/mcp', {
      key: t.key,
      json: body,
      headers: { accept: 'application/json, text/event-stream' },
    });
  await post({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'soak', version: '1' },
    },
  });
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  await post({
    jsonrpc: '2.0',
    id: 3,
    method: 'tools/call',
    params: { name: 'memory_search', arguments: { query: c.query(), k: 3 } },
  });
  if (Math.random() < 0.3) {
    await post({
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'ask_luna', arguments: { question: `what about ${c.query()}?` } },
    });
  }
  if (Math.random() < 0.2) await c.send('DELETE', '/mcp', { key: t.key });
};

const chat: Op = async (c, t) => {
  const stream = Math.random() < 0.5;
  const abort = new AbortController();
  const response = await c.call('POST', '/v1/chat/completions', {
    key: t.key,
    json: {
      model: 'luna',
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: `What do you remember about ${c.query()}?` },
      ],
    },
    signal: abort.signal,
  });
  await consume(response, stream && Math.random() < 0.4).catch(() => undefined);
};

/** The mix, by weight: mostly reads, as a memory is used. */
export const MIX: Array<{ name: string; weight: number; op: Op }> = [
  { name: 'search', weight: 30, op: search },
  { name: 'write', weight: 10, op: write },
  { name: 'read', weight: 6, op: read },
  { name: 'ask', weight: 6, op: ask },
  { name: 'ask-stream', weight: 6, op: askStream },
  { name: 'conversations', weight: 5, op: conversations },
  { name: 'ingest', weight: 3, op: ingest },
  { name: 'page', weight: 4, op: page },
  { name: 'keys', weight: 2, op: keys },
  { name: 'bad-keys', weight: 4, op: badKeys },
  { name: 'bad-input', weight: 6, op: badInput },
  { name: 'observe', weight: 3, op: observe },
  { name: 'mcp', weight: 5, op: mcp },
  { name: 'chat', weight: 6, op: chat },
];

/** One operation of `mix`, chosen by weight, on one of the tenants. */
export function nextOp(
  mix: typeof MIX,
  tenants: readonly Tenant[],
): { name: string; op: Op; tenant: Tenant } {
  let roll = Math.random() * mix.reduce((sum, entry) => sum + entry.weight, 0);
  const tenant = pick(tenants);
  for (const entry of mix) {
    roll -= entry.weight;
    if (roll < 0) return { ...entry, tenant };
  }
  const last = mix[mix.length - 1] as (typeof MIX)[number];
  return { ...last, tenant };
}
