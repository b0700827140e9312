import { createHash } from 'node:crypto';
import type { Aios } from '@aios/core';
import type { Answer, Sampling } from '@aios/luna';
import { AiosError } from '@aios/utils';
import type { ServerContext } from '../context.js';
import { apiError } from '../http/errors.js';
import { readConversation } from './messages.js';
import { profileOf } from './models.js';
import type { AiosMetadataView, ChatCompletionRequest, UsageView } from './schemas.js';

/**
 * One chat completion on the caller's tenant: the request read as Luna's question, history,
 * persona and sampling, answered by `aios.ask` (retrieval from the tenant's memory, the
 * personality, the stored exchange), and what the OpenAI shapes need from the answer.
 *
 * The rules that combine the request with Luna:
 * - `model` picks the persona (see ./models); the client's system and developer messages
 *   follow it in the system prompt, after a blank line.
 * - `temperature`, `top_p`, `max_completion_tokens` (or `max_tokens`) and `stop` replace
 *   what the personality would choose; `max_tokens` is the reply budget, cut further only
 *   when the context window leaves less.
 * - `user` is the memory namespace searched and written; without it every namespace is
 *   searched and exchanges are remembered where Luna keeps them.
 * - the conversation an exchange is stored in is named by the model, the user, the system
 *   messages and the first user message, so the turns of one chat share it.
 * - no language model reachable: the offline answer, cut at `stop` and `max_tokens` like a
 *   model's, marked `aios.mode = "offline"`; a model that fails otherwise is an error.
 */
export interface Completion {
  id: string;
  created: number;
  model: string;
  text: string;
  finishReason: string;
  usage: UsageView;
  aios: AiosMetadataView;
}

export interface CompletionOptions {
  signal: AbortSignal;
  /** Each piece of the model's reply as it streams (not called for an offline answer). */
  onDelta?: (text: string) => void;
}

/** The model failures that give the offline answer: no model to be reached at all. */
const OFFLINE_WHEN = new Set(['LLM_UNREACHABLE']);

function samplingOf(body: ChatCompletionRequest): Sampling {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const stop = typeof body.stop === 'string' ? [body.stop] : (body.stop ?? undefined);
  return {
    ...(body.temperature == null ? {} : { temperature: body.temperature }),
    ...(body.top_p == null ? {} : { topP: body.top_p }),
    ...(maxTokens == null ? {} : { maxTokens }),
    ...(stop && stop.length > 0 ? { stop } : {}),
  };
}

function conversationIdOf(parts: unknown[]): string {
  return `openai-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32)}`;
}

/** An offline answer cut as a model's reply would be: at the first stop sequence, at `maxTokens`. */
function cutOffline(
  system: Aios,
  text: string,
  sampling: Sampling,
): { text: string; finishReason: string } {
  let cut = text;
  for (const stop of sampling.stop ?? []) {
    const at = cut.indexOf(stop);
    if (at >= 0) cut = cut.slice(0, at);
  }
  if (sampling.maxTokens !== undefined) {
    const truncated = system.luna.tokenizer.truncate(cut, sampling.maxTokens);
    if (truncated.truncated) return { text: truncated.text, finishReason: 'length' };
  }
  return { text: cut, finishReason: 'stop' };
}

/** `stop` and `length` as OpenAI says them; `content_filter` passes; anything else is a stop. */
function finishOf(reason: string | null | undefined): string {
  return reason === 'length' || reason === 'content_filter' ? reason : 'stop';
}

function metadataOf(answer: Answer, namespace: string | undefined): AiosMetadataView {
  const reason = answer.offlineReason;
  return {
    mode: answer.mode,
    ...(answer.mode === 'offline'
      ? {
          offline_reason: reason?.match(/^([A-Z][A-Z0-9_]+):/)?.[1] ?? 'NO_LANGUAGE_MODEL',
        }
      : {}),
    grounded: answer.grounded,
    relevance: answer.relevance,
    conversation_id: answer.conversationId,
    exchange_id: answer.id,
    namespace: namespace ?? null,
    sources: answer.sources.map((s) => ({
      id: s.id,
      score: s.score,
      relevance: s.relevance,
      namespace: s.namespace,
      snippet: s.snippet,
      quote: s.quote,
      line: s.line,
      metadata: s.metadata,
    })),
  };
}

/**
 * Checks the request and answers it. Every refusal is an `AiosError` thrown before a model
 * is asked; a model failure once the reply has begun to stream is thrown as it is.
 */
export async function complete(
  system: Aios,
  ctx: ServerContext,
  body: ChatCompletionRequest,
  options: CompletionOptions,
): Promise<Completion> {
  const profile = profileOf(ctx.config, body.model);
  const conversation = readConversation(body.messages);
  const sampling = samplingOf(body);
  const namespace = body.user?.trim() || undefined;
  const persona =
    profile.persona !== undefined || conversation.instructions.length > 0
      ? [profile.persona ?? (await system.luna.persona()), ...conversation.instructions].join(
          '\n\n',
        )
      : undefined;
  const conversationId = conversationIdOf([
    body.model,
    namespace ?? null,
    conversation.instructions,
    conversation.opening,
  ]);
  if (system.llm) await ctx.budget.check(system.data);
  let streamed = false;
  let answer: Answer;
  try {
    answer = await system.ask(conversation.question, {
      conversationId,
      history: conversation.history,
      ...(persona === undefined ? {} : { persona }),
      sampling,
      ...(namespace === undefined ? {} : { namespace }),
      signal: options.signal,
      ...(options.onDelta
        ? {
            onDelta: (text: string) => {
              streamed = true;
              options.onDelta?.(text);
            },
          }
        : {}),
      // Once the reply has begun, an offline answer can no longer take its place.
      fallback: (error) => !streamed && OFFLINE_WHEN.has(error.code),
    });
  } catch (error) {
    if (error instanceof AiosError && error.code === 'LUNA_QUESTION_TOO_LONG') {
      throw apiError('CONTEXT_LENGTH_EXCEEDED', error.message, {
        ...error.details,
        param: 'messages',
      });
    }
    throw error;
  }
  const cut =
    answer.mode === 'offline'
      ? cutOffline(system, answer.answer, sampling)
      : { text: answer.answer, finishReason: finishOf(answer.finishReason) };
  let usage: UsageView;
  if (answer.usage) {
    usage = {
      prompt_tokens: answer.usage.promptTokens,
      completion_tokens: answer.usage.completionTokens,
      total_tokens: answer.usage.totalTokens,
    };
  } else {
    // No model was asked: the tokens the question and the answer are, for clients that add up.
    const [prompt = 0, completion = 0] = system.luna.tokenizer.countMany([
      conversation.question,
      cut.text,
    ]);
    usage = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    };
  }
  return {
    id: `chatcmpl-${answer.id}`,
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    text: cut.text,
    finishReason: cut.finishReason,
    usage,
    aios: metadataOf(answer, namespace),
  };
}
