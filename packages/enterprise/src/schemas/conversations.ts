import { Type } from 'typebox';
import { JsonObject, PageQuery, Timestamp } from './common.js';

export const ConversationView = Type.Object({
  id: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  metadata: JsonObject,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const MessageView = Type.Object({
  id: Type.Integer(),
  role: Type.String({ description: 'user, assistant, system or tool' }),
  content: Type.String(),
  createdAt: Timestamp,
  model: Type.Union([Type.String(), Type.Null()]),
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
  answerId: Type.Union([Type.String(), Type.Null()], {
    description: 'The answer (exchange) this message belongs to: the id feedback takes',
  }),
  mode: Type.Union([Type.Literal('llm'), Type.Literal('offline'), Type.Null()], {
    description: 'How an answer was made (assistant messages of Luna)',
  }),
  sources: Type.Union([
    Type.Array(
      Type.Object({
        id: Type.String(),
        score: Type.Number(),
        relevance: Type.Union([Type.Number(), Type.Null()]),
      }),
    ),
    Type.Null(),
  ]),
});

export const ListQuery = Type.Object(PageQuery);
