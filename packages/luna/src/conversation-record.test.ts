import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataConversationStore } from './data.js';
import { ChatClient } from './llm/client.js';
import { type OpenedLuna, openLuna } from './open.js';
import { EXCERPT_CHARS } from './recorded-source.js';
import { storedAnswer } from './stored-answer.js';
import { type ChatServer, startChatServer } from './testing/chat-server.js';
import { conversationTitle, TITLE_CHARS } from './title.js';

describe('conversationTitle', () => {
  it('keeps a short question whole, on one line, without trailing dots', () => {
    expect(conversationTitle('  Where does\nthe cat   sleep?  ')).toBe('Where does the cat sleep?');
    expect(conversationTitle('Remind me to call mum...')).toBe('Remind me to call mum');
    expect(conversationTitle('Really?!?')).toBe('Really?');
    expect(conversationTitle('?!')).toBe('');
  });

  it('cuts a long question at a word, without punctuation before the ellipsis', () => {
    const title = conversationTitle(
      'When I moved the boiler, the plumber, Hansen: what did he say about servicing it every May?',
    );
    expect(title).toBe('When I moved the boiler, the plumber, Hansen: what did he…');
    expect(title.length).toBeLessThanOrEqual(TITLE_CHARS);
    const commas = conversationTitle(`${'word '.repeat(10)}list, of, things, and more words here`);
    expect(commas).toMatch(/[a-z]…$/);
    expect(conversationTitle('x'.repeat(100))).toBe(`${'x'.repeat(TITLE_CHARS - 1)}…`);
  });
});

describe.each(testImplementations())('a stored conversation (%s)', (impl) => {
  let server: ChatServer;
  let dir: string;
  let luna: OpenedLuna;
  let noteId: string;
  beforeAll(async () => {
    server = await startChatServer();
    dir = mkdtempSync(join(tmpdir(), 'luna-conversation-record-'));
    const { config } = loadConfig({
      cwd: dir,
      env: { AIOS_HOME: dir },
      overrides: { native: impl },
    });
    luna = await openLuna({
      config,
      llm: new ChatClient({ baseUrl: server.baseUrl, model: 'test-model', maxRetries: 0 }),
      rememberExchanges: false,
    });
    const added = await luna.carma.add({
      text: '# Pets\n\nThe cat sleeps on the red sofa. She ignores the dog.',
      metadata: { source: 'notes/pets.md', line: 1, kind: 'markdown' },
    });
    noteId = added.fragment.id;
    await luna.carma.add(
      `The garden shed holds ${'rakes, spades and hoes, '.repeat(30)}all of it.`,
    );
  });
  afterAll(async () => {
    await luna?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is titled by its first question, and later turns leave the title', async () => {
    const first = await luna.ask('Where does the cat\nsleep, usually?');
    await luna.ask('And what does she ignore?', { conversationId: first.conversationId });
    const stored = await luna.data.conversations.get(first.conversationId);
    expect(stored?.title).toBe('Where does the cat sleep, usually?');
  });

  it('keeps with each answer what its sources showed, after the fragment is gone', async () => {
    const answer = await luna.ask('Where does the cat sleep?');
    const live = answer.sources.find((s) => s.id === noteId);
    expect(live?.quote).toContain('red sofa');
    await luna.carma.delete(noteId);
    const stored = await dataConversationStore(luna.data).getExchange(answer.id);
    const kept = stored?.sources.find((s) => s.id === noteId);
    expect(kept).toEqual({
      id: noteId,
      score: live?.score,
      relevance: live?.relevance,
      excerpt: live?.quote,
      grounded: true,
      source: 'notes/pets.md',
      line: live?.line,
      namespace: 'default',
    });
    expect(kept?.line).toBe(3);
    // Read back from the answer's message, as the CLI and the HTTP API show it.
    const messages = await luna.data.messages.list(answer.conversationId);
    const question = messages.find((m) => m.role === 'user');
    expect(question && storedAnswer(question)).toEqual({ mode: null, sources: null });
    const reply = messages.findLast((m) => m.role === 'assistant');
    expect(reply && storedAnswer(reply)).toEqual({
      mode: answer.mode,
      sources: stored?.sources.map((s) => ({
        id: s.id,
        score: s.score,
        relevance: s.relevance ?? null,
        excerpt: s.excerpt ?? null,
        grounded: s.grounded ?? null,
        source: s.source ?? null,
        line: s.line ?? null,
        chapter: s.chapter ?? null,
        namespace: s.namespace ?? null,
      })),
    });
  });

  it("keeps the chapter of a book's passage, to cite it by", async () => {
    const added = await luna.carma.add({
      text: 'The lighthouse keeper rowed out to the reef at dawn.',
      metadata: { source: 'books/keeper.epub', line: 41, kind: 'epub', chapter: 'The Storm' },
    });
    const answer = await luna.ask('Who rowed out to the reef?');
    const stored = await dataConversationStore(luna.data).getExchange(answer.id);
    expect(stored?.sources.find((s) => s.id === added.fragment.id)?.chapter).toBe('The Storm');
    const messages = await luna.data.messages.list(answer.conversationId);
    const reply = messages.findLast((m) => m.role === 'assistant');
    const read = reply && storedAnswer(reply).sources?.find((s) => s.id === added.fragment.id);
    expect(read?.chapter).toBe('The Storm');
    await luna.carma.delete(added.fragment.id);
  });

  it('bounds the excerpt of a long fragment', async () => {
    const answer = await luna.ask('What does the garden shed hold?');
    const stored = await dataConversationStore(luna.data).getExchange(answer.id);
    const excerpt = stored?.sources[0]?.excerpt ?? '';
    expect(excerpt).toMatch(/^The garden shed holds rakes/);
    expect(excerpt.length).toBeLessThanOrEqual(EXCERPT_CHARS);
  });
});
