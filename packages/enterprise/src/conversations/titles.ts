import type { Aios } from '@aios/core';
import type { Conversation } from '@aios/data';
import { conversationTitle } from '@aios/luna';

/** How far into a conversation its first question is looked for. */
const FIRST_MESSAGES = 5;

/**
 * The conversations with a title each: their own, else (stored before Luna titled them)
 * their first question as Luna would title it, else none. Only untitled ones cost a read,
 * of their first few messages.
 */
export async function withTitles(system: Aios, page: Conversation[]): Promise<Conversation[]> {
  return Promise.all(
    page.map(async (c) => {
      if (c.title !== null) return c;
      const first = await system.data.messages.list(c.id, { limit: FIRST_MESSAGES });
      const question = first.find((m) => m.role === 'user')?.content;
      const title = question === undefined ? '' : conversationTitle(question);
      return title === '' ? c : { ...c, title };
    }),
  );
}
