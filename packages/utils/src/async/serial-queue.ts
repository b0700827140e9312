export interface SerialQueueOptions {
  /**
   * With nothing queued or running, run a call at once, in the caller's tick, instead of
   * after a microtask hop; a call that returns a plain value then settles without ever
   * entering the queue. For hot paths whose calls are mostly synchronous (one SQLite
   * connection).
   */
  immediate?: boolean;
}

/**
 * Runs calls one at a time, in the order they were made: each starts once every earlier
 * one has settled, whatever its outcome (a failure is reported to its own caller and does
 * not stop the queue).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private outstanding = 0;
  private readonly immediate: boolean;

  constructor(options: SerialQueueOptions = {}) {
    this.immediate = options.immediate ?? false;
  }

  /** Calls queued or running. */
  get pending(): number {
    return this.outstanding;
  }

  run<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.immediate && this.outstanding === 0) {
      let result: T | Promise<T>;
      try {
        result = fn();
      } catch (error) {
        return Promise.reject(error);
      }
      if (!(result instanceof Promise)) return Promise.resolve(result);
      return this.track(result);
    }
    return this.track(this.tail.then(() => fn()));
  }

  /** Settles (never rejects) once every call made so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }

  private track<T>(running: Promise<T>): Promise<T> {
    this.outstanding++;
    const settled = running.finally(() => this.outstanding--);
    this.tail = settled.catch(() => undefined);
    return settled;
  }
}

/** A function that runs what it is given one call at a time (see `SerialQueue`). */
export function serial(options?: SerialQueueOptions): <T>(fn: () => T | Promise<T>) => Promise<T> {
  const queue = new SerialQueue(options);
  return (fn) => queue.run(fn);
}
