import {
  type AiosConfig,
  AiosError,
  type HttpResponse,
  httpRequest,
  integerAtLeast,
  invalidInput,
  withRetries,
} from '@aios/utils';
import type { ChatMessage } from '../budget.js';
import { MESSAGE_OVERHEAD, REPLY_PRIMING } from '../budget.js';
import { LunaErrorCode } from '../errors.js';
import type { Usage } from '../store.js';
import type { Tokenizer } from '../tokens/index.js';
import { toLunaError } from './http-errors.js';

/** Where Luna looks for a local server when no base URL is configured, in order. */
export const DEFAULT_CANDIDATES = [
  'http://localhost:1234/v1',
  'http://localhost:11434/v1',
] as const;

export interface ChatClientOptions {
  /** OpenAI-compatible base URL (…/v1). Unset: probe `candidates`. */
  baseUrl?: string;
  /** Model id. Unset: the first model the server lists. */
  model?: string;
  apiKey?: string;
  /** Per attempt; for streams, the longest silence between two chunks. Default 60 s. */
  timeoutMs?: number;
  /** Retries after a 429, a 5xx, a timeout or a dropped connection. Default 2. */
  maxRetries?: number;
  /** First backoff delay; doubles per retry, with jitter. Default 250 ms. */
  retryBaseMs?: number;
  /** Longest backoff delay, also the cap on `Retry-After`. Default 8 s. */
  retryMaxMs?: number;
  /** Servers to probe when `baseUrl` is unset. Default LM Studio, then Ollama. */
  candidates?: readonly string[];
  /** Timeout of one probe. Default 1.5 s. */
  probeTimeoutMs?: number;
  /** Counts usage when the server reports none. */
  tokenizer?: Tokenizer;
}

export interface ChatRequest {
  messages: readonly ChatMessage[];
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  /** Sequences at which the model stops (OpenAI's `stop`, at most 4). */
  stop?: readonly string[];
  /** Stream the reply (SSE); `onDelta` receives each piece of text. */
  stream?: boolean;
  onDelta?: (text: string) => void;
  signal?: AbortSignal;
}

export interface ChatResult {
  content: string;
  model: string;
  baseUrl: string;
  finishReason: string | null;
  usage: Usage;
  /** 1 + retries used. */
  attempts: number;
  streamed: boolean;
}

export interface Endpoint {
  baseUrl: string;
  model: string;
}

/** Options for a client from the `luna.llm` section of the shared config. */
export function chatClientOptionsFromConfig(
  llm: AiosConfig['luna']['llm'],
  extra: Partial<ChatClientOptions> = {},
): ChatClientOptions {
  return {
    ...(llm.baseUrl ? { baseUrl: llm.baseUrl } : {}),
    ...(llm.model ? { model: llm.model } : {}),
    ...(llm.apiKey ? { apiKey: llm.apiKey } : {}),
    timeoutMs: llm.timeoutMs,
    maxRetries: llm.maxRetries,
    ...extra,
  };
}

const RETRYABLE = new Set<string>([
  LunaErrorCode.LLM_RATE_LIMITED,
  LunaErrorCode.LLM_SERVER_ERROR,
  LunaErrorCode.LLM_TIMEOUT,
  LunaErrorCode.LLM_UNREACHABLE,
]);

function llmError(
  code: string,
  message: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): AiosError {
  return new AiosError(code, message, { details, ...(cause === undefined ? {} : { cause }) });
}

function aborted(signal: AbortSignal | undefined): AiosError {
  return llmError(LunaErrorCode.ABORTED, 'the request was cancelled', {}, signal?.reason);
}

function positiveInt(value: number | undefined, field: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  return integerAtLeast(value, field, min);
}

/**
 * An OpenAI-compatible chat completions client: streaming and not, timeouts, retries with
 * exponential backoff (honouring `Retry-After`), cancellation, and usage accounting.
 */
export class ChatClient {
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly probeTimeoutMs: number;
  private endpoint: Endpoint | undefined;

  constructor(private readonly options: ChatClientOptions = {}) {
    this.timeoutMs = positiveInt(options.timeoutMs, 'timeoutMs', 60_000, 1);
    this.maxRetries = positiveInt(options.maxRetries, 'maxRetries', 2);
    this.retryBaseMs = positiveInt(options.retryBaseMs, 'retryBaseMs', 250);
    this.retryMaxMs = positiveInt(options.retryMaxMs, 'retryMaxMs', 8_000);
    this.probeTimeoutMs = positiveInt(options.probeTimeoutMs, 'probeTimeoutMs', 1_500, 1);
    if (options.baseUrl !== undefined && !/^https?:\/\/.+/.test(options.baseUrl)) {
      throw invalidInput(
        'baseUrl',
        options.baseUrl,
        'an http(s) URL such as http://localhost:1234/v1',
      );
    }
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    return headers;
  }

  /** Lists the server's models (`GET /models`); one attempt, probes must be quick. */
  private async listModels(
    baseUrl: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const url = `${baseUrl}/models`;
    let body: string;
    try {
      const response = await httpRequest(
        url,
        { headers: this.headers() },
        { timeoutMs, retries: 0, ...(signal ? { signal } : {}) },
      );
      body = await response.text();
    } catch (error) {
      const e = toLunaError(error);
      // Any status means the server is there but will not list models.
      if (e.code === LunaErrorCode.LLM_RATE_LIMITED || e.code === LunaErrorCode.LLM_SERVER_ERROR) {
        throw llmError(LunaErrorCode.LLM_HTTP_ERROR, e.message, e.details, e.cause);
      }
      throw e;
    }
    try {
      const parsed = JSON.parse(body) as { data?: { id?: unknown }[] };
      return (parsed.data ?? [])
        .map((m) => m.id)
        .filter((id): id is string => typeof id === 'string');
    } catch (error) {
      throw llmError(LunaErrorCode.LLM_BAD_RESPONSE, `${url}: not JSON`, { url }, error);
    }
  }

  /**
   * The server and model to use: the configured base URL, or the first candidate that
   * answers `GET /models`; the configured model, or the first one listed. Cached.
   */
  async resolve(signal?: AbortSignal): Promise<Endpoint> {
    if (this.endpoint) return this.endpoint;
    const { baseUrl, model } = this.options;
    if (baseUrl && model) {
      this.endpoint = { baseUrl: baseUrl.replace(/\/+$/, ''), model };
      return this.endpoint;
    }
    const candidates = baseUrl ? [baseUrl] : (this.options.candidates ?? DEFAULT_CANDIDATES);
    const failures: string[] = [];
    for (const candidate of candidates) {
      const base = candidate.replace(/\/+$/, '');
      let models: string[];
      try {
        models = await this.listModels(
          base,
          baseUrl ? this.timeoutMs : this.probeTimeoutMs,
          signal,
        );
      } catch (error) {
        if (error instanceof AiosError && error.code === LunaErrorCode.ABORTED) throw error;
        failures.push(error instanceof Error ? error.message : String(error));
        continue;
      }
      const chosen = model ?? models[0];
      if (!chosen) {
        throw llmError(LunaErrorCode.LLM_NO_MODEL, `${base} lists no model; set luna.llm.model`, {
          baseUrl: base,
        });
      }
      this.endpoint = { baseUrl: base, model: chosen };
      return this.endpoint;
    }
    throw llmError(
      LunaErrorCode.LLM_UNREACHABLE,
      `no OpenAI-compatible server answered (tried ${candidates.join(', ')}): ${failures.join('; ')}`,
      { tried: [...candidates], failures },
    );
  }

  /** Sends a chat completion request, retrying what is worth retrying. */
  async chat(request: ChatRequest): Promise<ChatResult> {
    if (!Array.isArray(request?.messages) || request.messages.length === 0) {
      throw invalidInput('messages', request?.messages, 'a non-empty array of chat messages');
    }
    const { signal } = request;
    if (signal?.aborted) throw aborted(signal);
    let endpoint: Endpoint;
    try {
      endpoint = await this.resolve(signal);
    } catch (error) {
      throw error instanceof AiosError
        ? error
        : llmError(LunaErrorCode.LLM_UNREACHABLE, String(error));
    }
    // A stream that broke off is tried again only while nothing of it reached `onDelta`.
    let emitted = false;
    try {
      const { value, attempts } = await withRetries(
        () => {
          emitted = false;
          return this.once(endpoint, request, () => {
            emitted = true;
          });
        },
        {
          retries: this.maxRetries,
          retryBaseMs: this.retryBaseMs,
          retryMaxMs: this.retryMaxMs,
          ...(signal ? { signal } : {}),
          retryable: (error) =>
            error instanceof AiosError &&
            (RETRYABLE.has(error.code) ||
              (error.code === LunaErrorCode.LLM_STREAM_INTERRUPTED && !emitted)),
        },
      );
      return { ...value, attempts };
    } catch (error) {
      const e = toLunaError(error);
      if (e.code === LunaErrorCode.LLM_UNREACHABLE && !this.options.baseUrl) {
        this.endpoint = undefined; // probe again next time
      }
      throw e;
    }
  }

  private async once(
    endpoint: Endpoint,
    request: ChatRequest,
    markEmitted: () => void,
  ): Promise<Omit<ChatResult, 'attempts'>> {
    const url = `${endpoint.baseUrl}/chat/completions`;
    const stream = request.stream === true;
    const body = {
      model: endpoint.model,
      messages: request.messages,
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.topP === undefined ? {} : { top_p: request.topP }),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.stop === undefined || request.stop.length === 0 ? {} : { stop: request.stop }),
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    let response: HttpResponse;
    try {
      response = await httpRequest(
        url,
        { method: 'POST', headers: this.headers(), body: JSON.stringify(body) },
        {
          timeoutMs: this.timeoutMs,
          retries: 0, // chat() retries, knowing whether a stream already emitted text
          ...(request.signal ? { signal: request.signal } : {}),
        },
      );
    } catch (error) {
      throw toLunaError(error);
    }
    if (stream) return await this.readStream(response, endpoint, request, url, markEmitted);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw toLunaError(error);
    }
    let parsed: {
      model?: string;
      choices?: { message?: { content?: unknown }; finish_reason?: string | null }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
    };
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw llmError(
        LunaErrorCode.LLM_BAD_RESPONSE,
        `${url}: the reply is not JSON: ${text.slice(0, 120)}`,
        { url },
        error,
      );
    }
    const choice = parsed?.choices?.[0];
    const content = choice?.message?.content;
    if (typeof content !== 'string') {
      throw llmError(
        LunaErrorCode.LLM_BAD_RESPONSE,
        `${url}: the reply has no choices[0].message.content`,
        { url },
      );
    }
    return {
      content,
      model: typeof parsed.model === 'string' ? parsed.model : endpoint.model,
      baseUrl: endpoint.baseUrl,
      finishReason: choice?.finish_reason ?? null,
      usage: this.usage(request.messages, content, parsed.usage),
      streamed: false,
    };
  }

  private async readStream(
    response: HttpResponse,
    endpoint: Endpoint,
    request: ChatRequest,
    url: string,
    markEmitted: () => void,
  ): Promise<Omit<ChatResult, 'attempts'>> {
    if (!response.response.body) {
      throw llmError(LunaErrorCode.LLM_BAD_RESPONSE, `${url}: no body`, { url });
    }
    let content = '';
    let model = endpoint.model;
    let finishReason: string | null = null;
    let done = false;
    let serverUsage:
      | { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number }
      | undefined;
    try {
      for await (const data of response.events()) {
        // Events already buffered when the caller cancels (one read can hold the rest of
        // the stream) must not complete the answer it gave up on.
        if (request.signal?.aborted) throw aborted(request.signal);
        if (data === '[DONE]') {
          done = true;
          break;
        }
        let chunk: {
          model?: string;
          choices?: { delta?: { content?: unknown }; finish_reason?: string | null }[];
          usage?: typeof serverUsage;
          error?: { message?: string };
        };
        try {
          chunk = JSON.parse(data);
        } catch (error) {
          throw llmError(
            LunaErrorCode.LLM_BAD_RESPONSE,
            `${url}: a stream event is not JSON: ${data.slice(0, 120)}`,
            { url },
            error,
          );
        }
        if (chunk.error) {
          throw llmError(
            LunaErrorCode.LLM_SERVER_ERROR,
            `${url}: ${chunk.error.message ?? 'error event'}`,
            { url },
          );
        }
        if (typeof chunk.model === 'string') model = chunk.model;
        if (chunk.usage) serverUsage = chunk.usage;
        const choice = chunk.choices?.[0];
        const delta = choice?.delta?.content;
        if (typeof delta === 'string' && delta !== '') {
          content += delta;
          markEmitted();
          request.onDelta?.(delta);
        }
        if (choice?.finish_reason) finishReason = choice.finish_reason;
      }
    } catch (error) {
      throw toLunaError(error, 'stream');
    }
    if (request.signal?.aborted) throw aborted(request.signal);
    if (!done && finishReason === null) {
      throw llmError(
        LunaErrorCode.LLM_STREAM_INTERRUPTED,
        `${url}: the stream ended before it was complete (${content.length} characters received)`,
        { url, partial: content },
      );
    }
    return {
      content,
      model,
      baseUrl: endpoint.baseUrl,
      finishReason,
      usage: this.usage(request.messages, content, serverUsage),
      streamed: true,
    };
  }

  private usage(
    messages: readonly ChatMessage[],
    content: string,
    reported:
      | { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number }
      | undefined,
  ): Usage {
    if (
      reported &&
      typeof reported.prompt_tokens === 'number' &&
      typeof reported.completion_tokens === 'number'
    ) {
      return {
        promptTokens: reported.prompt_tokens,
        completionTokens: reported.completion_tokens,
        totalTokens: reported.total_tokens ?? reported.prompt_tokens + reported.completion_tokens,
        estimated: false,
      };
    }
    const tokenizer = this.options.tokenizer;
    const counts = tokenizer
      ? tokenizer.countMany([...messages.map((m) => m.content), content])
      : undefined;
    let promptTokens = REPLY_PRIMING + MESSAGE_OVERHEAD * messages.length;
    let completionTokens = 0;
    if (counts) {
      for (let i = 0; i < messages.length; i++) promptTokens += counts[i] ?? 0;
      completionTokens = counts[messages.length] ?? 0;
    } else {
      // Without a tokenizer: about four characters a token.
      for (const m of messages) promptTokens += Math.ceil(m.content.length / 4);
      completionTokens = Math.ceil(content.length / 4);
    }
    return {
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
      estimated: true,
    };
  }
}
