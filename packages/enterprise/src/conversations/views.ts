import type { Conversation, Message } from '@aios/data';
import { storedAnswer } from '@aios/luna';
import { iso } from '../http/time.js';

export function conversationView(c: Conversation) {
  return {
    id: c.id,
    title: c.title,
    metadata: c.metadata,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

export function messageView(m: Message) {
  const answerId = m.metadata.exchangeId;
  return {
    id: m.id,
    role: m.role,
    content: m.content,
    createdAt: iso(m.createdAt),
    model: m.model,
    promptTokens: m.promptTokens,
    completionTokens: m.completionTokens,
    answerId: typeof answerId === 'string' ? answerId : null,
    // What Luna kept with an answer: its mode and its sources as the answer showed them.
    ...storedAnswer(m),
  };
}
