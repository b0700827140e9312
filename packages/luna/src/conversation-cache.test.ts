import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataConversationStore } from './data.js';
import { type OpenedLuna, openLuna } from './open.js';
import type { ExchangeRecord } from './store.js';

// A server answers in more conversations over its life than it may keep in memory.
const CONVERSATIONS = 1100;

describe.each(testImplementations())('conversations of a long-running store (%s)', (impl) => {
  let dir: string;
  let luna: OpenedLuna;
  let template: ExchangeRecord;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luna-conversation-cache-'));
    const { config } = loadConfig({
      cwd: dir,
      env: { AIOS_HOME: dir },
      overrides: { native: impl },
    });
    luna = await openLuna({ config, llm: null });
    await luna.carma.add('The boiler is serviced every May.');
    const answer = await luna.ask('When is the boiler serviced?');
    template = (await dataConversationStore(luna.data).getExchange(answer.id)) as ExchangeRecord;
  });
  afterAll(async () => {
    await luna?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a bounded number in memory, and still reads every one', async () => {
    const store = dataConversationStore(luna.data);
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
