/**
 * The MCP memory server with the SDK's own client: over stdio (`aios mcp`, the built CLI,
 * spawned on a home) and over the streamable HTTP transport at `/mcp` of a live server.
 * Every tool, its schemas and annotations, bounded lists, bad arguments as error results
 * (the session goes on), changes made by other processes seen by an open session, and over
 * HTTP the keys, scopes, tenants, audit and DNS-rebinding protection.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAios, loadConfig } from '@aios/core';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './index.js';
import { type RunningServer, startServer } from './serve.js';
import { runAios } from './test-support/cli.js';
import { type McpTestClient, mcpOverHttp, mcpOverStdio } from './test-support/mcp-client.js';

const TOOLS = [
  'ask_luna',
  'memory_add',
  'memory_delete',
  'memory_get',
  'memory_history',
  'memory_list',
  'memory_search',
  'memory_update',
];

interface FragmentOut {
  id: string;
  namespace: string;
  text: string;
  truncated: boolean;
  metadata: Record<string, unknown>;
  version: number;
}

/** Every tool, as a client uses them, on an empty memory. */
async function everyTool(c: McpTestClient): Promise<void> {
  const { tools } = await c.client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
  for (const tool of tools) {
    expect(tool.inputSchema.type).toBe('object');
    expect(tool.outputSchema?.type).toBe('object');
    expect(tool.annotations).toBeDefined();
  }
  const hint = (name: string) => tools.find((t) => t.name === name)?.annotations;
  for (const name of ['memory_search', 'memory_get', 'memory_history', 'memory_list']) {
    expect(hint(name)?.readOnlyHint).toBe(true);
  }
  expect(hint('memory_add')).toMatchObject({ readOnlyHint: false, destructiveHint: false });
  expect(hint('memory_update')).toMatchObject({ readOnlyHint: false, destructiveHint: true });
  expect(hint('memory_delete')).toMatchObject({ readOnlyHint: false, destructiveHint: true });

  const added = await c.ok<{ id: string; status: string; fragment: FragmentOut }>('memory_add', {
    text: 'The spare key hangs behind the blue door of the shed.',
    namespace: 'home',
    metadata: { source: 'note', tags: ['keys'] },
  });
  expect(added.status).toBe('added');
  const again = await c.ok<{ id: string; status: string }>('memory_add', {
    text: 'The spare key hangs behind the blue door of the shed.',
    namespace: 'home',
  });
  expect(again).toMatchObject({ id: added.id, status: 'duplicate' });
  const got = await c.ok<FragmentOut>('memory_get', { id: added.id });
  expect(got).toMatchObject({
    id: added.id,
    namespace: 'home',
    text: 'The spare key hangs behind the blue door of the shed.',
    metadata: { source: 'note', tags: ['keys'] },
    version: 1,
  });
  const found = await c.ok<{ results: Array<FragmentOut & { score: number }> }>('memory_search', {
    query: 'where does the spare key hang',
    k: 3,
  });
  expect(found.results[0]?.id).toBe(added.id);
  expect(found.results[0]?.score).toBeGreaterThan(0);

  const answer = await c.ok<{
    answer: string;
    sources: Array<{ id: string }>;
    mode: string;
    conversationId: string;
  }>('ask_luna', { question: 'Where does the spare key hang?' });
  expect(answer.answer).toContain('blue door');
  expect(answer.sources.map((s) => s.id)).toContain(added.id);
  const followUp = await c.ok<{ conversationId: string }>('ask_luna', {
    question: 'And which door is it behind?',
    conversationId: answer.conversationId,
  });
  expect(followUp.conversationId).toBe(answer.conversationId);

  const updated = await c.ok<FragmentOut>('memory_update', {
    id: added.id,
    text: 'The spare key hangs behind the red door of the shed.',
  });
  expect(updated).toMatchObject({ id: added.id, version: 2 });
  expect((await c.ok<FragmentOut>('memory_get', { id: added.id })).text).toMatch(/red door/);

  // Lists come a bounded page at a time, texts cut; the whole text is one get away.
  const long = await c.ok<{ id: string }>('memory_add', {
    text: `A long note. ${'word '.repeat(600)}`,
    namespace: 'bulk',
  });
  for (let i = 0; i < 23; i++) {
    await c.ok('memory_add', { text: `Bulk note number ${i}.`, namespace: 'bulk' });
  }
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await c.ok<{ items: FragmentOut[]; nextCursor: string | null; total: number }>(
      'memory_list',
      { namespace: 'bulk', limit: 10, ...(cursor ? { cursor } : {}) },
    );
    expect(page.total).toBe(24);
    expect(page.items.length).toBeLessThanOrEqual(10);
    seen.push(...page.items.map((f) => f.id));
    cursor = page.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  expect(pages).toBe(3);
  expect(new Set(seen).size).toBe(24);
  const first = await c.ok<{ items: FragmentOut[] }>('memory_list', {
    namespace: 'bulk',
    limit: 1,
  });
  expect(first.items[0]).toMatchObject({ id: long.id, truncated: true });
  expect(first.items[0]?.text.length).toBeLessThanOrEqual(1_001);
  expect((await c.ok<FragmentOut>('memory_get', { id: long.id })).truncated).toBe(false);
  const filtered = await c.ok<{ items: FragmentOut[] }>('memory_list', {
    filter: { 'metadata.source': 'note' },
  });
  expect(filtered.items.map((f) => f.id)).toEqual([added.id]);

  expect(await c.ok('memory_delete', { id: added.id })).toEqual({ id: added.id, deleted: true });
  expect(await c.error('memory_get', { id: added.id })).toMatch(/^FRAGMENT_NOT_FOUND/);
  const history = await c.ok<{ total: number; versions: Array<{ kind: string; text: string }> }>(
    'memory_history',
    { id: added.id },
  );
  expect(history.total).toBe(3);
  expect(history.versions.map((v) => v.kind)).toEqual(['add', 'update', 'delete']);
  expect(history.versions[0]?.text).toMatch(/blue door/);
  const latest = await c.ok<{ versions: unknown[] }>('memory_history', { id: added.id, limit: 1 });
  expect(latest.versions).toHaveLength(1);
}

/** Bad arguments and unknown names give error results; the session goes on. */
async function badArguments(c: McpTestClient): Promise<void> {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no_such_tool', {}, /not found/],
    ['memory_add', {}, /validation/i],
    ['memory_add', { text: '' }, /validation/i],
    ['memory_add', { text: 'x', importance: 2 }, /validation/i],
    ['memory_search', { query: 'x', k: 0 }, /validation/i],
    ['memory_search', { query: 'x', k: 51 }, /validation/i],
    ['memory_search', { query: 'x', filter: { importance: { $regex: 'a' } } }, /INVALID_FILTER/],
    ['memory_list', { cursor: 'garbage' }, /^INVALID_INPUT/],
    ['memory_list', { limit: 1000 }, /validation/i],
    ['memory_update', { id: 'nope' }, /^INVALID_INPUT/],
    ['memory_update', { id: 'nope', text: 'x' }, /NOT_FOUND/],
    ['memory_get', { id: 'nope' }, /^FRAGMENT_NOT_FOUND/],
    ['memory_delete', { id: 'nope' }, /NOT_FOUND/],
    ['memory_history', { id: 'nope' }, /NOT_FOUND/],
    ['ask_luna', { question: 42 }, /validation/i],
    // As POST /v1/ask: an id that is no conversation is refused, not started under that id.
    ['ask_luna', { question: 'Where?', conversationId: 'made-up-id' }, /^CONVERSATION_NOT_FOUND/],
  ];
  for (const [name, args, message] of cases) {
    expect(await c.error(name, args), `${name} ${JSON.stringify(args)}`).toMatch(message);
  }
  expect((await c.client.listTools()).tools).toHaveLength(TOOLS.length);
}

describe.each(testImplementations())('MCP over stdio: aios mcp (%s)', (impl) => {
  let home: string;
  let c: McpTestClient;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'aios-mcp-stdio-'));
    c = await mcpOverStdio(home, { AIOS_NATIVE: impl }, ['--offline']);
  });
  afterAll(async () => {
    await c?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('offers every tool with schemas and annotations, and each works', async () => {
    await everyTool(c);
  });

  it('answers bad arguments with error results and goes on', async () => {
    await badArguments(c);
  });

  it.runIf(impl === 'native')(
    'sees what the CLI changes on the same home while the session is open',
    async () => {
      const note = join(home, 'boiler.md');
      writeFileSync(note, 'The boiler is serviced every October by Miller & Sons.\n');
      const ingested = runAios(home, ['ingest', note], { AIOS_NATIVE: impl });
      expect(ingested.code, ingested.stderr).toBe(0);
      const found = await c.ok<{ results: FragmentOut[] }>('memory_search', {
        query: 'when is the boiler serviced',
      });
      const id = found.results[0]?.id as string;
      expect(found.results[0]?.text).toMatch(/every October/);
      expect((await c.ok<FragmentOut>('memory_get', { id })).text).toMatch(/Miller/);
      const deleted = runAios(home, ['memory', 'delete', id], { AIOS_NATIVE: impl });
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(await c.error('memory_get', { id })).toMatch(/^FRAGMENT_NOT_FOUND/);
    },
  );

  it.runIf(impl === 'js')(
    'keeps the home to itself on js: the CLI is refused, naming the holder, and the session goes on',
    async () => {
      const refused = runAios(home, ['memory', 'stats'], { AIOS_NATIVE: impl });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/DATA_BUSY|LOCK_BUSY/);
      expect(refused.stderr).toMatch(/aios mcp|pid/);
      await c.ok('memory_add', { text: 'Still here after the refusal.' });
    },
  );
});

describe.each(testImplementations())('MCP over HTTP: /mcp on aios serve (%s)', (impl) => {
  let home: string;
  let running: RunningServer;
  const keys: Record<string, string> = {};
  const clients: McpTestClient[] = [];
  const connect = async (key: string) => {
    const client = await mcpOverHttp(running.url, key);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'aios-mcp-http-'));
    const config = loadConfig({
      overrides: { home, native: impl, logLevel: 'silent' },
      env: {},
    }).config;
    const setup = await createAios({ config, offline: true });
    const create = async (name: string, scopes: string[], tenant?: string) =>
      (await cli.keysCreate(setup, { name, scopes, ...(tenant ? { tenant } : {}) })).key;
    keys.full = await create('full', ['memory:read', 'memory:write', 'chat']);
    keys.reader = await create('reader', ['memory:read']);
    await cli.tenantsCreate(setup, { id: 'mcp-other' });
    keys.other = await create('other', ['memory:read', 'memory:write', 'chat'], 'mcp-other');
    await setup.close();
    running = await startServer({ config, port: 0, offline: true, logger: false });
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await running?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('offers every tool with schemas and annotations, and each works', async () => {
    await everyTool(await connect(keys.full as string));
  });

  it('answers bad arguments with error results and goes on', async () => {
    await badArguments(await connect(keys.full as string));
  });

  it("applies each tool's scope, the key's tenant, and audits the writes", async () => {
    const full = await connect(keys.full as string);
    const { id } = await full.ok<{ id: string }>('memory_add', {
      text: 'The wifi password hint is the name of the first cat.',
    });
    const reader = await connect(keys.reader as string);
    expect((await reader.ok<FragmentOut>('memory_get', { id })).text).toMatch(/wifi/);
    expect(await reader.error('memory_add', { text: 'not allowed' })).toMatch(
      /^FORBIDDEN: .*memory:write/,
    );
    expect(await reader.error('memory_delete', { id })).toMatch(/^FORBIDDEN/);
    expect(await reader.error('ask_luna', { question: 'What is the wifi hint?' })).toMatch(
      /^FORBIDDEN: .*chat/,
    );
    const other = await connect(keys.other as string);
    expect(await other.error('memory_get', { id })).toMatch(/^FRAGMENT_NOT_FOUND/);
    expect(await other.error('memory_delete', { id })).toMatch(/NOT_FOUND/);
    const theirs = await other.ok<{ results: unknown[] }>('memory_search', { query: 'wifi' });
    expect(theirs.results).toEqual([]);
    expect(await running.system.memory.get(id)).toBeDefined();
    // A conversation of another tenant, or one that does not exist, is not found (as on
    // POST /v1/ask), and none is made under the id given.
    const asked = await full.ok<{ conversationId: string }>('ask_luna', { question: 'Wifi?' });
    for (const conversationId of [asked.conversationId, 'made-up-id']) {
      expect(await other.error('ask_luna', { question: 'Wifi?', conversationId })).toMatch(
        /^CONVERSATION_NOT_FOUND/,
      );
    }
    const otherSystem = await running.server.context.tenants.system('mcp-other');
    expect(await otherSystem.data.conversations.get('made-up-id')).toBeUndefined();
    expect(await otherSystem.data.conversations.get(asked.conversationId)).toBeUndefined();

    await running.server.context.audit.flush();
    const entries = await running.system.data.audit.list({ afterSeq: 0, limit: 10_000 });
    const adds = entries.filter((e) => e.action === 'mcp.memory_add' && e.target === id);
    expect(adds).toHaveLength(1);
    expect(adds[0]).toMatchObject({ outcome: 'ok', tenantId: 'default' });
    const refused = entries.filter((e) => e.action === 'mcp.memory_delete');
    expect(refused.map((e) => [e.outcome, e.details.code])).toContainEqual([
      'refused',
      'FORBIDDEN',
    ]);
    expect(adds[0]?.details).toEqual({ via: 'mcp' });
    expect(entries.some((e) => e.action === 'mcp.memory_get')).toBe(false);
  });

  it('refuses a request without a valid key', async () => {
    await expect(mcpOverHttp(running.url, 'aios_sk_nope')).rejects.toMatchObject({ code: 401 });
  });

  it('refuses a Host or an Origin that is not this server (DNS rebinding)', async () => {
    const post = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL('/mcp', running.url);
        const req = httpRequest(
          url,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${keys.full}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              ...headers,
            },
          },
          (res) => {
            let body = '';
            res.on('data', (d: Buffer) => {
              body += d.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: {
              protocolVersion: '2025-11-25',
              capabilities: {},
              clientInfo: { name: 'x', version: '1' },
            },
          }),
        );
      });
    const evilHost = await post({ host: 'evil.example:7711' });
    expect(evilHost.status).toBe(403);
    expect(JSON.parse(evilHost.body).error.message).toMatch(/Host/);
    const evilOrigin = await post({ origin: 'http://evil.example' });
    expect(evilOrigin.status).toBe(403);
    expect(JSON.parse(evilOrigin.body).error.message).toMatch(/Origin/);
    const local = await post({ host: `localhost:${new URL(running.url).port}` });
    expect(local.status).toBe(200);
    expect(JSON.parse(local.body).result.serverInfo.name).toBe('aios-memory');
  });

  it('answers GET and DELETE with 405 (a stateless server has no stream to open)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${running.url}/mcp`, {
        method,
        headers: { authorization: `Bearer ${keys.full}` },
      });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    }
  });
});
