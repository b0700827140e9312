/**
 * Group commit for adds. Mutations of a memory run one at a time; adds made while one runs
 * wait for their turn, and those that wait together are stored together: one batch, one
 * transaction, one commit (one fsync on PostgreSQL), where each would have paid its own.
 * A server whose clients add one note per request gets most of a batch's speed.
 *
 * Each caller still gets the results of its own inputs, in their order, and what it would
 * have got alone: inputs are checked before they join (a bad one fails its caller only),
 * and the batch keeps the callers' order, so a text added twice is `added` for the first
 * and `duplicate` for the second. An add joins only the group queued last, with no other
 * mutation queued after it, so no add overtakes an update, delete or other call made
 * before it. Adds made inside a turn of the queue (inside `exclusive`) are not grouped.
 */
import type { ReentrantQueue } from '@aios/utils';
import type { DocumentVectors } from './document-vectors.js';
import type { AddResult } from './memory-types.js';
import type { ParsedInput } from './validation.js';

/** The most inputs one group takes: a larger batch gains nothing more. */
export const MOST_GROUPED = 10_000;

interface Caller {
  count: number;
  resolve: (results: AddResult[]) => void;
  reject: (error: unknown) => void;
}

interface Group {
  parsed: ParsedInput[];
  ready: DocumentVectors | undefined;
  callers: Caller[];
  /** `queue.calls` once the group was queued: a call since, and no add joins it. */
  calls: number;
}

export class AddGroups {
  /** The group queued last, until its turn starts. */
  private waiting: Group | undefined;

  constructor(
    private readonly queue: ReentrantQueue,
    /** Queues `store` as a mutation (through `queue`). */
    private readonly mutate: (store: () => Promise<AddResult[]>) => Promise<AddResult[]>,
    private readonly store: (
      parsed: ParsedInput[],
      ready: DocumentVectors | undefined,
    ) => Promise<AddResult[]>,
  ) {}

  /** Stores `parsed` (checked inputs) with the adds that wait with it; its own results. */
  add(parsed: ParsedInput[], ready: DocumentVectors | undefined): Promise<AddResult[]> {
    if (this.queue.inside()) return this.mutate(() => this.store(parsed, ready));
    const waiting = this.waiting;
    if (
      waiting &&
      waiting.calls === this.queue.calls &&
      waiting.parsed.length + parsed.length <= MOST_GROUPED
    ) {
      return join(waiting, parsed, ready);
    }
    const group: Group = { parsed: [], ready: undefined, callers: [], calls: 0 };
    const own = join(group, parsed, ready);
    this.waiting = group;
    this.mutate(() => {
      if (this.waiting === group) this.waiting = undefined;
      return this.store(group.parsed, group.ready);
    }).then(
      (results) => {
        this.settled(group);
        let at = 0;
        for (const caller of group.callers) {
          caller.resolve(results.slice(at, at + caller.count));
          at += caller.count;
        }
      },
      (error: unknown) => {
        this.settled(group);
        for (const caller of group.callers) caller.reject(error);
      },
    );
    group.calls = this.queue.calls;
    return own;
  }

  /**
   * No add joins a group once its turn is over: a turn that failed before storing (the
   * store unreachable as it caught up) never cleared it, and an add joining it then would
   * wait forever.
   */
  private settled(group: Group): void {
    if (this.waiting === group) this.waiting = undefined;
  }
}

function join(
  group: Group,
  parsed: ParsedInput[],
  ready: DocumentVectors | undefined,
): Promise<AddResult[]> {
  for (const input of parsed) group.parsed.push(input);
  if (ready) {
    group.ready ??= new Map();
    for (const [hash, vector] of ready) group.ready.set(hash, vector);
  }
  return new Promise((resolve, reject) => {
    group.callers.push({ count: parsed.length, resolve, reject });
  });
}
