import type { Aios } from '@aios/core';
import type { Conversation } from '@aios/data';
import { Type } from 'typebox';
import type { RouteModule } from '../context.js';
import { withTitles } from '../conversations/titles.js';
import { conversationView, messageView } from '../conversations/views.js';
import { apiError } from '../http/errors.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../pagination/cursor.js';
import { IdParams, Page } from '../schemas/common.js';
import { ConversationView, ListQuery, MessageView } from '../schemas/conversations.js';
import { systemOf } from './tenant.js';

const TAGS = ['conversations'];

const notFound = (id: string) =>
  apiError('CONVERSATION_NOT_FOUND', `no conversation with id ${JSON.stringify(id)}`, { id });

async function mustExist(system: Aios, id: string) {
  const conversation = await system.data.conversations.get(id);
  if (!conversation) throw notFound(id);
  return conversation;
}

/** The conversations of the tenant (Luna's exchanges, and anything else stored as one). */
export const conversationRoutes: RouteModule = (api, ctx) => {
  api.get(
    '/conversations',
    {
      config: { access: 'chat' },
      schema: {
        summary: 'Conversations, most recently active first, a page at a time',
        tags: TAGS,
        querystring: ListQuery,
        response: { 200: Page(ConversationView) },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const { limit = 50, cursor } = request.query;
      let after: { updatedAt: number; id: string } | undefined;
      if (cursor !== undefined) {
        const p = decodeCursor('conversations', cursor);
        if (!Number.isSafeInteger(p.u) || typeof p.id !== 'string' || p.id === '') {
          throw invalidCursor(cursor);
        }
        after = { updatedAt: p.u as number, id: p.id };
      }
      // Keyset after the last one listed: deleting conversations between pages skips no other.
      const page = await system.data.conversations.list({ limit, ...(after ? { after } : {}) });
      const last = page.at(-1);
      return {
        items: (await withTitles(system, page)).map(conversationView),
        nextCursor:
          page.length === limit && last
            ? encodeCursor('conversations', { u: last.updatedAt, id: last.id })
            : null,
      };
    },
  );

  api.get(
    '/conversations/:id',
    {
      config: { access: 'chat' },
      schema: {
        summary: 'One conversation',
        tags: TAGS,
        params: IdParams,
        response: { 200: ConversationView },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const [titled] = await withTitles(system, [await mustExist(system, request.params.id)]);
      return conversationView(titled as Conversation);
    },
  );

  api.get(
    '/conversations/:id/messages',
    {
      config: { access: 'chat' },
      schema: {
        summary:
          'The messages of a conversation, oldest first, a page at a time (each answer with its id for feedback, its mode and sources)',
        tags: TAGS,
        params: IdParams,
        querystring: ListQuery,
        response: { 200: Page(MessageView) },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const { id } = request.params;
      await mustExist(system, id);
      const { limit = 50, cursor } = request.query;
      let afterId = 0;
      if (cursor !== undefined) {
        const p = decodeCursor('messages', cursor);
        if (!Number.isSafeInteger(p.after) || (p.after as number) < 0 || p.c !== id) {
          throw invalidCursor(cursor);
        }
        afterId = p.after as number;
      }
      const page = await system.data.messages.list(id, { afterId, limit });
      const last = page.at(-1);
      return {
        items: page.map(messageView),
        nextCursor:
          page.length === limit && last
            ? encodeCursor('messages', { c: id, after: last.id })
            : null,
      };
    },
  );

  api.delete(
    '/conversations/:id',
    {
      config: { access: 'chat', action: 'conversations.delete' },
      schema: {
        summary:
          'Delete a conversation and its messages (feedback given on its answers stays, without them)',
        tags: TAGS,
        params: IdParams,
        response: { 200: Type.Object({ id: Type.String(), deleted: Type.Literal(true) }) },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const { id } = request.params;
      if (!(await system.data.conversations.delete(id))) throw notFound(id);
      return { id, deleted: true as const };
    },
  );
};
