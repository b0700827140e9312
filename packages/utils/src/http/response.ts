import type { Deadline } from './deadline.js';
import { parseSse } from './sse.js';

/**
 * A 2xx response whose body is read under the request's idle timeout and AbortSignal;
 * read it once with `text()`, `json()` or `events()`, or `close()` it.
 */
export class HttpResponse {
  /** 1 + the retries used. */
  attempts = 1;

  constructor(
    readonly response: Response,
    private readonly deadline: Deadline,
  ) {}

  get status(): number {
    return this.response.status;
  }

  get headers(): Headers {
    return this.response.headers;
  }

  async text(): Promise<string> {
    try {
      return await this.response.text();
    } catch (error) {
      throw this.deadline.classify(error, 'body');
    } finally {
      this.deadline.done();
    }
  }

  /** The body parsed as JSON; `undefined` when it is not JSON. */
  async json(): Promise<unknown> {
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  /** The `data` of each server-sent event; every chunk restarts the idle timer. */
  async *events(): AsyncGenerator<string> {
    const body = this.response.body;
    try {
      if (!body) return;
      try {
        for await (const data of parseSse(body, () => this.deadline.touch())) yield data;
      } catch (error) {
        throw this.deadline.classify(error, 'body');
      }
    } finally {
      this.deadline.done();
    }
  }

  /** Releases the connection without reading the body. */
  async close(): Promise<void> {
    this.deadline.done();
    await this.response.body?.cancel().catch(() => {});
  }
}
