/**
 * The OpenAI-compatible routes through `fastify.inject`, on both implementations, with a
 * loopback language model behind Luna: shapes clients rely on, the history, streaming,
 * errors in OpenAI's shape with the right status, keys, tenants and namespaces.
 */
import { type ChatServer, closedPort, startChatServer } from '@aios/luna/testing';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support/server.js';

interface Chunk {
  id: string;
  object: string;
  choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  aios?: {
    mode: string;
    offline_reason?: string;
    sources: Array<{ id: string }>;
    exchange_id: string;
    conversation_id: string;
  };
}

/** The `data:` payloads of an SSE body, in order. */
function events(body: string): string[] {
  return body
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

const PERSONAS = { pirate: 'You are a pirate who answers in one sentence.' };

describe.each(testImplementations())('OpenAI-compatible routes (%s)', (impl) => {
  let llm: ChatServer;
  let t: TestServer;
  let chatKey: string;
  let fragmentId: string;
  const post = (url: string, payload: unknown, key = chatKey) =>
    t.server.app.inject({ method: 'POST', url, headers: t.auth(key), payload: payload as object });
  const chat = (payload: Record<string, unknown>, key = chatKey) =>
    post('/v1/chat/completions', { model: 'luna', ...payload }, key);
  const sent = () => llm.requests.filter((r) => r.method === 'POST').at(-1)?.body;

  beforeAll(async () => {
    llm = await startChatServer();
    t = await startTestServer(
      impl,
      {
        luna: {
          llm: { baseUrl: llm.baseUrl, model: 'test-model', maxRetries: 0, timeoutMs: 5_000 },
          contextWindow: 2048,
          personas: PERSONAS,
        },
      },
      { offline: false },
    );
    chatKey = (await t.key(['chat'])).key;
    const added = await t.system.memory.add({
      text: 'The spare house key hangs behind the blue door of the shed.',
    });
    fragmentId = added.fragment.id;
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });
  afterEach(() => {
    llm.queue.length = 0;
    llm.requests.length = 0;
  });

  it("lists Luna's profiles as models, and finds one by id", async () => {
    const res = await t.server.app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: t.auth(chatKey),
    });
    expect(res.statusCode).toBe(200);
    const list = res.json();
    expect(list.object).toBe('list');
    expect(list.data.map((m: { id: string }) => m.id)).toEqual(['luna', 'luna:pirate']);
    for (const model of list.data) {
      expect(model).toEqual({
        id: model.id,
        object: 'model',
        created: expect.any(Number),
        owned_by: 'aios',
      });
    }
    const one = await t.server.app.inject({
      method: 'GET',
      url: '/v1/models/luna:pirate',
      headers: t.auth(chatKey),
    });
    expect(one.json().id).toBe('luna:pirate');
    const none = await t.server.app.inject({
      method: 'GET',
      url: '/v1/models/gpt-4o',
      headers: t.auth(chatKey),
    });
    expect(none.statusCode).toBe(404);
    expect(none.json()).toEqual({
      error: {
        message: expect.stringMatching(/gpt-4o.*luna, luna:pirate/),
        type: 'not_found_error',
        param: 'model',
        code: 'model_not_found',
      },
    });
  });

  it('answers a completion from memory, with sources in `aios`, and stores the exchange', async () => {
    const res = await chat({
      messages: [{ role: 'user', content: 'Where is the spare house key?' }],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'luna',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: expect.stringContaining('You asked:') },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
      aios: { mode: 'llm', grounded: true, namespace: null },
    });
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(body.aios.sources.map((s: { id: string }) => s.id)).toContain(fragmentId);
    expect(sent()?.messages?.[0]?.content).toContain('behind the blue door of the shed');
    const stored = await t.system.data.messages.list(body.aios.conversation_id);
    expect(stored.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Where is the spare house key?'],
      ['assistant', body.choices[0].message.content],
    ]);
  });

  it('uses the whole message history, and keeps a chat in one conversation', async () => {
    const opening = { role: 'user', content: 'Hello, I am planning the garden.' };
    const first = (await chat({ messages: [opening] })).json();
    const second = await chat({
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        opening,
        { role: 'assistant', content: first.choices[0].message.content },
        { role: 'user', content: 'And where is the spare key?' },
      ],
    });
    expect(second.statusCode).toBe(200);
    const messages = sent()?.messages ?? [];
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[0]?.content).toMatch(/Answer briefly\./);
    expect(messages[1]?.content).toBe(opening.content);
    expect(messages[2]?.content).toBe(first.choices[0].message.content);
    expect(messages[3]?.content).toBe('And where is the spare key?');
    const third = (
      await chat({
        messages: [
          { role: 'system', content: 'Answer briefly.' },
          opening,
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'next' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'and then?' },
        ],
      })
    ).json();
    expect(third.aios.conversation_id).toBe(second.json().aios.conversation_id);
  });

  it('streams chunks as OpenAI does: role first, null finish_reason until the end, usage, [DONE]', async () => {
    const res = await chat({
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Where is the spare house key?' }],
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const data = events(res.body);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const usage = chunks.at(-1);
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage?.total_tokens).toBeGreaterThan(0);
    const last = chunks.at(-2);
    expect(last?.choices[0]?.finish_reason).toBe('stop');
    expect(last?.aios?.sources.map((s) => s.id)).toContain(fragmentId);
    const middle = chunks.slice(0, -2);
    expect(middle.length).toBeGreaterThan(2);
    for (const c of middle) {
      expect(c.choices[0]?.finish_reason).toBeNull();
      expect(c.usage).toBeNull();
    }
    const text = middle.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toMatch(/^You asked: Where is the spare house key\?/);
    const stored = await t.system.data.messages.list(last?.aios?.conversation_id ?? '');
    expect(stored.at(-1)?.content).toBe(text);

    const plain = await chat({
      stream: true,
      messages: [{ role: 'user', content: 'Where is the spare house key?' }],
    });
    const plainChunks = events(plain.body)
      .slice(0, -1)
      .map((d) => JSON.parse(d) as Chunk);
    expect(plainChunks.every((c) => !('usage' in c))).toBe(true);
    expect(plainChunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it("passes sampling to the model and says `length` when the model's reply was cut", async () => {
    llm.queue.push({ kind: 'ok', finishReason: 'length' });
    const res = await chat({
      messages: [{ role: 'user', content: 'Tell me about the shed.' }],
      temperature: 0.3,
      top_p: 0.9,
      max_tokens: 40,
      stop: 'END',
      // Fields AIOS does not read are ignored, as OpenAI's clients expect.
      seed: 7,
      presence_penalty: 0.5,
      logit_bias: { '42': 1 },
      tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().choices[0].finish_reason).toBe('length');
    // The answer's call (Luna may ask the model again afterwards, to learn facts).
    const body = llm.requests.find((r) => r.method === 'POST')?.body;
    expect(body).toMatchObject({ temperature: 0.3, top_p: 0.9, max_tokens: 40, stop: ['END'] });
  });

  it('refuses bad requests with OpenAI errors naming the parameter, asking no model', async () => {
    const cases: Array<[Record<string, unknown>, string | null, RegExp]> = [
      [{ messages: [] }, 'messages', /at least one message/],
      [{ messages: undefined }, 'messages', /messages/],
      [{ messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role', /wizard/],
      [
        {
          messages: [
            { role: 'user', content: 'hi' },
            { role: 'tool', content: 'x', tool_call_id: 'a' },
          ],
        },
        'messages[1].role',
        /not supported/,
      ],
      [{ messages: [{ role: 'assistant', content: 'hi' }] }, 'messages', /last message/],
      [
        { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
        'messages[0].content[0]',
        /only text parts/,
      ],
      [{ messages: [{ role: 'user', content: 42 }] }, 'messages[0].content', /string/],
      [{ messages: [{ role: 'user', content: 'hi' }], n: 2 }, 'n', /1/],
      [{ messages: [{ role: 'user', content: 'hi' }], temperature: 3 }, 'temperature', /2/],
      [{ messages: [{ role: 'user', content: 'hi' }], model: '' }, 'model', /character/],
      [{ messages: 'hello' }, 'messages', /must be array/],
      // OpenAI refuses a budget below 1; 0 is not "no budget".
      [{ messages: [{ role: 'user', content: 'hi' }], max_tokens: 0 }, 'max_tokens', />= 1/],
      [
        { messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 0 },
        'max_completion_tokens',
        />= 1/,
      ],
      [
        { messages: [{ role: 'user', content: 'hi' }], max_tokens: '5' },
        'max_tokens',
        /must be integer or null/,
      ],
      [{ messages: [{ role: 'user', content: 'hi' }], stream: 'yes' }, 'stream', /boolean/],
      [
        { messages: [{ role: 'user', content: 'hi' }], stop: ['a', 3] },
        'stop[1]',
        /must be string/,
      ],
    ];
    for (const [payload, param, message] of cases) {
      const res = await chat(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      const { error } = res.json();
      expect(error.type).toBe('invalid_request_error');
      expect(error.param, JSON.stringify(payload)).toBe(param);
      expect(error.message).toMatch(message);
      expect(typeof error.code).toBe('string');
    }
    expect(sent()).toBeUndefined();
  });

  it('refuses an input longer than the context window as context_length_exceeded', async () => {
    for (const content of ['lorem ipsum '.repeat(2_000), 'x'.repeat(100_001)]) {
      const res = await chat({ messages: [{ role: 'user', content }] });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({
        type: 'invalid_request_error',
        code: 'context_length_exceeded',
        param: 'messages',
      });
    }
    expect(sent()).toBeUndefined();
  });

  it('answers a model failure before the first byte with an HTTP error, streamed or not', async () => {
    const before = (await t.system.data.conversations.list({ limit: 1000 })).length;
    llm.queue.push({ kind: 'status', status: 500 });
    const plain = await chat({ messages: [{ role: 'user', content: 'Where is the key?' }] });
    expect(plain.statusCode).toBe(502);
    expect(plain.json().error).toMatchObject({ type: 'api_error', code: 'LLM_SERVER_ERROR' });
    llm.queue.push({ kind: 'status', status: 500 });
    const streamed = await chat({
      stream: true,
      messages: [{ role: 'user', content: 'Where is the key?' }],
    });
    expect(streamed.statusCode).toBe(502);
    expect(streamed.headers['content-type']).toMatch(/application\/json/);
    expect(streamed.json().error.code).toBe('LLM_SERVER_ERROR');
    expect((await t.system.data.conversations.list({ limit: 1000 })).length).toBe(before);
  });

  it('ends a stream that breaks mid-way with an error event and [DONE]', async () => {
    llm.queue.push({ kind: 'stream-cut', afterChunks: 3 });
    const res = await chat({
      stream: true,
      messages: [{ role: 'user', content: 'Where is the spare house key?' }],
    });
    expect(res.statusCode).toBe(200);
    const data = events(res.body);
    expect(data.at(-1)).toBe('[DONE]');
    expect(JSON.parse(data.at(-2) ?? '{}').error).toMatchObject({
      type: 'api_error',
      code: 'LLM_STREAM_INTERRUPTED',
    });
  });

  it('uses the saved persona a model names, and the client system message after it', async () => {
    await chat({
      model: 'luna:pirate',
      messages: [
        { role: 'developer', content: 'Use British spelling.' },
        { role: 'user', content: 'Where is the spare key?' },
      ],
    });
    const system = sent()?.messages?.[0]?.content ?? '';
    expect(system.startsWith(`${PERSONAS.pirate}\n\nUse British spelling.`)).toBe(true);
  });

  it("searches the `user`'s namespace only, and remembers the exchange there", async () => {
    await t.system.memory.add({
      text: 'Alice keeps her bicycle in the cellar.',
      namespace: 'alice',
    });
    const alice = (
      await chat({ user: 'alice', messages: [{ role: 'user', content: 'Where is the bicycle?' }] })
    ).json();
    expect(alice.aios.namespace).toBe('alice');
    expect(alice.aios.sources.map((s: { namespace: string }) => s.namespace)).toEqual(['alice']);
    const bob = (
      await chat({ user: 'bob', messages: [{ role: 'user', content: 'Where is the bicycle?' }] })
    ).json();
    expect(bob.aios.sources).toEqual([]);
    await t.system.memory.refresh();
    const remembered = await t.system.memory.list({
      filter: { exchangeId: alice.aios.exchange_id },
    });
    expect(remembered.map((f) => f.namespace)).toEqual(['alice']);
  });

  it('enforces keys, scopes and tenants; other routes keep the AIOS error shape', async () => {
    const none = await t.server.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'luna', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'authentication_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    const reader = (await t.key(['memory:read'])).key;
    const refused = await chat({ messages: [{ role: 'user', content: 'hi' }] }, reader);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.type).toBe('permission_error');

    const otherKey = (await t.key(['chat'], { tenant: 'openai-other' })).key;
    const theirs = (
      await chat(
        { messages: [{ role: 'user', content: 'Where is the spare house key?' }] },
        otherKey,
      )
    ).json();
    expect(theirs.aios.sources).toEqual([]);
    expect(sent()?.messages?.[0]?.content).not.toContain('blue door');
    const other = await t.server.context.tenants.system('openai-other');
    expect(await other.data.messages.byExchange(theirs.aios.exchange_id)).toHaveLength(2);
    expect(await t.system.data.messages.byExchange(theirs.aios.exchange_id)).toEqual([]);

    const noRoute = await t.server.app.inject({
      method: 'GET',
      url: '/v1/models/luna/extra',
      headers: t.auth(chatKey),
    });
    expect(noRoute.statusCode).toBe(404);
    expect(noRoute.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'not_found_error',
        param: null,
        code: 'NOT_FOUND',
      },
    });
    const badParam = await t.server.app.inject({
      method: 'GET',
      url: `/v1/models/${'m'.repeat(201)}`,
      headers: t.auth(chatKey),
    });
    expect(badParam.json().error).toMatchObject({ param: 'model', type: 'invalid_request_error' });
    // Errors of the router itself (before any route is chosen) come in OpenAI's shape too,
    // and never echo a long path back whole.
    const badUrl = await t.server.app.inject({
      method: 'GET',
      url: '/v1/models/%ff',
      headers: t.auth(chatKey),
    });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'invalid_request_error',
        param: null,
        code: 'INVALID_URL',
      },
    });
    const long = `/v1/models/${'m'.repeat(600)}`;
    for (const url of [long, `${long}%ff`]) {
      const res = await t.server.app.inject({ method: 'GET', url, headers: t.auth(chatKey) });
      expect(res.statusCode, url.slice(-10)).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(Object.keys(res.json().error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(res.json().error.message.length).toBeLessThan(300);
    }

    const aiosShape = await t.server.app.inject({ method: 'GET', url: '/v1/keys' });
    expect(aiosShape.json().error).toMatchObject({ code: 'UNAUTHENTICATED', details: {} });
  });

  it('embeds texts with CARMA’s embedder, as floats or base64', async () => {
    const floats = await post('/v1/embeddings', { model: 'any', input: ['one', 'two'] });
    expect(floats.statusCode).toBe(200);
    const body = floats.json();
    const dimension = t.system.memory.embedder.dimension;
    expect(body.object).toBe('list');
    expect(body.model).toBe(t.system.memory.embedder.id);
    expect(body.data.map((d: { index: number }) => d.index)).toEqual([0, 1]);
    expect(body.data[0].embedding).toHaveLength(dimension as number);
    const direct = await t.system.memory.embedder.embed(['one'], 'document');
    expect(body.data[0].embedding[5]).toBeCloseTo(direct[5] as number, 6);
    const b64 = (
      await post('/v1/embeddings', { model: 'any', input: 'one', encoding_format: 'base64' })
    ).json();
    const bytes = Buffer.from(b64.data[0].embedding, 'base64');
    const decoded = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    expect(Array.from(decoded)).toEqual(Array.from(direct));
    for (const [payload, param, message] of [
      [{ model: 'm', input: [[1, 2, 3]] }, 'input[0]', /token arrays are not supported/],
      // A flat array of numbers is a token array to OpenAI, not three texts.
      [{ model: 'm', input: [1, 2, 3] }, 'input[0]', /token arrays are not supported/],
      [{ model: 'm', input: 12 }, 'input', /must be string or array/],
      [{ model: 'm', input: 'x'.repeat(200_001) }, 'input', /more than 200000 characters/],
      [{ model: 'm', input: Array(2049).fill('x') }, 'input', /more than 2048 items/],
      [{ model: 'm', input: '' }, 'input', /empty/],
      [{ model: 'm', input: 'x', dimensions: 3 }, 'dimensions', /dimensions/],
      [{ model: 'm', input: 'x', dimensions: '3' }, 'dimensions', /must be integer/],
      [{ model: 'm' }, 'input', /input/],
    ] as const) {
      const res = await post('/v1/embeddings', payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 100)).toBe(400);
      const { error } = res.json();
      expect(error.param).toBe(param);
      expect(error.message).toMatch(message);
      expect(error.type).toBe('invalid_request_error');
    }
  });

  it('refuses a completion once the tenant spent its tokens for the day', async () => {
    const budgeted = await startTestServer(
      impl,
      {
        luna: { llm: { baseUrl: llm.baseUrl, model: 'test-model', maxRetries: 0 } },
        server: { tokenBudgetPerDay: 1 },
      },
      { offline: false },
    );
    try {
      const key = (await budgeted.key(['chat'])).key;
      const ask = () =>
        budgeted.server.app.inject({
          method: 'POST',
          url: '/v1/chat/completions',
          headers: budgeted.auth(key),
          payload: { model: 'luna', messages: [{ role: 'user', content: 'hi' }] },
        });
      expect((await ask()).statusCode).toBe(200);
      const refused = await ask();
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
      expect(refused.json().error).toMatchObject({
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      });
    } finally {
      await budgeted.close();
    }
  });
});

describe.each(testImplementations())('OpenAI-compatible routes without a model (%s)', (impl) => {
  let t: TestServer;
  let key: string;
  beforeAll(async () => {
    t = await startTestServer(impl);
    key = (await t.key(['chat'])).key;
    await t.system.memory.add({ text: 'The boiler is serviced every October by Miller.' });
  });
  afterAll(() => t.close());
  const chat = (payload: Record<string, unknown>) =>
    t.server.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: t.auth(key),
      payload: {
        model: 'luna',
        messages: [{ role: 'user', content: 'When is the boiler serviced?' }],
        ...payload,
      },
    });

  it('returns the offline answer as a normal completion, marked in `aios`', async () => {
    const res = await chat({});
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.choices[0].message.content).toContain('every October');
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.aios).toMatchObject({ mode: 'offline', offline_reason: 'NO_LANGUAGE_MODEL' });
    expect(body.usage.completion_tokens).toBeGreaterThan(0);

    const streamed = await chat({ stream: true });
    const data = events(streamed.body);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(body.choices[0].message.content);
    expect(chunks.at(-1)?.aios?.mode).toBe('offline');
  });

  it('answers offline, marked LLM_UNREACHABLE, when the configured model cannot be reached', async () => {
    const port = await closedPort();
    const unreachable = await startTestServer(
      impl,
      { luna: { llm: { baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm', maxRetries: 0 } } },
      { offline: false },
    );
    try {
      await unreachable.system.memory.add({ text: 'The boiler is serviced every October.' });
      const res = await unreachable.server.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: unreachable.auth((await unreachable.key(['chat'])).key),
        payload: {
          model: 'luna',
          stream: true,
          messages: [{ role: 'user', content: 'When is the boiler serviced?' }],
        },
      });
      expect(res.statusCode).toBe(200);
      const chunks = events(res.body)
        .slice(0, -1)
        .map((d) => JSON.parse(d) as Chunk);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toContain('October');
      expect(chunks.at(-1)?.aios).toMatchObject({
        mode: 'offline',
        offline_reason: 'LLM_UNREACHABLE',
      });
    } finally {
      await unreachable.close();
    }
  });

  it('cuts the offline answer at `stop` and `max_tokens` as a model would', async () => {
    const full = (await chat({})).json().choices[0].message.content as string;
    const short = (await chat({ max_tokens: 3 })).json();
    expect(short.choices[0].finish_reason).toBe('length');
    expect(t.system.luna.tokenizer.count(short.choices[0].message.content)).toBeLessThanOrEqual(3);
    expect(full.startsWith(short.choices[0].message.content)).toBe(true);
    const stopped = (await chat({ stop: ['October'] })).json();
    expect(stopped.choices[0].message.content).toBe(full.slice(0, full.indexOf('October')));
    expect(stopped.choices[0].finish_reason).toBe('stop');
  });
});
