/**
 * Following a store that other servers write to (PostgreSQL). The store's change notices
 * are the fast path: a notice of a seq this memory has not reached queues one catch-up
 * (coalesced: notices that arrive while one is queued add nothing). A timer polls the
 * latest seq as the fallback for a notice that was lost, and every (re)connect of the
 * listener is followed by a catch-up, since notices sent while it was down are gone.
 *
 * While the listener is live and its last resync has been caught up, a search need not
 * ask the store for its latest seq first (a round trip on the store's one connection,
 * queued behind its writes): the notice brings the change within milliseconds (measured
 * in the README). Otherwise, and on SQLite (no notices), every search asks.
 */
import type { ChangeWatch } from '@aios/data';
import type { FragmentStore } from './fragment-store.js';

/** Default interval of the fallback poll. */
export const DEFAULT_FOLLOW_POLL_MS = 1000;

export interface FollowStatus {
  /**
   * `notices`: the store's notices keep the memory up to date (searches skip the check);
   * `polling`: notices are expected but the listener is down or resyncing (searches
   * check); `per-search`: the store has no notices (SQLite: every search checks).
   */
  mode: 'notices' | 'polling' | 'per-search';
  /** Catch-ups run in the background (after a notice, a resync or a poll). */
  catchUps: number;
  /** Notices of a seq the memory had not reached. */
  notices: number;
  /** Resyncs asked by the listener (one per connect). */
  resyncs: number;
}

export interface ChangeFollowerOptions {
  store: FragmentStore;
  /** The history position the memory's state reflects. */
  position(): number;
  /**
   * Runs a catch-up among the memory's mutations (one at a time), unless it closed;
   * calls `started` when its turn comes, before it reads anything.
   */
  catchUp(started: () => void): Promise<void>;
  pollMs: number;
  /**
   * Called with the first failure of a background catch-up or poll after a success (the
   * next one tries again; a server that is down is reported once, not once a poll).
   */
  failed(error: unknown): void;
}

export class ChangeFollower {
  private watch: ChangeWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** A catch-up is queued and has not started yet. */
  private queued = false;
  private polling = false;
  private resyncsAsked = 0;
  private resyncsDone = 0;
  private stopped = false;
  /** The last background catch-up or poll failed (its failure was reported). */
  private failing = false;
  private readonly counts = { catchUps: 0, notices: 0 };

  constructor(private readonly options: ChangeFollowerOptions) {}

  /** Subscribes to the store's notices and starts the poll; nothing on a store without. */
  start(): void {
    this.watch = this.options.store.watchChanges?.({
      onChange: (seq) => {
        if (seq <= this.options.position()) return; // this memory's own write, or seen
        this.counts.notices++;
        this.request();
      },
      onResync: () => {
        this.resyncsAsked++;
        this.request();
      },
    });
    if (!this.watch) return;
    this.timer = setInterval(() => this.poll(), this.options.pollMs);
    this.timer.unref();
  }

  /** Whether searches may rely on the notices instead of checking the store themselves. */
  get trusted(): boolean {
    return this.watch?.live === true && this.resyncsDone === this.resyncsAsked && !this.stopped;
  }

  status(): FollowStatus {
    return {
      mode: !this.watch ? 'per-search' : this.trusted ? 'notices' : 'polling',
      ...this.counts,
      resyncs: this.resyncsAsked,
    };
  }

  /** Queues one catch-up unless one is queued already. */
  private request(): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    let asked = 0;
    // Notices from the moment it starts reading queue the next one; a catch-up that starts
    // after a resync covers it (what was missed was committed before).
    const started = () => {
      this.queued = false;
      asked = this.resyncsAsked;
      this.counts.catchUps++;
    };
    this.options
      .catchUp(started)
      .then(() => {
        this.resyncsDone = Math.max(this.resyncsDone, asked);
        this.failing = false;
      })
      .catch((error: unknown) => {
        this.queued = false;
        this.fail(error);
      });
  }

  /** The fallback: asks the latest seq and catches up when it moved (a notice was lost). */
  private poll(): void {
    if (this.polling || this.queued || this.stopped) return;
    this.polling = true;
    this.options.store
      .latestSeq()
      .then((seq) => {
        this.failing = false;
        if (seq !== this.options.position()) this.request();
      })
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.polling = false;
      });
  }

  private fail(error: unknown): void {
    if (this.stopped || this.failing) return;
    this.failing = true;
    this.options.failed(error);
  }

  /** Stops the poll and the subscription (the listening connection closes with it). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    const watch = this.watch;
    this.watch = undefined;
    await watch?.close();
  }
}
