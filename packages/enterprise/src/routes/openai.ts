import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import type { Api, RouteModule } from '../context.js';
import { sendEventStream } from '../http/sse.js';
import { type Completion, complete } from '../openai/completion.js';
import { embed } from '../openai/embeddings.js';
import { installOpenAiErrors, OpenAIErrorSchema } from '../openai/errors.js';
import { profileOf, profiles } from '../openai/models.js';
import {
  ChatCompletion,
  ChatCompletionBody,
  type ChatCompletionView,
  EmbeddingList,
  EmbeddingsBody,
  ModelList,
  ModelParams,
  ModelSchema,
} from '../openai/schemas.js';
import { completionStream } from '../openai/stream.js';
import { systemOf } from './tenant.js';

const ERRORS = { '4XX': OpenAIErrorSchema, '5XX': OpenAIErrorSchema };

function chatCompletion(completion: Completion): ChatCompletionView {
  return {
    id: completion.id,
    object: 'chat.completion',
    created: completion.created,
    model: completion.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: completion.text, refusal: null },
        logprobs: null,
        finish_reason: completion.finishReason,
      },
    ],
    usage: completion.usage,
    aios: completion.aios,
  };
}

/**
 * The OpenAI-compatible API: `POST /v1/chat/completions` (Luna, answering from the caller's
 * tenant memory; streamed or not), `GET /v1/models` (Luna's profiles) and `POST
 * /v1/embeddings` (CARMA's embedder), for any OpenAI client with the base URL `…/v1` and an
 * API key with the `chat` scope. These routes answer errors in OpenAI's shape (their own
 * encapsulated error handler); the rest of the API keeps the AIOS one.
 */
export const openAiRoutes: RouteModule = (api, ctx) => {
  void api.register(async (instance) => {
    const scope = instance as Api;
    installOpenAiErrors(scope);
    const started = Math.floor(ctx.startedAt.getTime() / 1000);
    const model = (id: string) => ({
      id,
      object: 'model' as const,
      created: started,
      owned_by: 'aios',
    });

    scope.get(
      '/models',
      {
        config: { access: 'chat' },
        schema: {
          summary:
            "Luna's profiles, as OpenAI models: `luna`, and `luna:<persona>` per saved persona",
          tags: ['openai'],
          response: { 200: ModelList, ...ERRORS },
        },
      },
      async () => ({
        object: 'list' as const,
        data: profiles(ctx.config).map((p) => model(p.id)),
      }),
    );

    scope.get(
      '/models/:model',
      {
        config: { access: 'chat' },
        schema: {
          summary: 'One of Luna’s profiles, as an OpenAI model (404 model_not_found otherwise)',
          tags: ['openai'],
          params: ModelParams,
          response: { 200: ModelSchema, ...ERRORS },
        },
      },
      async (request) => model(profileOf(ctx.config, request.params.model).id),
    );

    scope.post(
      '/chat/completions',
      {
        config: { access: 'chat', action: 'chat.completions' },
        schema: {
          summary:
            'A chat completion by Luna from the caller’s memory (OpenAI-compatible; `stream: true` for server-sent events ending in `data: [DONE]`)',
          tags: ['openai'],
          body: ChatCompletionBody,
          response: {
            200: {
              description: 'A chat.completion, or with `stream: true` chat.completion.chunk events',
              content: {
                'application/json': { schema: ChatCompletion },
                'text/event-stream': { schema: Type.String() },
              },
            },
            ...ERRORS,
          },
        },
      },
      async (request, reply) => {
        const system = await systemOf(ctx, request);
        const body = request.body;
        // A client that goes away cancels the answer (and the model call under it).
        const abort = new AbortController();
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) abort.abort(new Error('the client went away'));
        });
        if (body.stream !== true) {
          const completion = await complete(system, ctx, body, { signal: abort.signal });
          return reply.type('application/json').send(chatCompletion(completion));
        }
        const stream = completionStream({
          id: `chatcmpl-${randomUUID()}`,
          model: body.model,
          includeUsage: body.stream_options?.include_usage === true,
        });
        const answered = complete(system, ctx, body, {
          signal: abort.signal,
          onDelta: (text) => stream.delta(text),
        }).then(
          (completion) => stream.finish(completion),
          (error: unknown) => {
            // Before the first byte a failure is the request's: an HTTP error.
            if (!stream.fail(error, request.id)) throw error;
            request.log.warn({ err: error }, 'a streamed completion failed mid-way');
          },
        );
        await Promise.race([stream.begun, answered]);
        return sendEventStream(reply, stream.body);
      },
    );

    scope.post(
      '/embeddings',
      {
        config: { access: 'chat', audit: false },
        schema: {
          summary: "Embeddings of texts by CARMA's configured embedder (OpenAI-compatible)",
          tags: ['openai'],
          body: EmbeddingsBody,
          response: { 200: EmbeddingList, ...ERRORS },
        },
      },
      async (request) => embed(await systemOf(ctx, request), request.body),
    );
  });
};
