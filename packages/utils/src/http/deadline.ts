import { AiosError } from '../errors.js';
import { HttpErrorCode, httpAborted } from './errors.js';

/**
 * One attempt's cancellation: the caller's signal plus a timer that fires after
 * `timeoutMs` of silence. Reading a body calls `touch()` per chunk, so a slow but steady
 * stream lives on while a stalled one times out.
 */
export class Deadline {
  readonly controller = new AbortController();
  private timedOut = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.controller.abort(this.signal?.reason);

  constructor(
    readonly url: string,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    if (signal?.aborted) this.controller.abort(signal.reason);
    else signal?.addEventListener('abort', this.onAbort, { once: true });
    this.touch();
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error('timeout'));
    }, this.timeoutMs);
  }

  done(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  /** Maps a fetch or body-read failure to a coded error. */
  classify(error: unknown, during: 'connect' | 'body'): AiosError {
    if (error instanceof AiosError) return error;
    const url = this.url;
    if (this.signal?.aborted) return httpAborted(url, this.signal);
    if (this.timedOut) {
      return new AiosError(
        HttpErrorCode.HTTP_TIMEOUT,
        `${url}: no answer within ${this.timeoutMs} ms`,
        { cause: error, details: { url, timeoutMs: this.timeoutMs } },
      );
    }
    // undici reports "fetch failed" and puts the reason (ECONNREFUSED...) in `cause`.
    const given =
      error instanceof Error
        ? ((error.cause as Error | undefined)?.message ?? error.message)
        : String(error);
    // The Fetch standard blocks ports of other protocols (9, 25, 6000...): said plainly.
    const reason =
      given === 'bad port'
        ? `port ${new URL(url).port} is one that fetch refuses to connect to (it is reserved for another protocol): give the server another port`
        : given;
    return during === 'body'
      ? new AiosError(
          HttpErrorCode.HTTP_BODY_INTERRUPTED,
          `${url}: the body broke off: ${reason}`,
          {
            cause: error,
            details: { url },
          },
        )
      : new AiosError(HttpErrorCode.HTTP_NETWORK, `${url}: ${reason}`, {
          cause: error,
          details: { url },
        });
  }
}
