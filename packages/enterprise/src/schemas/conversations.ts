import { EXCERPT_CHARS } from '@aios/luna';
import { Type } from 'typebox';
import { JsonObject, PageQuery, Timestamp } from './common.js';

export const ConversationView = Type.Object({
  id: Type.String(),
  title: Type.Union([Type.String(), Type.Null()], {
    description:
      'Its first question on one line, shortened at a word (set with its first answer; a conversation stored without one is titled by its first question when listed); null when it has no question',
  }),
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
        id: Type.String({ description: 'The fragment id (the fragment may be gone since)' }),
        score: Type.Number(),
        relevance: Type.Union([Type.Number(), Type.Null()]),
        excerpt: Type.Union([Type.String(), Type.Null()], {
          description: `What the answer quoted of it (else the start of its text), on one line, at most ${EXCERPT_CHARS} characters; null in answers stored before excerpts were kept`,
        }),
        grounded: Type.Union([Type.Boolean(), Type.Null()], {
          description: 'Whether it held the answer',
        }),
        source: Type.Union([Type.String(), Type.Null()], { description: 'The file it came from' }),
        line: Type.Union([Type.Integer(), Type.Null()], {
          description: 'The line of that file where the excerpt starts',
        }),
        chapter: Type.Union([Type.String(), Type.Null()], {
          description: 'The chapter of the book it is in (fragments of an EPUB book)',
        }),
        namespace: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
    Type.Null(),
  ]),
});

export const ListQuery = Type.Object(PageQuery);
