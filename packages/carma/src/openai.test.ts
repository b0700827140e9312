import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from './engine/index.js';
import { openMemory } from './memory.js';
import { OpenAIEmbedder } from './openai.js';

/**
 * A loopback OpenAI-compatible server: embeds with CARMA's own hashing embedder (a real,
 * deterministic embedding), and can be told to fail, stall or change dimension.
 */
const engine = createEngine({ native: 'js' });
const state = {
  dim: 32,
  failNext: 0,
  stallMs: 0,
  requests: 0,
  batches: [] as number[],
  auth: '',
  /** Each request's input and input_type, in arrival order. */
  seen: [] as Array<{ input: string[]; inputType: string | undefined }>,
  inFlight: 0,
  maxInFlight: 0,
  /** Requests of more texts than this are refused with 413 (0: none). */
  tooLargeAbove: 0,
};

async function body(req: IncomingMessage): Promise<string> {
  let data = '';
  for await (const chunk of req) data += chunk;
  return data;
}

let server: Server;
let baseUrl: string;
let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'carma-openai-'));
  server = createServer(async (req, res) => {
    state.requests++;
    state.auth = req.headers.authorization ?? '';
    const { input, model, input_type } = JSON.parse(await body(req)) as {
      input: string[];
      model: string;
      input_type?: string;
    };
    if (req.url !== '/v1/embeddings' || !model.startsWith('test-embed')) {
      res.writeHead(404).end('{"error":"not found"}');
      return;
    }
    if (state.failNext > 0) {
      state.failNext--;
      res.writeHead(503).end('{"error":"busy"}');
      return;
    }
    if (state.tooLargeAbove > 0 && input.length > state.tooLargeAbove) {
      res.writeHead(413).end('{"error":"payload too large"}');
      return;
    }
    state.seen.push({ input, inputType: input_type });
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    if (state.stallMs > 0) await new Promise((r) => setTimeout(r, state.stallMs));
    state.inFlight--;
    state.batches.push(input.length);
    const m = engine.embed(input, state.dim);
    const data = input.map((_, i) => ({
      object: 'embedding',
      index: i,
      embedding: Array.from(m.subarray(i * state.dim, (i + 1) * state.dim)),
    }));
    res.writeHead(200, { 'content-type': 'application/json' });
    // Out of order on purpose: clients must sort by index.
    res.end(JSON.stringify({ object: 'list', data: data.reverse(), model }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

describe('OpenAI-compatible embedder', () => {
  it('batches, takes the dimension from the first response and keeps order', async () => {
    state.dim = 32;
    state.batches = [];
    const e = new OpenAIEmbedder({ baseUrl, model: 'test-embed', batchSize: 2, apiKey: 'k1' });
    expect(e.dimension).toBeUndefined();
    const texts = ['alpha wing', 'beta flow', 'gamma heat', 'delta shock', 'epsilon noise'];
    const m = await e.embed(texts);
    expect(e.dimension).toBe(32);
    expect(state.batches).toEqual([2, 2, 1]);
    expect(state.auth).toBe('Bearer k1');
    expect(Array.from(m)).toEqual(Array.from(engine.embed(texts, 32)));
    expect(e.id).toBe(`openai:${baseUrl}#test-embed`);
  });

  it('retries busy answers, then fails clearly', async () => {
    const e = new OpenAIEmbedder({ baseUrl, model: 'test-embed', retries: 2 });
    state.failNext = 2;
    expect((await e.embed(['x'])).length).toBe(32);
    state.failNext = 5;
    await expect(e.embed(['x'])).rejects.toMatchObject({
      code: 'EMBEDDER_FAILED',
      message: expect.stringContaining('503'),
    });
    state.failNext = 0;
    const wrongModel = new OpenAIEmbedder({ baseUrl, model: 'nope', retries: 3 });
    const before = state.requests;
    await expect(wrongModel.embed(['x'])).rejects.toMatchObject({ code: 'EMBEDDER_FAILED' });
    expect(state.requests - before).toBe(1); // a 404 is not retried
  });

  it('times out', async () => {
    state.stallMs = 300;
    const e = new OpenAIEmbedder({ baseUrl, model: 'test-embed', timeoutMs: 50, retries: 0 });
    await expect(e.embed(['slow'])).rejects.toMatchObject({ code: 'EMBEDDER_TIMEOUT' });
    state.stallMs = 0;
  });

  it('reports a dimension change as a mismatch', async () => {
    state.dim = 32;
    const e = new OpenAIEmbedder({ baseUrl, model: 'test-embed' });
    await e.embed(['first']);
    state.dim = 48;
    await expect(e.embed(['second'])).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
    state.dim = 32;
    expect(() => new OpenAIEmbedder({ baseUrl: 'localhost:1', model: 'm' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it.each(testImplementations())('backs a memory (%s), recorded with its index', async (impl) => {
    state.dim = 32;
    const dir = join(root, impl);
    const m = await openMemory({
      dir,
      native: impl,
      embedder: new OpenAIEmbedder({ baseUrl, model: 'test-embed' }),
    });
    await m.addMany(['the wing flutters at high speed', 'photos are backed up on Sunday']);
    expect(m.stats()).toMatchObject({ dimension: 32, embedder: `openai:${baseUrl}#test-embed` });
    expect(
      (await m.search('wings fluttering', { k: 1, mode: 'vector' }))[0]?.fragment.text,
    ).toContain('wing');
    await m.close();
    await expect(openMemory({ dir, native: impl })).rejects.toMatchObject({
      code: 'EMBEDDER_MISMATCH',
    });
    const again = await openMemory({
      dir,
      native: impl,
      embedder: new OpenAIEmbedder({ baseUrl, model: 'test-embed' }),
    });
    expect(again.size).toBe(2);
    await again.close();
  });
});

describe('query and document embeddings', () => {
  it('puts the preset prefix before queries and documents', async () => {
    state.dim = 32;
    state.seen = [];
    // A model name of the e5 family: its preset is "query: " / "passage: ".
    const e = new OpenAIEmbedder({ baseUrl, model: 'test-embed/multilingual-e5-base' });
    expect(e.roles).toEqual({ query: { prefix: 'query: ' }, document: { prefix: 'passage: ' } });
    const doc = await e.embed(['wing flutter']);
    const query = await e.embed(['wing flutter'], 'query');
    expect(state.seen).toEqual([
      { input: ['passage: wing flutter'], inputType: undefined },
      { input: ['query: wing flutter'], inputType: undefined },
    ]);
    // The model sees other texts, so the vectors differ.
    expect(Array.from(doc)).toEqual(Array.from(engine.embed(['passage: wing flutter'], 32)));
    expect(Array.from(query)).toEqual(Array.from(engine.embed(['query: wing flutter'], 32)));
    await expect(e.embed(['x'], 'answer' as never)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('sends input_type when the split says so, and settings override the preset', async () => {
    state.seen = [];
    const e = new OpenAIEmbedder({
      baseUrl,
      model: 'test-embed-nomic-embed-text',
      query: { inputType: 'search_query' },
      document: { prefix: '' },
    });
    expect(e.roles).toEqual({
      query: { prefix: 'search_query: ', inputType: 'search_query' },
      document: {},
    });
    await e.embed(['a note']);
    await e.embed(['a question'], 'query');
    expect(state.seen).toEqual([
      { input: ['a note'], inputType: undefined },
      { input: ['search_query: a question'], inputType: 'search_query' },
    ]);
    const none = new OpenAIEmbedder({ baseUrl, model: 'test-embed-e5-small', preset: 'none' });
    expect(none.roles).toBeUndefined();
    expect(() => new OpenAIEmbedder({ baseUrl, model: 'x', preset: 'e6' as never })).toThrow(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: expect.stringContaining('preset'),
      }),
    );
  });

  it.each(testImplementations())(
    'a memory embeds fragments as documents and searches as a query, and records the split (%s)',
    async (impl) => {
      state.dim = 32;
      const dir = join(root, `roles-${impl}`);
      const e5 = () => new OpenAIEmbedder({ baseUrl, model: 'test-embed-e5-small' });
      const m = await openMemory({ dir, native: impl, embedder: e5() });
      state.seen = [];
      await m.addMany(['the wing flutters at high speed', 'photos are backed up on Sunday']);
      await m.search('wing flutter', { k: 1, mode: 'hybrid' });
      expect(state.seen.map((s) => s.input)).toEqual([
        ['passage: the wing flutters at high speed', 'passage: photos are backed up on Sunday'],
        ['query: wing flutter'],
      ]);
      expect(m.stats().roles).toEqual({
        query: { prefix: 'query: ' },
        document: { prefix: 'passage: ' },
      });
      await m.close();
      // The same model without the split made other vectors: refused, as a model change is.
      const plain = () =>
        new OpenAIEmbedder({ baseUrl, model: 'test-embed-e5-small', preset: 'none' });
      const refused = openMemory({ dir, native: impl, embedder: plain() });
      await expect(refused).rejects.toMatchObject({
        code: 'EMBEDDER_MISMATCH',
        message: expect.stringContaining('query/document split'),
      });
      const again = await openMemory({ dir, native: impl, embedder: e5() });
      expect(again.size).toBe(2);
      await again.close();
      state.seen = [];
      const moved = await openMemory({ dir, native: impl, embedder: plain(), reembed: true });
      expect(state.seen.flatMap((s) => s.input).sort()).toEqual([
        'photos are backed up on Sunday',
        'the wing flutters at high speed',
      ]);
      expect(moved.stats().roles).toBeNull();
      await moved.close();
      await expect(openMemory({ dir, native: impl, embedder: e5() })).rejects.toMatchObject({
        code: 'EMBEDDER_MISMATCH',
      });
    },
  );
});

describe('requests sized and pipelined to the server', () => {
  it('keeps `concurrency` requests in flight, in order', async () => {
    state.dim = 32;
    state.maxInFlight = 0;
    state.stallMs = 30;
    const e = new OpenAIEmbedder({ baseUrl, model: 'test-embed', batchSize: 2, concurrency: 3 });
    const texts = Array.from({ length: 14 }, (_, i) => `text number ${i}`);
    const m = await e.embed(texts);
    state.stallMs = 0;
    expect(state.maxInFlight).toBe(3);
    expect(Array.from(m)).toEqual(Array.from(engine.embed(texts, 32)));
  });

  it('grows requests while the server answers quickly, up to batchSize', async () => {
    state.batches = [];
    const e = new OpenAIEmbedder({ baseUrl, model: 'test-embed', batchSize: 64, concurrency: 1 });
    expect(e.batchSize).toBe(16);
    await e.embed(Array.from({ length: 16 + 32 + 64 + 64 }, (_, i) => `t${i}`));
    expect(state.batches).toEqual([16, 32, 64, 64]);
  });

  it('shrinks requests that take longer than a quarter of the timeout', async () => {
    state.batches = [];
    state.stallMs = 150;
    const e = new OpenAIEmbedder({
      baseUrl,
      model: 'test-embed',
      batchSize: 8,
      concurrency: 1,
      timeoutMs: 400,
    });
    await e.embed(Array.from({ length: 12 }, (_, i) => `t${i}`));
    state.stallMs = 0;
    expect(state.batches).toEqual([8, 4]);
  });

  it('splits a request the server finds too large (413), and cuts by characters', async () => {
    state.batches = [];
    state.tooLargeAbove = 3;
    const e = new OpenAIEmbedder({ baseUrl, model: 'test-embed', batchSize: 8, concurrency: 1 });
    const texts = Array.from({ length: 8 }, (_, i) => `text ${i}`);
    const m = await e.embed(texts);
    state.tooLargeAbove = 0;
    expect(Array.from(m)).toEqual(Array.from(engine.embed(texts, 32)));
    expect(state.batches).toEqual([2, 2, 2, 2]);
    state.batches = [];
    const bySize = new OpenAIEmbedder({
      baseUrl,
      model: 'test-embed',
      batchSize: 8,
      maxRequestChars: 25,
    });
    await bySize.embed(['a'.repeat(10), 'b'.repeat(10), 'c'.repeat(10), 'd'.repeat(40)]);
    expect(state.batches.sort()).toEqual([1, 1, 2]);
  });

  it('stops sending once a request failed', async () => {
    state.requests = 0;
    const e = new OpenAIEmbedder({
      baseUrl,
      model: 'test-embed',
      batchSize: 1,
      concurrency: 1,
      retries: 0,
    });
    state.failNext = 1;
    await expect(e.embed(['a', 'b', 'c', 'd'])).rejects.toMatchObject({ code: 'EMBEDDER_FAILED' });
    expect(state.requests).toBe(1);
  });
});

describe('the model is asked only for what the memory does not know', () => {
  it.each(testImplementations())(
    'known texts reuse their vectors; repeated queries are not embedded again (%s)',
    async (impl) => {
      state.dim = 32;
      const m = await openMemory({
        native: impl,
        embedder: new OpenAIEmbedder({ baseUrl, model: 'test-embed' }),
      });
      const texts = ['the wing flutters at high speed', 'photos are backed up on Sunday'];
      await m.addMany(texts);
      state.seen = [];
      // The same texts again, in their namespace (duplicates) and in another one.
      await m.addMany(texts);
      const copies = await m.addMany(texts.map((text) => ({ text, namespace: 'other' })));
      expect(copies.map((c) => c.status)).toEqual(['added', 'added']);
      const fresh = { text: 'a new text', namespace: 'third' };
      const [first] = await m.addMany([fresh, fresh]);
      await m.update(first?.fragment.id as string, { text: texts[0] as string });
      expect(state.seen.map((s) => s.input)).toEqual([['a new text']]);
      const hits = await m.search('wing flutters', { k: 5, mode: 'vector', namespace: 'other' });
      expect(hits[0]?.fragment.text).toBe(texts[0]);
      expect(hits[0]?.score).toBeCloseTo(
        (await m.search('wing flutters', { k: 5, mode: 'vector' }))[0]?.score as number,
        5,
      );
      // Two searches, one query embedded.
      expect(state.seen.map((s) => s.input).slice(1)).toEqual([['wing flutters']]);
      await m.close();
    },
  );

  it.each(testImplementations())(
    'a batch is embedded while the one before it is stored (%s)',
    async (impl) => {
      state.dim = 32;
      const m = await openMemory({
        native: impl,
        embedder: new OpenAIEmbedder({ baseUrl, model: 'test-embed', concurrency: 2 }),
      });
      await m.add('the first text fixes the dimension');
      state.maxInFlight = 0;
      state.stallMs = 100;
      const [a, b] = await Promise.all([
        m.addMany(['batch one, text one', 'batch one, text two']),
        m.addMany(['batch two, text one', 'batch two, text two']),
      ]);
      state.stallMs = 0;
      // Both batches were at the server at once, although adds are stored one at a time.
      expect(state.maxInFlight).toBe(2);
      expect([...(a ?? []), ...(b ?? [])].map((r) => r.status)).toEqual([
        'added',
        'added',
        'added',
        'added',
      ]);
      expect(m.size).toBe(5);
      await m.close();
    },
  );
});

describe('switching to another embedder while the memory serves', () => {
  it.each(testImplementations())(
    'embeds in the background, keeps serving with the old one, then swaps (%s)',
    async (impl) => {
      state.dim = 32;
      const dir = join(root, `switch-${impl}`);
      const memory = await openMemory({ dir, native: impl });
      await memory.addMany(['the wing flutters at high speed', 'photos are backed up on Sunday']);
      state.seen = [];
      state.stallMs = 150;
      const events: number[] = [];
      const next = new OpenAIEmbedder({ baseUrl, model: 'test-embed-e5-small', batchSize: 1 });
      const task = memory.switchEmbedder(next, { onProgress: (e) => events.push(e.done) });
      // Meanwhile: searches and adds go on with the built-in embedder.
      const [hit] = await memory.search('wing flutter', { k: 1, mode: 'vector' });
      expect(hit?.fragment.text).toContain('wing');
      expect(memory.stats()).toMatchObject({ embedder: 'carma-hash-v1', dimension: 384 });
      await memory.add('the cat sleeps on the warm laptop');
      await task.done;
      state.stallMs = 0;
      expect(memory.stats()).toMatchObject({
        embedder: `openai:${baseUrl}#test-embed-e5-small`,
        dimension: 32,
        roles: { query: { prefix: 'query: ' }, document: { prefix: 'passage: ' } },
        fragments: 3,
      });
      // Every fragment, the one added during the switch too, was embedded as a passage.
      expect(state.seen.flatMap((s) => s.input).sort()).toEqual([
        'passage: photos are backed up on Sunday',
        'passage: the cat sleeps on the warm laptop',
        'passage: the wing flutters at high speed',
      ]);
      expect(events.at(-1)).toBe(3);
      const [cat] = await memory.search('cat laptop', { k: 1, mode: 'vector' });
      expect(cat?.fragment.text).toContain('cat');
      await memory.close();
      // Recorded: the new embedder opens it, the old one is refused.
      const again = await openMemory({
        dir,
        native: impl,
        embedder: new OpenAIEmbedder({ baseUrl, model: 'test-embed-e5-small' }),
      });
      expect(again.size).toBe(3);
      await again.close();
      await expect(openMemory({ dir, native: impl })).rejects.toMatchObject({
        code: 'EMBEDDER_MISMATCH',
      });
    },
  );

  it.each(testImplementations())(
    'a failure or a cancel leaves the old embedder (%s)',
    async (impl) => {
      state.dim = 32;
      const memory = await openMemory({ native: impl });
      await memory.addMany(['alpha text', 'beta text']);
      state.failNext = 10;
      const failing = memory.switchEmbedder(
        new OpenAIEmbedder({ baseUrl, model: 'test-embed', retries: 0 }),
      );
      await expect(failing.done).rejects.toMatchObject({ code: 'EMBEDDER_FAILED' });
      state.failNext = 0;
      const cancelled = memory.switchEmbedder(new OpenAIEmbedder({ baseUrl, model: 'test-embed' }));
      cancelled.cancel();
      await expect(cancelled.done).rejects.toMatchObject({ code: 'SWITCH_CANCELLED' });
      expect(memory.stats()).toMatchObject({ embedder: 'carma-hash-v1', dimension: 384 });
      expect((await memory.search('alpha', { k: 1, mode: 'vector' }))[0]?.fragment.text).toBe(
        'alpha text',
      );
      await memory.close();
    },
  );
});
