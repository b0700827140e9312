import type { EventRepository, StoredEvent } from '@aios/data';
import {
  addMetricsStates,
  checkMetricsState,
  emptyMetricsState,
  isEmptyMetricsState,
  type Metrics,
  type MetricsState,
  subtractMetricsStates,
} from '@aios/support';

/** Event type of one process's share of the metrics. */
export const METRICS_DELTA_EVENT = 'aios.metrics.delta';
/** Event type of the totals of every delta up to one of them. */
export const METRICS_CHECKPOINT_EVENT = 'aios.metrics.checkpoint';

/** Deltas read on open after which the totals are written down as a checkpoint. */
const CHECKPOINT_AFTER = 50;
/**
 * Deltas are found by time (the events table is indexed by type and time), then by id. A
 * delta is timed just before it is inserted, so one with a larger id than a checkpoint's
 * last may carry a slightly earlier time: read back this far before the checkpoint's time.
 */
const CLOCK_SLACK_MS = 60 * 60 * 1000;
const FORMAT_VERSION = 1;

interface DeltaData {
  version: number;
  state: MetricsState;
}

interface CheckpointData extends DeltaData {
  /** Id and time of the newest delta the state includes. */
  throughId: number;
  throughAt: number;
}

function stateOf(event: StoredEvent): MetricsState | undefined {
  const data = event.data as Partial<DeltaData> | null;
  if (data?.version !== FORMAT_VERSION) return undefined;
  try {
    return checkMetricsState(data.state);
  } catch {
    return undefined; // written by something else under our type: not ours to count
  }
}

/**
 * Keeps the counters and histograms of `Metrics` across processes in the data store, so
 * that `aios metrics` shows the totals of every command run, not only its own.
 *
 * Why deltas, one event per process, and checkpoints:
 * - Every CLI command is its own short process, and several may run at once (a chat while
 *   a backup runs). A snapshot of the totals written on close would lose counts: two
 *   processes that read the same totals on open would each write their own sum, and the
 *   last one wins. Each process instead appends only what it recorded itself (`save`, one
 *   `events.add` of a few hundred bytes on close): appends never overwrite each other, so
 *   counters only grow and histograms stay cumulative, whatever the interleaving.
 * - An event per observation would be just as correct but costs a write per request (a
 *   synchronous SQLite transaction inside `aios ask`) and a read of all of them on open.
 * - Reading every delta ever written on open would grow without bound, so when a process
 *   reads more than `CHECKPOINT_AFTER` of them it appends a checkpoint: the totals through
 *   the newest delta it read. The next process reads the latest checkpoint and only the
 *   deltas after it. A checkpoint never replaces or deletes anything, so two processes
 *   writing one at the same time are both right, and any checkpoint plus the deltas after
 *   it gives the same totals.
 * - Gauges (memory size, health status) are current values, not totals: never kept.
 *
 * The metrics live in the database, so they are part of a backup; restoring an older
 * snapshot in place brings back that snapshot's totals, which Prometheus reads as a
 * counter reset (as after a restart).
 */
export class MetricsJournal {
  /** What `metrics.recorded()` was at the last save: the part already in the store. */
  private saved: MetricsState = emptyMetricsState();
  private loaded = false;

  constructor(
    readonly metrics: Metrics,
    private readonly events: Pick<EventRepository, 'add' | 'list'>,
  ) {}

  /**
   * Carries the totals that earlier processes kept into `metrics` (`render()` then shows
   * them plus what this process records). Returns how many deltas it read; a second call
   * reads nothing (the totals are carried once).
   */
  async load(): Promise<number> {
    if (this.loaded) return 0;
    this.loaded = true;
    let totals = emptyMetricsState();
    let throughId = 0;
    let from: number | undefined;
    const [checkpoint] = await this.events.list({ type: METRICS_CHECKPOINT_EVENT, limit: 1 });
    const base = checkpoint && stateOf(checkpoint);
    if (checkpoint && base) {
      const data = checkpoint.data as unknown as CheckpointData;
      if (Number.isSafeInteger(data.throughId) && Number.isFinite(data.throughAt)) {
        totals = base;
        throughId = data.throughId;
        from = data.throughAt - CLOCK_SLACK_MS;
      }
    }
    const deltas = (
      await this.events.list({
        type: METRICS_DELTA_EVENT,
        ...(from === undefined ? {} : { from }),
        limit: 1_000_000,
      })
    ).filter((e) => e.id > throughId);
    let newest: StoredEvent | undefined;
    for (const event of deltas) {
      const state = stateOf(event);
      if (!state) continue;
      totals = addMetricsStates(totals, state);
      if (!newest || event.id > newest.id) newest = event;
    }
    this.metrics.carry(totals);
    if (newest && deltas.length >= CHECKPOINT_AFTER) {
      const data: CheckpointData = {
        version: FORMAT_VERSION,
        state: totals,
        throughId: newest.id,
        throughAt: newest.createdAt,
      };
      await this.events.add([
        { type: METRICS_CHECKPOINT_EVENT, data: data as unknown as Record<string, unknown> },
      ]);
    }
    return deltas.length;
  }

  /** Appends what this process recorded since the last save; false when there was nothing. */
  async save(): Promise<boolean> {
    const recorded = await this.metrics.recorded();
    const delta = subtractMetricsStates(recorded, this.saved);
    if (isEmptyMetricsState(delta)) return false;
    const data: DeltaData = { version: FORMAT_VERSION, state: delta };
    await this.events.add([
      { type: METRICS_DELTA_EVENT, data: data as unknown as Record<string, unknown> },
    ]);
    this.saved = recorded;
    return true;
  }
}
