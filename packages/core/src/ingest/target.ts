import type { Fragment, Memory } from '@aios/carma';
import type { DataStore } from '@aios/data';

/**
 * What ingest and forget work on: the memory and the data store holding its source index
 * (an `Aios` is one). A bare `Memory` can be ingested into too, without the index: files
 * are then only added, never compared with what was ingested before.
 */
export interface IngestTarget {
  memory: Memory;
  data: DataStore;
}

export function isIngestTarget(value: Memory | IngestTarget): value is IngestTarget {
  return 'data' in value && 'memory' in value;
}

/**
 * Runs `fn` as one transaction of the data store: the memory's writes and the source
 * index's commit together or not at all. Afterwards the memory takes in what was
 * committed: inside a transaction it cannot move its position in the history (a rollback
 * would take rows back), so without this every later write would look again at every
 * change since, and a run of many transactions would grow quadratic. After a rollback it
 * takes in what the database holds again, or its next write would start from what was
 * taken back.
 *
 * The memory's turn is taken first (`exclusive`), then the store's: a memory write made
 * while the transaction holds the store must not wait behind another mutation or a
 * background catch-up of the memory, which would be waiting for the store.
 */
export async function atomically<T>(target: IngestTarget, fn: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await target.memory.exclusive(() => target.data.transaction(() => fn()));
  } catch (error) {
    await target.memory.refresh().catch(() => undefined); // the first failure is the one to report
    throw error;
  }
  await target.memory.refresh();
  return result;
}

/** `path`, or a file or folder below it (paths as `resolve` gives them). */
export function within(path: string, roots: readonly string[], sep: string): boolean {
  return roots.some(
    (root) => path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`),
  );
}

/** The file a fragment was ingested from, if it was. */
export function sourceOf(f: Pick<Fragment, 'metadata'>): string | undefined {
  const source = f.metadata.source;
  return typeof source === 'string' ? source : undefined;
}

/**
 * Why a run stopped, as its result says it: a signal's name (`SIGINT`) or an error's
 * message (`cancelled by request`), without the error's class name.
 */
export function stopReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason.message;
  return String(reason ?? 'aborted');
}
