import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { errorHandler, errorResponse } from '../http/errors.js';

/**
 * The OpenAI-compatible routes answer errors as the OpenAI API does, because the clients
 * they serve parse that shape: `{ error: { message, type, param, code } }`. The status is
 * the one the AIOS error shape would have had; `type` follows from it; `code` is OpenAI's
 * code where OpenAI has one, else the stable AIOS code.
 */
export const OpenAIErrorSchema = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String({
        description:
          'invalid_request_error, authentication_error, permission_error, not_found_error, rate_limit_error, insufficient_quota or api_error',
      }),
      param: Type.Union([Type.String(), Type.Null()]),
      code: Type.String({
        description:
          "OpenAI's code where it has one (invalid_api_key, model_not_found, context_length_exceeded, rate_limit_exceeded, insufficient_quota), else the AIOS error code",
      }),
    }),
  },
  { title: 'OpenAIError' },
);
export type OpenAIErrorBody = Static<typeof OpenAIErrorSchema>;

/** AIOS codes that OpenAI names otherwise. */
const OPENAI_CODES: Record<string, string> = {
  UNAUTHENTICATED: 'invalid_api_key',
  MODEL_NOT_FOUND: 'model_not_found',
  LUNA_QUESTION_TOO_LONG: 'context_length_exceeded',
  LUNA_CONTEXT_TOO_SMALL: 'context_length_exceeded',
  CONTEXT_LENGTH_EXCEEDED: 'context_length_exceeded',
  RATE_LIMITED: 'rate_limit_exceeded',
  TOKEN_BUDGET_EXCEEDED: 'insufficient_quota',
};

/** OpenAI's error type for an answer of `status` (and code). */
function typeOf(status: number, code: string): string {
  if (code === 'TOKEN_BUDGET_EXCEEDED') return 'insufficient_quota';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/**
 * The request field an error is about, as OpenAI names it (`messages[1].role`): from the
 * AIOS error's `details.param`, or the field of a schema validation error.
 */
function paramOf(details: Record<string, unknown>): string | null {
  if (typeof details.param === 'string') return details.param;
  const field = details.field;
  const where =
    typeof field === 'string' ? /^(body|params|querystring)/.exec(field)?.[1] : undefined;
  if (typeof field !== 'string' || where === undefined) return null;
  const path = field
    .slice(where.length)
    .replace(/^\./, '')
    .replace(/\.(\d+)(?=\.|$)/g, '[$1]');
  const missing = (details.issues as Array<{ keyword?: string }> | undefined)?.[0];
  return path === '' && missing?.keyword === 'required' ? null : path || null;
}

/** Paths of the OpenAI-compatible API: a path under them that is no route is answered in its shape. */
export function isOpenAiPath(url: string): boolean {
  return /^\/v1\/(?:chat|models|embeddings)(?:[/?]|$)/.test(url);
}

/** The status and OpenAI-shaped body of an error. */
export function openAiErrorResponse(
  error: unknown,
  requestId: string,
): { status: number; body: OpenAIErrorBody } {
  const { status, body } = errorResponse(error, requestId);
  const { code, message, details } = body.error;
  let param = paramOf(details);
  // A missing field is named by ajv in the message ("must have required property 'x'").
  const required = /must have required property '([^']+)'/.exec(message);
  if (param === null && required?.[1]) param = required[1];
  return {
    status,
    body: {
      error: { message, type: typeOf(status, code), param, code: OPENAI_CODES[code] ?? code },
    },
  };
}

/**
 * Makes every error of the routes registered on `scope` (an encapsulated plugin, so the
 * rest of the API keeps the AIOS shape) answer in the OpenAI shape, authentication and
 * rate-limit refusals included.
 */
export function installOpenAiErrors(scope: FastifyInstance): void {
  scope.setErrorHandler(errorHandler(openAiErrorResponse));
}
