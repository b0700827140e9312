import type { FeedbackRecord, PersonalityChange } from '@aios/luna';

export function feedbackView(f: FeedbackRecord) {
  return {
    id: f.id,
    answerId: f.exchangeId,
    rating: f.rating,
    comment: f.text ?? null,
    createdAt: f.createdAt,
    undone: f.undone,
    undoneAt: f.undoneAt ?? null,
    before: { ...f.before },
    after: { ...f.after },
    reinforced: [...f.reinforced.ids],
  };
}

/** A version of the personality with the feedback that moved it (or that it took back). */
export function personalityChangeView(
  c: PersonalityChange,
  feedback: ReadonlyMap<string, FeedbackRecord>,
) {
  const f = c.feedbackId === undefined ? undefined : feedback.get(c.feedbackId);
  return {
    id: c.id,
    at: c.at,
    cause: c.cause,
    before: { ...c.before },
    after: { ...c.after },
    feedback: f ? feedbackView(f) : null,
  };
}
