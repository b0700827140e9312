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
const state = { dim: 32, failNext: 0, stallMs: 0, requests: 0, batches: [] as number[], auth: '' };

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
    const { input, model } = JSON.parse(await body(req)) as { input: string[]; model: string };
    if (req.url !== '/v1/embeddings' || model !== 'test-embed') {
      res.writeHead(404).end('{"error":"not found"}');
      return;
    }
    if (state.failNext > 0) {
      state.failNext--;
      res.writeHead(503).end('{"error":"busy"}');
      return;
    }
    if (state.stallMs > 0) await new Promise((r) => setTimeout(r, state.stallMs));
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
