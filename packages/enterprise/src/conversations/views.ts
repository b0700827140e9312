import type { Conversation, Message } from '@aios/data';
import { iso } from '../http/time.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function conversationView(c: Conversation) {
  return {
    id: c.id,
    title: c.title,
    metadata: c.metadata,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

/** What Luna keeps with an answer (`metadata.luna.exchange`): its mode and sources as shown. */
function lunaAnswer(m: Message) {
  const luna = m.metadata.luna;
  const exchange = isObject(luna) && luna.part === 'answer' ? luna.exchange : undefined;
  if (!isObject(exchange)) return { mode: null, sources: null };
  const given = exchange.mode;
  const mode: 'llm' | 'offline' | null = given === 'llm' || given === 'offline' ? given : null;
  const sources = Array.isArray(exchange.sources)
    ? exchange.sources.filter(isObject).map((s) => ({
        id: String(s.id),
        score: typeof s.score === 'number' ? s.score : 0,
        relevance: typeof s.relevance === 'number' ? s.relevance : null,
        // What the answer showed of it (absent in answers stored before it was kept).
        excerpt: typeof s.excerpt === 'string' ? s.excerpt : null,
        grounded: typeof s.grounded === 'boolean' ? s.grounded : null,
        source: typeof s.source === 'string' ? s.source : null,
        line: typeof s.line === 'number' ? s.line : null,
        namespace: typeof s.namespace === 'string' ? s.namespace : null,
      }))
    : null;
  return { mode, sources };
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
    ...lunaAnswer(m),
  };
}
