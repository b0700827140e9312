import { TRAITS } from '@aios/luna';
import { Type } from 'typebox';
import { Body, PageQuery, Timestamp } from './common.js';

/** Longest feedback comment (Luna's limit). */
export const MAX_COMMENT = 4_000;

/** The Big Five, each from 0 to 1. */
export const TraitsView = Type.Object(
  Object.fromEntries(TRAITS.map((t) => [t, Type.Number({ minimum: 0, maximum: 1 })])) as Record<
    (typeof TRAITS)[number],
    ReturnType<typeof Type.Number>
  >,
);

export const FeedbackBody = Body({
  vote: Type.Optional(
    Type.Union([Type.Literal('up'), Type.Literal('down')], {
      description: 'up is rating 1, down -1',
    }),
  ),
  rating: Type.Optional(
    Type.Number({
      minimum: -1,
      maximum: 1,
      description: 'From -1 (bad) to 1 (good); or give vote',
    }),
  ),
  comment: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: MAX_COMMENT,
      description: 'What was good or bad ("too long", "more detail"...): it moves the traits too',
    }),
  ),
});

export const FeedbackView = Type.Object({
  id: Type.String(),
  answerId: Type.String(),
  rating: Type.Number(),
  comment: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  undone: Type.Boolean(),
  undoneAt: Type.Union([Timestamp, Type.Null()]),
  before: TraitsView,
  after: TraitsView,
  /** The fragments the answer used, reinforced by the rating (undo takes it back). */
  reinforced: Type.Array(Type.String()),
});

export const FeedbackResultView = Type.Object({ feedback: FeedbackView, traits: TraitsView });

export const ListQuery = Type.Object(PageQuery);

export const PersonalityView = Type.Object({
  traits: TraitsView,
  /** When the traits last changed; null while they are the defaults. */
  updatedAt: Type.Union([Timestamp, Type.Null()]),
  /** The system prompt these traits give. */
  persona: Type.String(),
});

export const PersonalityChangeView = Type.Object({
  id: Type.String(),
  at: Timestamp,
  cause: Type.Union([Type.Literal('feedback'), Type.Literal('undo'), Type.Literal('set')]),
  before: TraitsView,
  after: TraitsView,
  /** The feedback that made this version (cause feedback) or that it took back (undo). */
  feedback: Type.Union([FeedbackView, Type.Null()]),
});
