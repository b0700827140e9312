/** Which conversation a question goes to: the rules of `AskOptions.conversationId` and `continue`. */
import { randomUUID } from 'node:crypto';
import { AiosError, invalidInput } from '@aios/utils';
import { LunaErrorCode } from './errors.js';
import type { ConversationStore } from './store.js';

async function exists(store: ConversationStore, conversationId: string): Promise<boolean> {
  if (store.hasConversation) return store.hasConversation(conversationId);
  return (await store.recentExchanges(conversationId, 1)).length > 0;
}

/**
 * The conversation id for a question: the one given (which must exist with `continue`),
 * else with `continue` the one with the latest exchange, else a new one.
 */
export async function conversationFor(
  store: ConversationStore,
  options: { conversationId?: string; continue?: boolean },
): Promise<string> {
  const { conversationId } = options;
  if (conversationId !== undefined) {
    if (typeof conversationId !== 'string' || conversationId.trim() === '') {
      throw invalidInput('conversationId', conversationId, 'a non-empty conversation id');
    }
    if (options.continue && !(await exists(store, conversationId))) {
      throw new AiosError(
        LunaErrorCode.CONVERSATION_NOT_FOUND,
        `no conversation with id ${conversationId}`,
        { details: { conversationId } },
      );
    }
    return conversationId;
  }
  if (options.continue) {
    const latest = store.latestConversation ? await store.latestConversation() : undefined;
    if (latest !== undefined) return latest;
  }
  return randomUUID();
}
