import { authorizedFetch } from '../api/client';
import { apiErrorOf } from '../api/errors';
import type { paths } from '../api/schema.gen';
import { readEvents } from '../jobs/sse';

type AskPost = paths['/v1/ask']['post'];
export type AskBody = AskPost['requestBody']['content']['application/json'];
export type Answer = AskPost['responses'][200]['content']['application/json'];
export type Source = Answer['sources'][number];
/** The `done` event: the answer without its text and sources. */
export type AnswerMeta = Omit<Answer, 'answer' | 'sources'>;

export interface AskHandlers {
  onSources(sources: Source[]): void;
  onToken(text: string): void;
}

/**
 * Asks Luna with Accept: text/event-stream, so the answer shows as it streams: `sources`
 * (again before any token when the offline answer replaces a failed model), `token`s,
 * then `done` with the answer's id and mode, or `error` in the API's error shape.
 */
export async function askStreaming(
  body: AskBody,
  handlers: AskHandlers,
  signal?: AbortSignal,
): Promise<AnswerMeta> {
  const response = await authorizedFetch('/v1/ask', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  let done: AnswerMeta | undefined;
  let failure: unknown;
  await readEvents(response, (event) => {
    const data = JSON.parse(event.data) as unknown;
    if (event.event === 'sources') handlers.onSources((data as { sources: Source[] }).sources);
    else if (event.event === 'token') handlers.onToken((data as { text: string }).text);
    else if (event.event === 'done') done = data as AnswerMeta;
    else if (event.event === 'error') failure = apiErrorOf(500, data);
  });
  if (failure) throw failure;
  if (!done)
    throw apiErrorOf(0, { error: { code: 'STREAM_ENDED', message: 'the answer ended early' } });
  return done;
}
