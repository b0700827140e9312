/**
 * At most `limit` holders at once; the others wait their turn, first come first served.
 * Shared by every `embed` of one embedder, so that calls made at the same time (a search
 * during an ingest, pipelined batches) never put more requests in flight than allowed.
 */
export class Limiter {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** Waits for a slot; call the function returned to give it back (once). */
  async acquire(): Promise<() => void> {
    if (this.held < this.limit) this.held++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so that no new caller overtakes it.
      if (next) next();
      else this.held--;
    };
  }
}
