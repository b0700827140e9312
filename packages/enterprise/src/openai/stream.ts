import { PassThrough } from 'node:stream';
import type { Completion } from './completion.js';
import { openAiErrorResponse } from './errors.js';

/**
 * A streamed chat completion as OpenAI sends it: `chat.completion.chunk` events (the
 * assistant role first, then the text as it comes, `finish_reason` null until the last
 * choice chunk, which also carries `aios`), a usage chunk with `choices: []` when
 * `stream_options.include_usage`, and `data: [DONE]` at the end of every stream.
 *
 * Nothing is sent before the first piece of the reply (or the whole offline answer): a
 * failure before it is answered as an HTTP error. The stream `begin` resolves with only
 * once there is something to send; a failure after it is an `error` event, then `[DONE]`.
 */
export interface CompletionStream {
  /** The SSE body (a readable the route sends). */
  readonly body: PassThrough;
  /** A piece of the model's reply. */
  delta(text: string): void;
  /** The answer is complete: the rest of it (an offline answer is all rest), then the end. */
  finish(completion: Completion): void;
  /** The answer failed; `true` when the stream had begun (the error went into it). */
  fail(error: unknown, requestId: string): boolean;
  /** Resolves once the first event can go out. */
  readonly begun: Promise<void>;
}

interface Chunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: null;
  choices: Array<{
    index: 0;
    delta: { role?: 'assistant'; content?: string };
    logprobs: null;
    finish_reason: string | null;
  }>;
  usage?: Completion['usage'] | null;
  aios?: Completion['aios'];
}

export function completionStream(meta: {
  id: string;
  model: string;
  includeUsage: boolean;
}): CompletionStream {
  const body = new PassThrough();
  const created = Math.floor(Date.now() / 1000);
  let begun = false;
  let ended = false;
  const id = meta.id;
  let resolveBegun: () => void = () => undefined;
  const begunPromise = new Promise<void>((resolve) => {
    resolveBegun = resolve;
  });
  const event = (data: unknown) => {
    if (!ended) body.write(`data: ${JSON.stringify(data)}\n\n`);
  };
  const chunk = (
    delta: Chunk['choices'][number]['delta'],
    finish: string | null,
    extra: Partial<Chunk> = {},
  ): Chunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: meta.model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(meta.includeUsage ? { usage: null } : {}),
    ...extra,
  });
  const begin = () => {
    if (begun) return;
    begun = true;
    event(chunk({ role: 'assistant', content: '' }, null));
    resolveBegun();
  };
  const end = () => {
    if (ended) return;
    body.write('data: [DONE]\n\n');
    ended = true;
    body.end();
  };
  return {
    body,
    begun: begunPromise,
    delta(text) {
      begin();
      event(chunk({ content: text }, null));
    },
    finish(completion) {
      const wasStreamed = begun;
      begin();
      // The model's reply went out piece by piece; an offline answer goes out whole.
      if (!wasStreamed && completion.text !== '') event(chunk({ content: completion.text }, null));
      event(chunk({}, completion.finishReason, { aios: completion.aios }));
      if (meta.includeUsage) {
        event({ ...chunk({}, null), choices: [], usage: completion.usage });
      }
      end();
    },
    fail(error, requestId) {
      if (!begun) return false;
      event(openAiErrorResponse(error, requestId).body);
      end();
      return true;
    },
  };
}
