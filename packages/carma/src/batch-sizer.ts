/**
 * How many texts go into one embeddings request. A fixed count is wrong for most servers:
 * 64 abstracts take a CPU model half a minute (past the request timeout, so the server's
 * work is thrown away and asked again), while a GPU server wants large batches. The size
 * starts small, doubles while requests come back well within the target time, and halves
 * when one takes longer or times out; a character budget keeps a request within the
 * body and token limits servers put on it.
 */
export interface BatchSizerOptions {
  /** The most texts in one request. */
  max: number;
  /** The most characters in one request (a single longer text still goes alone). */
  maxChars: number;
  /** How long a request should take at most; well below the request timeout. */
  targetMs: number;
  /** The first size (default: the smaller of 16 and `max`). */
  initial?: number;
}

export class BatchSizer {
  private current: number;

  constructor(private readonly options: BatchSizerOptions) {
    this.current = Math.max(1, Math.min(options.max, options.initial ?? 16));
  }

  /** The texts per request now. */
  get size(): number {
    return this.current;
  }

  /** The end (exclusive) of the next request's texts, from `start`. */
  cut(texts: readonly string[], start: number): number {
    let end = start;
    let chars = 0;
    while (end < texts.length && end - start < this.current) {
      const length = (texts[end] as string).length;
      if (end > start && chars + length > this.options.maxChars) break;
      chars += length;
      end++;
    }
    return end;
  }

  /** A request of `count` texts answered in `ms`: grow when well within the target. */
  answered(count: number, ms: number): void {
    if (ms > this.options.targetMs) {
      this.current = Math.max(1, Math.floor(this.current / 2));
    } else if (ms < this.options.targetMs / 2 && count >= this.current) {
      this.current = Math.min(this.options.max, this.current * 2);
    }
  }

  /** A request timed out or was too large for the server: half as many next time. */
  tooLarge(count: number): void {
    this.current = Math.max(1, Math.min(this.current, Math.floor(count / 2)));
  }
}
