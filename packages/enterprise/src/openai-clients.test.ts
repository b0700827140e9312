/**
 * The official OpenAI clients — the `openai` npm package and the `openai` PyPI package —
 * against a live `aios serve` on loopback, with a loopback language model behind Luna:
 * non-streaming, streaming with usage, abort mid-stream, multi-turn history, bad requests,
 * keys and tenants. No AIOS-specific code on the client side but the base URL and the key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAios, loadConfig } from '@aios/core';
import { type ChatServer, startChatServer } from '@aios/luna/testing';
import { runProcess, testImplementations, testTool } from '@aios/utils/testing';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './index.js';
import { type RunningServer, startServer } from './serve.js';

// The tools virtualenv's Python (it has the openai package), not the system's.
const python = testTool('python3', { ...process.env, PATH: '' });
const SCRIPT = fileURLToPath(new URL('./test-support/openai_client.py', import.meta.url));

const runPython = (args: string[]) => runProcess(python as string, [SCRIPT, ...args]);

/** Resolves once `check` holds, polling (the condition is an observed fact, not a delay). */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.each(testImplementations())('official OpenAI clients against aios serve (%s)', (impl) => {
  let llm: ChatServer;
  let home: string;
  let running: RunningServer;
  let key: string;
  let otherKey: string;
  let fragmentId: string;
  let client: OpenAI;

  beforeAll(async () => {
    llm = await startChatServer();
    home = mkdtempSync(join(tmpdir(), 'aios-openai-clients-'));
    const config = loadConfig({
      overrides: {
        home,
        native: impl,
        logLevel: 'silent',
        luna: {
          llm: { baseUrl: llm.baseUrl, model: 'test-model', maxRetries: 0 },
          contextWindow: 4096,
        },
      },
      env: {},
    }).config;
    const setup = await createAios({ config, offline: true });
    key = (await cli.keysCreate(setup, { name: 'clients', scopes: ['chat'] })).key;
    await cli.tenantsCreate(setup, { id: 'clients-other' });
    otherKey = (
      await cli.keysCreate(setup, { name: 'other', scopes: ['chat'], tenant: 'clients-other' })
    ).key;
    fragmentId = (
      await setup.memory.add({
        text: 'The spare house key hangs behind the blue door of the shed.',
      })
    ).fragment.id;
    await setup.close();
    running = await startServer({ config, port: 0, logger: false });
    client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(async () => {
    await running?.close();
    await llm.close();
    rmSync(home, { recursive: true, force: true });
  });
  afterEach(() => {
    llm.queue.length = 0;
    llm.requests.length = 0;
  });

  const question = [{ role: 'user' as const, content: 'Where is the spare house key?' }];
  const aiosOf = (value: object) =>
    (value as { aios?: { sources: Array<{ id: string }>; conversation_id: string } }).aios;

  it('completes, streamed and not, with usage and sources (npm openai)', async () => {
    const plain = await client.chat.completions.create({ model: 'luna', messages: question });
    expect(plain.choices[0]?.message.content).toMatch(/^You asked: Where is the spare house key/);
    expect(plain.choices[0]?.finish_reason).toBe('stop');
    expect(plain.usage?.total_tokens).toBeGreaterThan(0);
    expect(aiosOf(plain)?.sources.map((s) => s.id)).toContain(fragmentId);

    const stream = await client.chat.completions.create({
      model: 'luna',
      messages: question,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: Array<string | null> = [];
    let usage: number | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage.total_tokens;
      const choice = chunk.choices[0];
      if (!choice) continue;
      text += choice.delta.content ?? '';
      finishes.push(choice.finish_reason);
    }
    expect(text).toMatch(/^You asked: Where is the spare house key\?/);
    expect(finishes.at(-1)).toBe('stop');
    expect(finishes.slice(0, -1).every((f) => f === null)).toBe(true);
    expect(usage).toBeGreaterThan(0);
  });

  it('sends the whole history to the model (npm openai)', async () => {
    await client.chat.completions.create({
      model: 'luna',
      messages: [
        { role: 'system', content: 'Answer in one sentence.' },
        { role: 'user', content: 'I lost my keys again.' },
        { role: 'assistant', content: 'Let us find the spare one.' },
        ...question,
      ],
    });
    const sent = llm.requests.find((r) => r.method === 'POST')?.body.messages ?? [];
    expect(sent.map((m) => m.content).slice(1)).toEqual([
      'I lost my keys again.',
      'Let us find the spare one.',
      'Where is the spare house key?',
    ]);
    expect(sent[0]?.content).toMatch(/^You are Luna.*\n\nAnswer in one sentence\./s);
  });

  it('cancels the answer and the model call when the client aborts mid-stream (npm openai)', async () => {
    const before = await running.system.data.messages.count();
    llm.queue.push({ kind: 'slow-stream', gapMs: 150 });
    const stream = await client.chat.completions.create({
      model: 'luna',
      messages: [{ role: 'user', content: 'Where is the spare house key, please?' }],
      stream: true,
    });
    let pieces = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) pieces++;
      if (pieces === 2) {
        stream.controller.abort();
        break;
      }
    }
    expect(pieces).toBe(2);
    // The cancellation reaches the model: its request is closed before its end.
    await until(() => llm.abandoned >= 1);
    // The server goes on; nothing of the cancelled answer was stored, only the next one.
    const after = await client.chat.completions.create({ model: 'luna', messages: question });
    expect(after.choices[0]?.finish_reason).toBe('stop');
    expect(await running.system.data.messages.count()).toBe(before + 2);
  });

  it('answers bad requests, keys and tenants with OpenAI errors the SDK raises (npm openai)', async () => {
    const failure = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        return error as InstanceType<typeof OpenAI.APIError>;
      }
      throw new Error('expected an error');
    };
    const empty = await failure(() =>
      client.chat.completions.create({ model: 'luna', messages: [] }),
    );
    expect(empty).toBeInstanceOf(OpenAI.BadRequestError);
    expect(empty.param).toBe('messages');
    const tooLong = await failure(() =>
      client.chat.completions.create({
        model: 'luna',
        messages: [{ role: 'user', content: 'lorem ipsum '.repeat(9_000) }],
      }),
    );
    expect(tooLong).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tooLong.code).toBe('context_length_exceeded');
    const badKey = await failure(() =>
      new OpenAI({
        baseURL: `${running.url}/v1`,
        apiKey: 'aios_sk_nope',
        maxRetries: 0,
      }).chat.completions.create({ model: 'luna', messages: question }),
    );
    expect(badKey).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(badKey.code).toBe('invalid_api_key');
    const unknown = await failure(() =>
      client.chat.completions.create({ model: 'gpt-4o', messages: question }),
    );
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.code).toBe('model_not_found');

    const other = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: otherKey, maxRetries: 0 });
    const theirs = await other.chat.completions.create({ model: 'luna', messages: question });
    expect(aiosOf(theirs)?.sources.map((s) => s.id)).not.toContain(fragmentId);

    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['luna']);
    const embeddings = await client.embeddings.create({ model: 'carma', input: ['one', 'two'] });
    expect(embeddings.data.map((e) => e.embedding.length)).toEqual([
      running.system.memory.embedder.dimension,
      running.system.memory.embedder.dimension,
    ]);
  });

  it.skipIf(!python)('works with the openai PyPI package', async () => {
    const { code, stdout, stderr } = await runPython([`${running.url}/v1`, key, otherKey]);
    expect(code, stderr).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.plain.content).toMatch(/^You asked: Where is the spare house key/);
    expect(out.plain.finish_reason).toBe('stop');
    expect(out.plain.total_tokens).toBeGreaterThan(0);
    expect(out.plain.sources).toContain(fragmentId);
    expect(out.stream.text).toMatch(/^You asked: Where is the spare house key\?/);
    expect(out.stream.finish_reasons.at(-1)).toBe('stop');
    expect(out.stream.finish_reasons.slice(0, -1).every((f: unknown) => f === null)).toBe(true);
    expect(out.stream.usage).toBeGreaterThan(0);
    expect(out.stream.last_choices).toBe(0);
    expect(out.stream.sources).toContain(fragmentId);
    expect(out.history.content).toMatch(/Where is the spare house key/);
    expect(out.errors.no_messages).toMatchObject({
      status: 400,
      class: 'BadRequestError',
      param: 'messages',
    });
    expect(out.errors.bad_role).toMatchObject({ status: 400, param: 'messages[0].role' });
    expect(out.errors.too_long).toMatchObject({ status: 400, code: 'context_length_exceeded' });
    expect(out.errors.unknown_model).toMatchObject({ status: 404, code: 'model_not_found' });
    expect(out.errors.bad_key).toMatchObject({
      status: 401,
      class: 'AuthenticationError',
      code: 'invalid_api_key',
    });
    expect(out.other_tenant.sources).not.toContain(fragmentId);
    expect(out.models).toEqual(['luna']);
    expect(out.embeddings).toHaveLength(2);
  });
});
