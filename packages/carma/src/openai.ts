import { AiosError, HttpErrorCode, httpRequest, invalidInput } from '@aios/utils';
import type { Embedder } from './embedder.js';
import { CarmaErrorCode } from './errors.js';

export interface OpenAIEmbedderOptions {
  /** Base URL of an OpenAI-compatible API, e.g. `http://localhost:11434/v1` (Ollama). */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Texts per request. Default 64. */
  batchSize?: number;
  /** Per request. Default 30,000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a network error, a timeout, 429 or 5xx. Default 2. */
  retries?: number;
  /** The expected dimension; otherwise taken from the first response. */
  dimension?: number;
  /** For tests and custom transports. Default: global `fetch`. */
  fetch?: typeof fetch;
}

interface EmbeddingsResponse {
  data?: Array<{ embedding?: unknown; index?: number }>;
}

/**
 * Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (Ollama, LM Studio,
 * vLLM, OpenAI...), batched, with timeouts and retries. The dimension comes from the first
 * response; a later response of another dimension is a `DIMENSION_MISMATCH` error.
 */
export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  private dim: number | undefined;
  private readonly url: string;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly fetchFn: typeof fetch;

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
    this.batchSize = positive(options.batchSize, 'batchSize', 64);
    this.timeoutMs = positive(options.timeoutMs, 'timeoutMs', 30_000);
    this.retries = positive(options.retries, 'retries', 2, 0);
    this.dim =
      options.dimension === undefined ? undefined : positive(options.dimension, 'dimension', 0);
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
    this.id = `openai:${options.baseUrl.replace(/\/+$/, '')}#${options.model}`;
    this.fetchFn = options.fetch ?? fetch;
  }

  get dimension(): number | undefined {
    return this.dim;
  }

  async embed(texts: string[]): Promise<Float32Array> {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
      throw invalidInput('texts', texts, 'an array of strings');
    }
    const batches: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      batches.push(await this.request(texts.slice(i, i + this.batchSize)));
    }
    const dim = this.dim ?? 0;
    const out = new Float32Array(texts.length * dim);
    let offset = 0;
    for (const b of batches) {
      out.set(b, offset);
      offset += b.length;
    }
    return out;
  }

  private async request(input: string[]): Promise<Float32Array> {
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
          body: JSON.stringify({ model: this.options.model, input, encoding_format: 'float' }),
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
