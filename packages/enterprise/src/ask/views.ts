import type { Answer, AnswerSource } from '@aios/luna';

export function sourceView(s: AnswerSource) {
  const source = s.metadata.source;
  return {
    id: s.id,
    text: s.text,
    score: s.score,
    relevance: s.relevance,
    grounded: s.grounded,
    quote: s.quote,
    line: s.line,
    snippet: s.snippet,
    namespace: s.namespace,
    source: typeof source === 'string' ? source : null,
    metadata: s.metadata,
  };
}

/** Everything of an answer but its text and sources: the `done` event of a stream. */
export function answerMetaView(a: Answer) {
  return {
    id: a.id,
    conversationId: a.conversationId,
    mode: a.mode,
    offlineReason: a.offlineReason ?? null,
    grounded: a.grounded,
    relevance: a.relevance,
    model: a.model ?? null,
    usage: a.usage ?? null,
    timings: { ...a.timings },
  };
}

export function answerView(a: Answer) {
  return { ...answerMetaView(a), answer: a.answer, sources: a.sources.map(sourceView) };
}
