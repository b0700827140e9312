import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { dataConversationStore } from './data.js';
import { useOfflineLuna } from './testing/use-offline-luna.js';

// A server answers in more conversations over its life than it may keep in memory.
const CONVERSATIONS = 1100;

describe.each(testImplementations())('conversations of a long-running store (%s)', (impl) => {
  const luna = useOfflineLuna(impl, () => ['The boiler is serviced every May.']);

  it('keeps a bounded number in memory, and still reads every one', async () => {
    const answer = await luna.current.ask('When is the boiler serviced?');
    const store = dataConversationStore(luna.current.data);
    const template = await store.getExchange(answer.id);
    if (!template) throw new Error('the answer was not stored');
    const usage = { promptTokens: 10, completionTokens: 5, totalTokens: 15, estimated: true };
    for (let i = 0; i < CONVERSATIONS; i++) {
      await store.recordExchange(
        {
          ...template,
          id: `exchange-${i}`,
          conversationId: `conversation-${i}`,
          question: `q${i}`,
        },
        { ...usage, exchangeId: `exchange-${i}`, model: 'm', createdAt: template.createdAt },
      );
    }
    expect(store.cachedConversations).toBeLessThanOrEqual(1000);
    // The first conversations left memory long ago: they are read from the store again.
    const first = await store.recentExchanges('conversation-0', 5);
    expect(first.map((e) => e.question)).toEqual(['q0']);
    expect(await store.hasConversation?.('conversation-1')).toBe(true);
    const counted = (await store.usage()).filter((u) => u.exchangeId.startsWith('exchange-'));
    expect(counted).toHaveLength(CONVERSATIONS);
    expect(store.cachedConversations).toBeLessThanOrEqual(1000);
  }, 60_000);
});
