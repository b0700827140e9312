/**
 * A queue of turns that calls made from inside a turn do not wait behind. `SerialQueue`
 * runs calls one at a time; a call made from inside a running call would wait for that
 * call to end, which waits for it: a deadlock. Here such a call runs inside the turn it
 * was made from (in order with the other calls made there), so a caller may hold the
 * queue across several calls of its own (`run(() => ...)`) and keep everyone else out.
 *
 * "From inside" is the asynchronous context (AsyncLocalStorage): calls made by a turn's
 * function, its awaits and the callbacks it set up. Once the function has settled its
 * context is no longer a turn: a late call (a timer it left behind) queues as any other.
 * The turn ends when the function and every call made inside it have settled.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { SerialQueue } from './serial-queue.js';

interface Turn {
  readonly owner: ReentrantQueue;
  /** The calls made from inside this turn, one at a time. */
  readonly inside: SerialQueue;
  open: boolean;
  /** The turn (of any queue) this one was taken inside, if any. */
  readonly outer: Turn | undefined;
}

// One storage for every queue: a context inside turns of several queues holds a chain.
const turns = new AsyncLocalStorage<Turn>();

export class ReentrantQueue {
  private readonly queue = new SerialQueue();
  private queued = 0;

  /**
   * How many calls were made outside any turn so far: a caller that queued one can tell
   * whether another was queued after it.
   */
  get calls(): number {
    return this.queued;
  }

  /** Calls queued or running outside any turn of this queue. */
  get pending(): number {
    return this.queue.pending;
  }

  /** Whether the calling context is inside a turn of this queue. */
  inside(): boolean {
    return this.turnHere() !== undefined;
  }

  /**
   * Runs `fn` once every earlier call has settled, or, called from inside a turn, once the
   * earlier calls of that turn have.
   */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const here = this.turnHere();
    if (!here) this.queued++;
    return (here ? here.inside : this.queue).run(() => {
      const turn: Turn = {
        owner: this,
        inside: new SerialQueue(),
        open: true,
        outer: turns.getStore(),
      };
      return turns.run(turn, async () => {
        try {
          return await fn();
        } finally {
          turn.open = false;
          await turn.inside.idle();
        }
      });
    });
  }

  private turnHere(): Turn | undefined {
    for (let turn = turns.getStore(); turn; turn = turn.outer) {
      if (turn.owner === this && turn.open) return turn;
    }
    return undefined;
  }
}
