import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from './llm/client.js';
import { createLuna, type Luna } from './luna.js';
import { type OpenedLuna, openLuna } from './open.js';
import { type ChatServer, startChatServer } from './testing/chat-server.js';
import { InMemoryConversationStore } from './testing/conversation-store.js';
import { InMemoryMemory } from './testing/memory.js';

let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer();
});
afterAll(() => server.close());

const lastPrompt = () =>
  server.requests.filter((r) => r.method === 'POST').at(-1)?.body.messages ?? [];

/** The conversation rules, on the in-process store and on the SQLite store. */
describe.each(testImplementations())('conversations (%s)', (impl) => {
  let dir: string;
  let opened: OpenedLuna;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luna-conversations-'));
    const { config } = loadConfig({
      cwd: dir,
      env: { AIOS_HOME: dir },
      overrides: { native: impl },
    });
    opened = await openLuna({
      config,
      llm: new ChatClient({ baseUrl: server.baseUrl, model: 'test-model', maxRetries: 0 }),
      rememberExchanges: false,
    });
    await opened.carma.add('The cat sleeps on the red sofa. She ignores the dog.');
  });
  afterAll(async () => {
    await opened?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const lunas = (): Array<[string, Luna]> => [
    ['SQLite', opened],
    [
      'in process',
      createLuna({
        memory: new InMemoryMemory(),
        store: new InMemoryConversationStore(),
        llm: new ChatClient({ baseUrl: server.baseUrl, model: 'test-model', maxRetries: 0 }),
        native: impl,
      }),
    ],
  ];

  it('starts a new conversation for each question asked without one', async () => {
    for (const [, luna] of lunas()) {
      const a = await luna.ask('Where does the cat sleep?');
      const b = await luna.ask('Where does the cat sleep?');
      expect(a.conversationId).not.toBe(b.conversationId);
      expect(b.prompt.history).toEqual([]);
      expect(lastPrompt().map((m) => m.role)).toEqual(['system', 'user']);
    }
  });

  it('continues a conversation by id, with its earlier turns in the prompt', async () => {
    for (const [, luna] of lunas()) {
      const first = await luna.ask('Where does the cat sleep?');
      const next = await luna.ask('What does she ignore?', {
        conversationId: first.conversationId,
        continue: true,
      });
      expect(next.conversationId).toBe(first.conversationId);
      expect(next.prompt.history).toEqual([first.id]);
      expect(lastPrompt().map((m) => m.content)).toEqual([
        expect.any(String),
        'Where does the cat sleep?',
        first.answer,
        'What does she ignore?',
      ]);
    }
  });

  it('continues the latest conversation when asked to continue without an id', async () => {
    for (const [, luna] of lunas()) {
      const older = await luna.ask('Where does the cat sleep?', { conversationId: 'older' });
      const latest = await luna.ask('Where does the cat sleep?');
      expect(older.conversationId).toBe('older');
      const next = await luna.ask('What does she ignore?', { continue: true });
      expect(next.conversationId).toBe(latest.conversationId);
      expect(next.prompt.history).toEqual([latest.id]);
    }
  });

  it('refuses to continue a conversation that does not exist, and stores nothing', async () => {
    for (const [, luna] of lunas()) {
      await expect(
        luna.ask('Where does the cat sleep?', { conversationId: 'nope', continue: true }),
      ).rejects.toMatchObject({
        code: 'LUNA_CONVERSATION_NOT_FOUND',
        message: 'no conversation with id nope',
      });
      await expect(luna.ask('x', { conversationId: ' ' })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    }
    expect(await opened.data.conversations.get('nope')).toBeUndefined();
  });

  it('tells the model when memory holds nothing relevant, and passes only what is', async () => {
    const answer = await opened.ask('What is the capital of Peru?');
    expect(answer.grounded).toBe(false);
    expect(answer.sources).toEqual([]);
    const system = lastPrompt()[0]?.content ?? '';
    expect(system).toContain('Nothing relevant to this question was found in memory');
    expect(system).not.toContain('red sofa');
    const grounded = await opened.ask('Where does the cat sleep?');
    expect(grounded.grounded).toBe(true);
    expect(lastPrompt()[0]?.content).toContain('red sofa');
    expect(lastPrompt()[0]?.content).not.toContain('Nothing relevant');
  });
});
