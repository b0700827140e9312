import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { ChatClient } from './llm/client.js';
import { createLuna, type Luna } from './luna.js';
import { InMemoryConversationStore } from './testing/conversation-store.js';
import { InMemoryMemory } from './testing/memory.js';
import { useChatServer } from './testing/use-chat-server.js';
import { createTokenizer } from './tokens/index.js';

const server = useChatServer();

/** What `onSources` and `onDelta` received, in the order they were called. */
type Call = { kind: 'sources'; ids: string[] } | { kind: 'delta'; text: string };

describe.each(testImplementations())('ask: sources before the reply (%s)', (impl) => {
  const tokenizer = createTokenizer({ native: impl });

  function luna(online: boolean): Luna {
    const memory = new InMemoryMemory();
    memory.add('The Eiffel Tower is in Paris. It was completed in 1889.', { id: 'tower' });
    memory.add('The cat sleeps on the red sofa most afternoons.', { id: 'cat' });
    const llm = online
      ? new ChatClient({
          baseUrl: server.baseUrl,
          model: 'test-model',
          timeoutMs: 1_000,
          maxRetries: 0,
          tokenizer,
        })
      : null;
    return createLuna({ memory, store: new InMemoryConversationStore(), tokenizer, llm });
  }

  async function ask(l: Luna, question: string) {
    const calls: Call[] = [];
    const answer = await l.ask(question, {
      onDelta: (text) => calls.push({ kind: 'delta', text }),
      onSources: (sources) => calls.push({ kind: 'sources', ids: sources.map((s) => s.id) }),
    });
    return { answer, calls };
  }

  it('gives the sources the model is given before the first piece of the reply', async () => {
    const { answer, calls } = await ask(luna(true), 'Where is the Eiffel Tower?');
    expect(answer.mode).toBe('llm');
    expect(calls[0]).toEqual({ kind: 'sources', ids: answer.sources.map((s) => s.id) });
    expect(answer.sources.map((s) => s.id)).toContain('tower');
    expect(calls.slice(1).every((c) => c.kind === 'delta')).toBe(true);
    expect(calls.length).toBeGreaterThan(2);
  });

  it('gives the offline answer its sources once, when no model is configured', async () => {
    const { answer, calls } = await ask(luna(false), 'Where is the Eiffel Tower?');
    expect(answer.mode).toBe('offline');
    expect(calls).toEqual([{ kind: 'sources', ids: answer.sources.map((s) => s.id) }]);
  });

  it("gives the offline answer's sources again when the model fails after streaming", async () => {
    server.queue.push({ kind: 'stream-cut', afterChunks: 3 });
    const { answer, calls } = await ask(luna(true), 'Where is the Eiffel Tower?');
    expect(answer.mode).toBe('offline');
    const kinds = calls.map((c) => c.kind);
    expect(kinds[0]).toBe('sources');
    expect(kinds).toContain('delta');
    expect(calls.at(-1)).toEqual({ kind: 'sources', ids: answer.sources.map((s) => s.id) });
  });
});
