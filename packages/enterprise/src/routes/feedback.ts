import type { FeedbackResult } from '@aios/luna';
import type { RouteModule } from '../context.js';
import { feedbackView, personalityChangeView } from '../feedback/views.js';
import { apiError } from '../http/errors.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../pagination/cursor.js';
import { IdParams, Page } from '../schemas/common.js';
import {
  FeedbackBody,
  FeedbackResultView,
  FeedbackView,
  ListQuery,
  PersonalityChangeView,
  PersonalityView,
} from '../schemas/feedback.js';
import { systemOf } from './tenant.js';

const resultView = (r: FeedbackResult) => ({
  feedback: feedbackView(r.feedback),
  traits: { ...r.traits },
});

/** A position in an append-only list, from a cursor of `listing` (an index into it). */
function position(listing: string, cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const { at } = decodeCursor(listing, cursor);
  if (!Number.isSafeInteger(at) || (at as number) < 0) throw invalidCursor(cursor);
  return at as number;
}

/** Feedback on answers, and taking it back: each moves Luna's personality and reinforces memory. */
export const feedbackRoutes: RouteModule = (api, ctx) => {
  api.post(
    '/answers/:id/feedback',
    {
      config: { access: 'chat', action: 'feedback.give' },
      schema: {
        summary:
          'Rate an answer (vote up/down, or a rating from -1 to 1) with an optional comment: nudges the personality and reinforces the fragments the answer used',
        tags: ['feedback'],
        params: IdParams,
        body: FeedbackBody,
        response: { 201: FeedbackResultView },
      },
    },
    async (request, reply) => {
      const { vote, rating, comment } = request.body;
      if ((vote === undefined) === (rating === undefined)) {
        throw apiError('INVALID_INPUT', 'give either vote (up or down) or rating (-1 to 1)', {
          field: 'body',
        });
      }
      const system = await systemOf(ctx, request);
      const result = await system.feedback(request.params.id, {
        rating: rating ?? (vote === 'up' ? 1 : -1),
        ...(comment === undefined ? {} : { text: comment }),
      });
      return reply.status(201).send(resultView(result));
    },
  );

  api.get(
    '/feedback',
    {
      config: { access: 'chat' },
      schema: {
        summary: 'Feedback given, newest first, with whether it was taken back',
        tags: ['feedback'],
        querystring: ListQuery,
        response: { 200: Page(FeedbackView) },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const { limit = 50, cursor } = request.query;
      // Oldest first and only ever appended to: an index is a stable position.
      const all = await system.luna.feedbackHistory();
      const before = Math.min(position('feedback', cursor) ?? all.length, all.length);
      const from = Math.max(0, before - limit);
      return {
        items: all.slice(from, before).reverse().map(feedbackView),
        nextCursor: from > 0 ? encodeCursor('feedback', { at: from }) : null,
      };
    },
  );

  api.post(
    '/feedback/undo',
    {
      config: { access: 'chat', action: 'feedback.undo' },
      schema: {
        summary:
          'Take back the latest feedback still in effect (again for the one before it): its change of the traits and its reinforcement of the fragments',
        tags: ['feedback'],
        response: { 200: FeedbackResultView },
      },
    },
    async (request) => resultView(await (await systemOf(ctx, request)).undoFeedback()),
  );

  api.post(
    '/feedback/:id/undo',
    {
      config: { access: 'chat', action: 'feedback.undo' },
      schema: {
        summary:
          'Take back one feedback: its change of the traits (later changes stay) and its reinforcement of the fragments',
        tags: ['feedback'],
        params: IdParams,
        response: { 200: FeedbackResultView },
      },
    },
    async (request) =>
      resultView(await (await systemOf(ctx, request)).undoFeedback(request.params.id)),
  );
};

/** Luna's personality (the Big Five) now, and every version of it with its cause. */
export const personalityRoutes: RouteModule = (api, ctx) => {
  api.get(
    '/personality',
    {
      config: { access: 'chat' },
      schema: {
        summary: 'The personality now: the Big Five traits and the persona they give',
        tags: ['personality'],
        response: { 200: PersonalityView },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const history = await system.luna.personalityHistory();
      return {
        traits: { ...(await system.luna.traits()) },
        updatedAt: history.at(-1)?.at ?? null,
        persona: await system.luna.persona(),
      };
    },
  );

  api.get(
    '/personality/history',
    {
      config: { access: 'chat' },
      schema: {
        summary:
          'Every version of the personality, oldest first, each with the feedback that moved it (or that an undo took back)',
        tags: ['personality'],
        querystring: ListQuery,
        response: { 200: Page(PersonalityChangeView) },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const { limit = 50, cursor } = request.query;
      const history = await system.luna.personalityHistory();
      const feedback = new Map((await system.luna.feedbackHistory()).map((f) => [f.id, f]));
      const from = Math.min(position('personality', cursor) ?? 0, history.length);
      const to = Math.min(history.length, from + limit);
      return {
        items: history.slice(from, to).map((c) => personalityChangeView(c, feedback)),
        nextCursor: to < history.length ? encodeCursor('personality', { at: to }) : null,
      };
    },
  );
};
