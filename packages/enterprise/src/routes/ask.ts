import { Type } from 'typebox';
import { askOptions } from '../ask/options.js';
import { AnswerStream } from '../ask/stream.js';
import { answerView } from '../ask/views.js';
import type { RouteModule } from '../context.js';
import { apiError } from '../http/errors.js';
import { sendEventStream } from '../http/sse.js';
import { AnswerView, AskBody } from '../schemas/ask.js';
import { systemOf } from './tenant.js';

/** Whether the client asked for server-sent events. */
function wantsEvents(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/event-stream\b/i.test(accept);
}

/** Questions to Luna on the tenant's memory: a JSON answer, or server-sent events. */
export const askRoutes: RouteModule = (api, ctx) => {
  api.post(
    '/ask',
    {
      config: { access: 'chat', action: 'ask' },
      schema: {
        summary:
          'Ask Luna: an answer from the tenant’s memory with its sources and ids (Accept: text/event-stream for events sources, token..., done)',
        tags: ['ask'],
        body: AskBody,
        response: {
          200: {
            description:
              'The answer; with Accept: text/event-stream, the events `sources` (again before any token when the model failed and the offline answer replaces it), `token` ({ text }), then `done` (the answer without its text and sources) or `error` ({ error })',
            content: {
              'application/json': { schema: AnswerView },
              'text/event-stream': { schema: Type.String() },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const system = await systemOf(ctx, request);
      // A client that goes away cancels the answer: the model call stops, nothing is stored.
      const abort = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) {
          abort.abort(apiError('CLIENT_CLOSED', 'the client closed the connection'));
        }
      });
      const options = await askOptions(system, request.body, abort.signal);
      if (system.llm) await ctx.budget.check(system.data);
      const { question } = request.body;

      if (!wantsEvents(request.headers.accept)) {
        const answer = await system.ask(question, options);
        return reply.type('application/json').send(answerView(answer));
      }

      const stream = new AnswerStream();
      const answered = system
        .ask(question, {
          ...options,
          onSources: (sources) => stream.sources(sources),
          onDelta: (text) => stream.token(text),
          // Once tokens went out the model's reply cannot be taken back: a model failing
          // then is an error event (and nothing is stored), not the offline answer.
          fallback: () => !stream.streaming,
        })
        .then(
          (answer) => stream.finish(answer),
          (error: unknown) => {
            if (abort.signal.aborted) return stream.end();
            // Before the first event a failure is the request's: an HTTP error.
            if (!stream.fail(error, request.id)) throw error;
            request.log.warn({ err: error }, 'a streamed answer failed mid-way');
          },
        );
      await Promise.race([stream.begun, answered]);
      return sendEventStream(reply, stream.body);
    },
  );
};
