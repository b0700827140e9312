/** What an answer keeps of each source, to show it again when its conversation is read. */
import { type AnswerSource, snippet } from './answer-source.js';
import type { RecordedSource, SourceRef } from './store.js';

/**
 * Longest stored excerpt, in characters: a quoted sentence fits whole, a long fragment's
 * text is cut (every answer of a conversation keeps one per source).
 */
export const EXCERPT_CHARS = 300;

/** The stored ref with what the answer showed of the source (`shown`, its door's view). */
export function recordedSource(ref: SourceRef, shown: AnswerSource | undefined): RecordedSource {
  const out: RecordedSource = {
    id: ref.id,
    score: ref.score,
    ...(ref.relevance === undefined ? {} : { relevance: ref.relevance }),
  };
  if (!shown) return out;
  const excerpt = snippet(shown.quote ?? shown.text, EXCERPT_CHARS);
  if (excerpt !== '') out.excerpt = excerpt;
  out.grounded = shown.grounded;
  const file = shown.metadata.source;
  if (typeof file === 'string' && file !== '') out.source = file;
  if (shown.line !== null) out.line = shown.line;
  const chapter = shown.metadata.chapter;
  if (typeof chapter === 'string' && chapter !== '') out.chapter = chapter;
  if (shown.namespace !== null) out.namespace = shown.namespace;
  return out;
}
