import { AiosError, isAiosError } from '@aios/utils';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isOpenAiPath, openAiErrorResponse } from '../openai/errors.js';

/**
 * Every non-2xx answer of the API has one shape, `{ error: { code, message, details } }`,
 * with the stable AiosError codes. Bad input is a 4xx, always: a 5xx means a bug or a
 * failure of the machine (disk, a language model), never the caller's request.
 */
export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown>; requestId?: string };
}

/** Status of the codes whose status the rules below do not give. */
const STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  TENANT_EXISTS: 409,
  DUPLICATE_CONTENT: 409,
  TARGET_NOT_EMPTY: 409,
  REPO_EXISTS: 409,
  LUNA_ALREADY_UNDONE: 409,
  LUNA_NOTHING_TO_UNDO: 409,
  JOB_FINISHED: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  TEXT_TOO_LARGE: 413,
  INGEST_TOO_LARGE: 413,
  DATA_ROW_TOO_LARGE: 413,
  LUNA_QUESTION_TOO_LONG: 413,
  CONTEXT_LENGTH_EXCEEDED: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  TOKEN_BUDGET_EXCEEDED: 429,
  DATA_BUSY: 503,
  // The PostgreSQL server is down or restarting: the next request may succeed.
  DATA_UNREACHABLE: 503,
  LOCK_BUSY: 503,
  REPO_LOCKED: 503,
  SHUTTING_DOWN: 503,
  TENANT_BUSY: 503,
  RESTORE_NEEDS_STOPPED_SERVER: 409,
  JOBS_RUNNING: 409,
  // A backup repository or snapshot that is damaged (or of a newer format): the request is
  // sound, the repository's state refuses it; verify says what is damaged.
  REPO_CORRUPT: 409,
  SNAPSHOT_DAMAGED: 409,
  REPO_UNSUPPORTED: 409,
  CONFIG_KEY_NOT_PATCHABLE: 403,
  NOT_READY: 503,
  IO_DISK_FULL: 507,
  LLM_UNREACHABLE: 502,
  LLM_TIMEOUT: 504,
  LLM_BAD_RESPONSE: 502,
  LLM_SERVER_ERROR: 502,
  LLM_HTTP_ERROR: 502,
  LLM_RATE_LIMITED: 503,
  LLM_NO_MODEL: 503,
  LLM_STREAM_INTERRUPTED: 502,
  LLM_ERROR: 502,
  EMBEDDER_FAILED: 502,
  EMBEDDER_TIMEOUT: 504,
  // The server's embedder is not the one the store's vectors were made with: its set-up,
  // not the request, is wrong (a _MISMATCH of the caller's input is a 400).
  EMBEDDER_MISMATCH: 500,
};

/** The HTTP status of an error code. */
export function statusOf(code: string): number {
  const known = STATUS[code];
  if (known !== undefined) return known;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (
    code.startsWith('INVALID_') ||
    code.endsWith('_INVALID') ||
    code.endsWith('_MISMATCH') ||
    code.startsWith('TEXT_') ||
    code === 'USAGE_ERROR' ||
    code === 'UNSAFE_PATH' ||
    code === 'SPECIAL_FILE' ||
    code === 'INGEST_TOO_DEEP' ||
    code === 'CONFIG_UNKNOWN_KEY' ||
    code === 'LUNA_CONTEXT_TOO_SMALL' ||
    code === 'SNAPSHOT_AMBIGUOUS' ||
    code === 'SNAPSHOT_NOT_A_HOME' ||
    code === 'SNAPSHOT_NO_DATABASE'
  ) {
    return 400;
  }
  if (code.endsWith('_ABORTED')) return 499;
  return 500;
}

/** An error the API answers with `status` (default: the code's). */
export function apiError(
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): AiosError {
  return new AiosError(code, message, { details });
}

export const notFound = (what: string, id: string) =>
  apiError('NOT_FOUND', `${what} ${JSON.stringify(id)} was not found`, { id });

/** Turns a Fastify error (validation, body limit, parse...) into an AiosError. */
function fromFastify(error: FastifyError): AiosError {
  if (error.validation) {
    const first = relevantIssue(error.validation);
    const where = error.validationContext ?? 'body';
    const field = first?.instancePath
      ? `${where}${first.instancePath.replaceAll('/', '.')}`
      : where;
    const extra =
      first?.keyword === 'additionalProperties'
        ? ` (unknown field ${JSON.stringify((first.params as { additionalProperty?: string }).additionalProperty)})`
        : '';
    return apiError('INVALID_INPUT', `${field}: ${first?.message ?? 'invalid'}${extra}`, {
      field,
      issues: error.validation.map((v) => ({
        path: v.instancePath,
        keyword: v.keyword,
        message: v.message ?? '',
      })),
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return apiError('PAYLOAD_TOO_LARGE', error.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return apiError('UNSUPPORTED_MEDIA_TYPE', error.message);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return apiError('URI_TOO_LONG', 'a path parameter is too long');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      // The message quotes the URL, which can be as long as the request line.
      return apiError('INVALID_URL', clip(error.message));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return apiError('INVALID_JSON', error.message);
    default:
      break;
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return apiError('INVALID_REQUEST', error.message, { fastifyCode: error.code });
  }
  return new AiosError('INTERNAL', 'internal error', { cause: error });
}

/** `text` cut to `max` characters: messages never echo a whole URL or field back. */
export function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

type Issue = NonNullable<FastifyError['validation']>[number];

/**
 * The issue a validation error is reported by. With allErrors off, ajv gives one issue,
 * except under anyOf, where each branch gives its first and anyOf its own last: a branch
 * of the value's type failed on something else (a count, a length, a bound, an item of
 * the wrong type), and that is what the caller needs to hear. When every branch failed on
 * the value's own type, the types are named together ("must be string or array").
 */
function relevantIssue(issues: readonly Issue[]): Issue | undefined {
  const first = issues[0];
  const union = issues.find((i) => i.keyword === 'anyOf' || i.keyword === 'oneOf');
  if (!first || !union) return first;
  const branches = issues.filter((i) => i !== union);
  const specific = branches.find(
    (i) => i.keyword !== 'type' || i.instancePath !== union.instancePath,
  );
  if (specific) return specific;
  const types = [
    ...new Set(
      branches
        .filter((i) => i.instancePath === union.instancePath)
        .map((i) => (i.params as { type?: unknown }).type)
        .filter((t): t is string => typeof t === 'string'),
    ),
  ];
  return types.length > 1 ? { ...union, message: `must be ${types.join(' or ')}` } : first;
}

const STATUS_OF_FASTIFY: Record<string, number> = {
  INVALID_JSON: 400,
  INVALID_URL: 400,
  INVALID_REQUEST: 400,
};

/** Stable codes of the 4xx statuses a framework or plugin error may carry. */
const CODE_OF_STATUS: Record<number, string> = {
  400: 'INVALID_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  411: 'LENGTH_REQUIRED',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
};

function isFastifyError(error: unknown): error is FastifyError {
  if (!(error instanceof Error)) return false;
  const { code, validation } = error as Partial<FastifyError>;
  return Array.isArray(validation) || (typeof code === 'string' && code.startsWith('FST_'));
}

/**
 * The 4xx status an error of a framework or plugin carries (http-errors' `status`, a
 * `statusCode`), as @fastify/send's refusal of a malformed path does; undefined for others.
 */
function clientStatusOf(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const given = typeof statusCode === 'number' ? statusCode : status;
  return typeof given === 'number' && Number.isInteger(given) && given >= 400 && given < 500
    ? given
    : undefined;
}

/** The status and body an error is answered with. */
export function errorResponse(
  error: unknown,
  requestId: string,
): { status: number; body: ErrorBody } {
  let aios: AiosError;
  let status: number | undefined;
  const clientStatus = clientStatusOf(error);
  if (isAiosError(error)) {
    aios = error;
  } else if (isFastifyError(error)) {
    aios = fromFastify(error);
    const given = error.statusCode;
    if (aios.code === 'INVALID_REQUEST' && given) status = given;
  } else if (clientStatus !== undefined) {
    // A refusal of a plugin (a malformed path to @fastify/send): the caller's fault, a 4xx.
    status = clientStatus;
    const { expose } = error as { expose?: unknown };
    aios = apiError(
      CODE_OF_STATUS[status] ?? 'INVALID_REQUEST',
      expose === false ? 'the request was refused' : clip((error as Error).message),
    );
  } else {
    aios = new AiosError('INTERNAL', 'internal error', { cause: error });
  }
  status ??= STATUS_OF_FASTIFY[aios.code] ?? statusOf(aios.code);
  // An internal failure says what failed only in the log, never to the caller.
  const message = status >= 500 && aios.code === 'INTERNAL' ? 'internal error' : aios.message;
  return {
    status,
    body: { error: { code: aios.code, message, details: safeDetails(aios.details), requestId } },
  };
}

/** Details are echoed to callers: only JSON-safe values, never causes or stacks. */
function safeDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!details) return {};
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Renders an error as the status and body a group of routes answers with. */
export type ErrorRenderer = (
  error: unknown,
  requestId: string,
) => { status: number; body: { error: { code?: string | null } } };

/**
 * A Fastify error handler answering in the shape `render` gives: server failures logged
 * with their cause, refusals logged by code, Retry-After on 429 and 503 when known.
 */
export function errorHandler(render: ErrorRenderer) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = render(error, request.id);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code, status }, 'request refused');
    if (status === 429 || status === 503) {
      const retry = (isAiosError(error) && error.details?.retryAfterSeconds) || undefined;
      if (typeof retry === 'number') void reply.header('retry-after', String(Math.ceil(retry)));
    }
    void reply.status(status).type('application/json').send(body);
  };
}

/**
 * The renderer of errors on `url`: OpenAI's clients parse their own error shape under the
 * paths of that API, every other path answers in the one shape.
 */
export function rendererFor(url: string): ErrorRenderer {
  return isOpenAiPath(url) ? openAiErrorResponse : errorResponse;
}

/**
 * Answers an error of the router itself (a URL that does not decode, a parameter over
 * maxParamLength), raised before any route or error handler is chosen.
 */
export function answerFrameworkError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const { status, body } = rendererFor(request.url)(error, request.id);
  void reply.status(status).type('application/json').send(body);
}

/** Installs the one error handler and the not-found handler. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(errorHandler(errorResponse));
  app.setNotFoundHandler((request, reply) => {
    // A path can be as long as the request line: it is not echoed whole.
    const path = clip(request.url.split('?')[0] ?? '', 200);
    const error = apiError('NOT_FOUND', `no route ${request.method} ${path}`);
    const { status, body } = rendererFor(request.url)(error, request.id);
    void reply.status(status).type('application/json').send(body);
  });
}
