import { describe, expect, it } from 'vitest';
import { openTestStore, storeTargets } from './test-support.js';

describe.each(storeTargets())('after a failed statement (%s)', (impl) => {
  it('the same statements work again', async () => {
    const store = await openTestStore(impl, ':memory:');
    const orphan = { conversationId: 'missing', role: 'user' as const, content: 'x' };
    await expect(store.messages.add([orphan])).rejects.toMatchObject({ code: 'DATA_CONSTRAINT' });
    const c = await store.conversations.create({});
    await store.messages.add([{ ...orphan, conversationId: c.id }]);
    await expect(store.feedback.add([{ rating: 3, messageId: 999 }])).rejects.toMatchObject({
      code: 'DATA_CONSTRAINT',
    });
    await store.feedback.add([{ rating: 3 }]);
    expect(await store.messages.count()).toBe(1);
    expect(await store.feedback.list()).toHaveLength(1);
    await store.close();
  });
});
