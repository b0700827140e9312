import { type Static, Type } from 'typebox';

/**
 * Request and response shapes of the OpenAI-compatible routes. Requests keep unknown
 * fields (clients send many: `seed`, `tools`, `logit_bias`...) and ignore them, as the
 * OpenAI API's clients expect; only what AIOS reads is described and checked.
 */

const Message = Type.Object(
  {
    role: Type.String({
      maxLength: 64,
      description: 'system, developer, user or assistant (tool messages are refused)',
    }),
    content: Type.Optional(
      Type.Unknown({ description: 'A string, or an array of `{ type: "text", text }` parts' }),
    ),
    name: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: true },
);

export const ChatCompletionBody = Type.Object(
  {
    model: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'A Luna profile listed by GET /v1/models: `luna` or `luna:<persona>`',
    }),
    messages: Type.Array(Message, { maxItems: 10_000 }),
    stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    stream_options: Type.Optional(
      Type.Union([
        Type.Object(
          { include_usage: Type.Optional(Type.Boolean()) },
          { additionalProperties: true },
        ),
        Type.Null(),
      ]),
    ),
    max_tokens: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()]),
    ),
    max_completion_tokens: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()]),
    ),
    temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
    top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
    stop: Type.Optional(
      Type.Union([
        Type.String({ minLength: 1, maxLength: 1000 }),
        Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { maxItems: 4 }),
        Type.Null(),
      ]),
    ),
    n: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1 }), Type.Null()])),
    user: Type.Optional(
      Type.String({
        maxLength: 256,
        description: 'Selects the memory namespace searched and written (empty: every namespace)',
      }),
    ),
  },
  { additionalProperties: true },
);
export type ChatCompletionRequest = Static<typeof ChatCompletionBody>;

const Usage = Type.Object({
  prompt_tokens: Type.Integer(),
  completion_tokens: Type.Integer(),
  total_tokens: Type.Integer(),
});

const Source = Type.Object({
  id: Type.String(),
  score: Type.Number(),
  relevance: Type.Number(),
  namespace: Type.Union([Type.String(), Type.Null()]),
  snippet: Type.String(),
  quote: Type.Union([Type.String(), Type.Null()]),
  line: Type.Union([Type.Integer(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
});

/** What AIOS adds to a completion; standard clients ignore it. */
export const AiosMetadata = Type.Object({
  mode: Type.Union([Type.Literal('llm'), Type.Literal('offline')]),
  offline_reason: Type.Optional(
    Type.String({ description: 'Why the answer is the offline one (an error code)' }),
  ),
  grounded: Type.Boolean(),
  relevance: Type.Number(),
  conversation_id: Type.String(),
  exchange_id: Type.String(),
  namespace: Type.Union([Type.String(), Type.Null()]),
  sources: Type.Array(Source),
});
export type AiosMetadataView = Static<typeof AiosMetadata>;

export const ChatCompletion = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion'),
  created: Type.Integer(),
  model: Type.String(),
  system_fingerprint: Type.Null(),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer(),
      message: Type.Object({
        role: Type.Literal('assistant'),
        content: Type.String(),
        refusal: Type.Null(),
      }),
      logprobs: Type.Null(),
      finish_reason: Type.String(),
    }),
  ),
  usage: Usage,
  aios: AiosMetadata,
});
export type ChatCompletionView = Static<typeof ChatCompletion>;
export type UsageView = Static<typeof Usage>;

export const ModelSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  created: Type.Integer(),
  owned_by: Type.String(),
});

export const ModelList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(ModelSchema),
});

export const ModelParams = Type.Object({ model: Type.String({ minLength: 1, maxLength: 200 }) });

export const EmbeddingsBody = Type.Object(
  {
    model: Type.String({
      minLength: 1,
      maxLength: 200,
      description:
        "Any name: CARMA's configured embedder answers, and the response's model names it",
    }),
    input: Type.Union([
      Type.String({ maxLength: 200_000 }),
      Type.Array(Type.String({ maxLength: 200_000 }), { minItems: 1, maxItems: 2048 }),
      Type.Array(Type.Unknown(), { maxItems: 2048, description: 'token arrays are refused' }),
    ]),
    encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64')])),
    dimensions: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    user: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: true },
);
export type EmbeddingsRequest = Static<typeof EmbeddingsBody>;

export const EmbeddingList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(
    Type.Object({
      object: Type.Literal('embedding'),
      index: Type.Integer(),
      embedding: Type.Union([Type.Array(Type.Number()), Type.String()]),
    }),
  ),
  model: Type.String(),
  usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() }),
});
