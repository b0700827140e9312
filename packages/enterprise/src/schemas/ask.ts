import { MAX_QUESTION_CHARS } from '@aios/luna';
import { Type } from 'typebox';
import { Body, JsonObject } from './common.js';
import { Namespace } from './memory.js';

export const ConversationId = Type.String({ minLength: 1, maxLength: 200 });

export const AskBody = Body({
  question: Type.String({ minLength: 1, maxLength: MAX_QUESTION_CHARS }),
  conversationId: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description:
        'Continue this conversation of yours (its earlier turns go into the prompt); absent: a new conversation',
    }),
  ),
  namespace: Type.Optional(Namespace),
});

export const SourceView = Type.Object({
  id: Type.String({ description: 'The fragment id' }),
  text: Type.String(),
  score: Type.Number({ description: 'Retrieval score, on the scale of the search mode' }),
  relevance: Type.Number({ description: '0 to 1, the same scale in every mode' }),
  grounded: Type.Boolean({ description: 'Whether this fragment holds the answer' }),
  quote: Type.Union([Type.String(), Type.Null()]),
  line: Type.Union([Type.Integer(), Type.Null()]),
  snippet: Type.String(),
  namespace: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.String(), Type.Null()]),
  metadata: JsonObject,
});

export const UsageView = Type.Object({
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
  totalTokens: Type.Integer(),
  estimated: Type.Boolean(),
});

/** What an answer carries besides its text and sources (the JSON answer, the `done` event). */
const answerMeta = {
  id: Type.String({ description: 'The answer id, for feedback' }),
  conversationId: Type.String(),
  mode: Type.Union([Type.Literal('llm'), Type.Literal('offline')]),
  offlineReason: Type.Union([Type.String(), Type.Null()]),
  grounded: Type.Boolean({ description: 'Whether memory holds the answer' }),
  relevance: Type.Number(),
  model: Type.Union([Type.String(), Type.Null()]),
  usage: Type.Union([UsageView, Type.Null()]),
  timings: Type.Record(Type.String(), Type.Number()),
};

export const AnswerView = Type.Object({
  ...answerMeta,
  answer: Type.String(),
  sources: Type.Array(SourceView),
});

export const DoneEvent = Type.Object(answerMeta);
