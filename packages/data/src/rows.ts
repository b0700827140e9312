/** Rows of the database as the store's types. */
import type { SqlRow } from './driver.js';
import type {
  Conversation,
  Feedback,
  FeedbackStats,
  Message,
  PersonalityState,
  Role,
  StoredEvent,
} from './types.js';
import { parseJson } from './validate.js';

export const ROLES: readonly Role[] = ['system', 'user', 'assistant', 'tool'];
export const MAX_TIME = 8.64e15;

export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null =>
  v === null || v === undefined ? null : Number(v);
export const strOrNull = (v: unknown): string | null =>
  v === null || v === undefined ? null : String(v);

export function toConversation(r: SqlRow): Conversation {
  return {
    id: String(r.id),
    title: strOrNull(r.title),
    metadata: parseJson(r.metadata),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function toMessage(r: SqlRow): Message {
  return {
    id: num(r.id),
    conversationId: String(r.conversation_id),
    role: r.role as Role,
    content: String(r.content),
    model: strOrNull(r.model),
    promptTokens: num(r.prompt_tokens),
    completionTokens: num(r.completion_tokens),
    metadata: parseJson(r.metadata),
    createdAt: num(r.created_at),
  };
}

export function toFeedback(r: SqlRow): Feedback {
  return {
    id: num(r.id),
    conversationId: strOrNull(r.conversation_id),
    messageId: numOrNull(r.message_id),
    rating: num(r.rating),
    comment: strOrNull(r.comment),
    metadata: parseJson(r.metadata),
    createdAt: num(r.created_at),
  };
}

export function toPersonality(r: SqlRow): PersonalityState {
  return {
    id: num(r.id),
    name: String(r.name),
    state: parseJson(r.state),
    createdAt: num(r.created_at),
  };
}

export function toEvent(r: SqlRow): StoredEvent {
  return {
    id: num(r.id),
    type: String(r.type),
    value: numOrNull(r.value),
    data: r.data === null ? null : parseJson(r.data),
    createdAt: num(r.created_at),
  };
}

export const stats = (r: SqlRow | undefined): FeedbackStats => ({
  count: num(r?.count ?? 0),
  average: numOrNull(r?.average),
  min: numOrNull(r?.min),
  max: numOrNull(r?.max),
});
