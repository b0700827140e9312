/**
 * Error codes raised by @aios/luna (on top of the shared codes of @aios/utils, such as
 * `INVALID_INPUT`). Stable: programs may switch on them.
 */
export const LunaErrorCode = {
  /** The model's context window cannot hold the persona, the question and a minimal reply. */
  CONTEXT_TOO_SMALL: 'LUNA_CONTEXT_TOO_SMALL',
  /** The question alone does not fit the prompt budget of the context window. */
  QUESTION_TOO_LONG: 'LUNA_QUESTION_TOO_LONG',
  /** An exchange or feedback id that the conversation store does not know. */
  NOT_FOUND: 'LUNA_NOT_FOUND',
  /** `ask` with `continue: true` on a conversation id that the store does not know. */
  CONVERSATION_NOT_FOUND: 'LUNA_CONVERSATION_NOT_FOUND',
  /** Feedback that was already undone. */
  ALREADY_UNDONE: 'LUNA_ALREADY_UNDONE',
  /** An undo of the latest feedback when no feedback is in effect (none given, or all undone). */
  NOTHING_TO_UNDO: 'LUNA_NOTHING_TO_UNDO',
  /** The caller's AbortSignal fired. */
  ABORTED: 'LUNA_ABORTED',
  /** No OpenAI-compatible server answered (connection refused, DNS, no candidate up). */
  LLM_UNREACHABLE: 'LLM_UNREACHABLE',
  /** The server did not answer (or stopped streaming) within the timeout. */
  LLM_TIMEOUT: 'LLM_TIMEOUT',
  /** HTTP 429 after every retry. */
  LLM_RATE_LIMITED: 'LLM_RATE_LIMITED',
  /** HTTP 5xx after every retry. */
  LLM_SERVER_ERROR: 'LLM_SERVER_ERROR',
  /** Any other non-2xx status (bad key, unknown model...), not retried. */
  LLM_HTTP_ERROR: 'LLM_HTTP_ERROR',
  /** A body that is not the chat completions JSON (or SSE) it should be. */
  LLM_BAD_RESPONSE: 'LLM_BAD_RESPONSE',
  /** The SSE stream closed before `[DONE]` or a finish reason. */
  LLM_STREAM_INTERRUPTED: 'LLM_STREAM_INTERRUPTED',
  /** The server lists no model and none is configured. */
  LLM_NO_MODEL: 'LLM_NO_MODEL',
} as const;

export type LunaErrorCode = (typeof LunaErrorCode)[keyof typeof LunaErrorCode];
