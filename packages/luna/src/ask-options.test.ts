/**
 * What a caller that holds the conversation gives `ask`: the history, a persona, sampling,
 * a namespace, and which model failures fall back to the offline answer.
 */
import { openMemory } from '@aios/carma';
import { testImplementations } from '@aios/utils/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { carmaMemory } from './carma.js';
import { ChatClient } from './llm/client.js';
import { createLuna, type Luna } from './luna.js';
import type { ChatServer } from './testing/chat-server.js';
import { InMemoryConversationStore } from './testing/conversation-store.js';
import { InMemoryMemory } from './testing/memory.js';
import { useChatServer } from './testing/use-chat-server.js';
import { createTokenizer } from './tokens/index.js';

const server = useChatServer();

type SentBody = ChatServer['requests'][number]['body'] & { stop?: string[] };
const lastSent = (): SentBody | undefined =>
  server.requests.filter((r) => r.method === 'POST').at(-1)?.body as SentBody | undefined;

describe.each(testImplementations())('ask with caller-held options (%s)', (impl) => {
  const tokenizer = createTokenizer({ native: impl });
  let store: InMemoryConversationStore;
  let luna: Luna;

  beforeEach(() => {
    const memory = new InMemoryMemory();
    memory.add('The cat sleeps on the red sofa most afternoons.', { id: 'cat' });
    store = new InMemoryConversationStore();
    luna = createLuna({
      memory,
      store,
      tokenizer,
      contextWindow: 4096,
      llm: new ChatClient({
        baseUrl: server.baseUrl,
        model: 'test-model',
        timeoutMs: 1_000,
        maxRetries: 0,
        tokenizer,
      }),
    });
  });

  it('puts the given history into the prompt in place of the stored turns', async () => {
    const stored = await luna.ask('Where does the cat sleep?', { conversationId: 'c' });
    const answer = await luna.ask('And in the evening?', {
      conversationId: 'c',
      history: [
        { question: 'Hello there', answer: 'Hello! How can I help?' },
        { question: 'Tell me about the cat', answer: 'She sleeps a lot.' },
      ],
    });
    expect(answer.prompt.history).toEqual(['turn-0', 'turn-1']);
    const sent = lastSent()?.messages ?? [];
    expect(sent.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ]);
    expect(sent.map((m) => m.content).slice(1)).toEqual([
      'Hello there',
      'Hello! How can I help?',
      'Tell me about the cat',
      'She sleeps a lot.',
      'And in the evening?',
    ]);
    expect(sent.some((m) => m.content === stored.answer)).toBe(false);
    // The exchange is stored in the conversation all the same.
    expect((await store.getExchange(answer.id))?.conversationId).toBe('c');
  });

  it('keeps the newest given turns when the whole history does not fit', async () => {
    const long = 'word '.repeat(400);
    const history = Array.from({ length: 30 }, (_, i) => ({
      question: `question ${i} ${long}`,
      answer: `answer ${i}`,
    }));
    const answer = await luna.ask('What now?', { history });
    expect(answer.prompt.history.length).toBeGreaterThan(0);
    expect(answer.prompt.history.length).toBeLessThan(30);
    expect(answer.prompt.history.at(-1)).toBe('turn-29');
    expect(answer.prompt.promptTokens + answer.prompt.replyTokens).toBeLessThanOrEqual(4096);
  });

  it('uses a given persona as the system prompt', async () => {
    await luna.ask('Where does the cat sleep?', { persona: 'You are a terse pirate.' });
    const system = lastSent()?.messages?.[0]?.content ?? '';
    expect(system.startsWith('You are a terse pirate.')).toBe(true);
    expect(system).not.toContain('You are Luna');
  });

  it("sends the caller's sampling in place of the personality's, and says why the model stopped", async () => {
    const answer = await luna.ask('Where does the cat sleep?', {
      sampling: { temperature: 1.5, topP: 0.5, maxTokens: 77, stop: ['END', '\n\n'] },
    });
    const sent = lastSent();
    expect(sent?.temperature).toBe(1.5);
    expect(sent?.top_p).toBe(0.5);
    expect(sent?.max_tokens).toBe(77);
    expect(sent?.stop).toEqual(['END', '\n\n']);
    expect(answer.settings.maxTokens).toBe(77);
    expect(answer.finishReason).toBe('stop');
    await luna.ask('Where does the cat sleep?');
    expect(lastSent()?.stop).toBeUndefined();
    expect(lastSent()?.temperature).not.toBe(1.5);
  });

  it('refuses bad sampling and history with INVALID_INPUT, storing nothing', async () => {
    const bad: Array<Parameters<Luna['ask']>[1]> = [
      { sampling: { temperature: 3 } },
      { sampling: { topP: 1.5 } },
      { sampling: { maxTokens: 0 } },
      { sampling: { stop: ['a', 'b', 'c', 'd', 'e'] } },
      { sampling: { stop: [''] } },
      { history: [{ question: 'q' }] as never },
      { history: 'no' as never },
    ];
    for (const options of bad) {
      await expect(luna.ask('Where does the cat sleep?', options)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    }
    expect(await store.recentExchanges('any', 10)).toEqual([]);
    expect(server.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('throws the failures `fallback` refuses, and answers offline for the others', async () => {
    server.queue.push({ kind: 'status', status: 500 });
    await expect(
      luna.ask('Where does the cat sleep?', {
        conversationId: 'f',
        fallback: (error) => error.code === 'LLM_UNREACHABLE',
      }),
    ).rejects.toMatchObject({ code: 'LLM_SERVER_ERROR' });
    expect(await store.recentExchanges('f', 10)).toEqual([]);

    server.queue.push({ kind: 'status', status: 500 });
    const offline = await luna.ask('Where does the cat sleep?', {
      fallback: (error) => error.code === 'LLM_SERVER_ERROR',
    });
    expect(offline.mode).toBe('offline');
    expect(offline.finishReason).toBeUndefined();
  });
});

describe.each(testImplementations())('namespaces per question on CARMA (%s)', (impl) => {
  it('searches the namespace asked for, and remembers the exchange there', async () => {
    const carma = await openMemory({ native: impl });
    try {
      await carma.add({ text: 'The blue key opens the shed.', namespace: 'alice' });
      await carma.add({ text: 'The red key opens the shed.', namespace: 'bob' });
      const memory = carmaMemory(carma);
      const alice = await memory.search('Which key opens the shed?', {
        k: 5,
        namespace: 'alice',
      });
      expect(alice.map((f) => f.text)).toEqual(['The blue key opens the shed.']);
      expect((await memory.search('Which key opens the shed?', { k: 5 })).length).toBe(2);

      const id = await memory.remember?.('Q: hi\nA: hello', {}, { namespace: 'alice' });
      expect((await carma.get(id ?? ''))?.namespace).toBe('alice');
      const luna = createLuna({
        memory,
        store: new InMemoryConversationStore(),
        tokenizer: createTokenizer({ native: impl }),
        llm: new ChatClient({ baseUrl: server.baseUrl, model: 'test-model', maxRetries: 0 }),
      });
      const answer = await luna.ask('Which key opens the shed?', { namespace: 'bob' });
      expect(answer.sources.map((s) => s.id)).toEqual(
        (await carma.list({ namespace: 'bob' })).map((f) => f.id).slice(0, 1),
      );
      const remembered = await carma.list({ filter: { exchangeId: answer.id } });
      expect(remembered.map((f) => f.namespace)).toEqual(['bob']);
    } finally {
      await carma.close();
    }
  });
});
