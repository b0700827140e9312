import type { CarmaEngine, HnswParams } from '@aios/carma';

/** Rows added per `addAsync` while the searches run. */
const BATCH = 5000;

export interface SearchWhileAdding {
  /** Rows added per second while the searches ran. */
  rowsPerS: number;
  /** Searches answered while the batches were added. */
  searches: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Searches one after the other while `rows` more rows are added to an index that holds
 * `base` rows with a graph, in batches of 5,000 (as an ingest lands): how long a search
 * waits for an add. Natively an add links its rows under a shared lock; in js a slice of
 * the event loop at a time.
 */
export async function searchWhileAdding(
  engine: CarmaEngine,
  params: { data: Float32Array; dim: number; base: number; rows: number; hnsw: HnswParams },
  queries: Float32Array,
): Promise<SearchWhileAdding> {
  const { data, dim, base, rows, hnsw } = params;
  const labels = (from: number, count: number) =>
    Uint32Array.from({ length: count }, (_, i) => from + i);
  const index = engine.createVectorIndex(dim, 'dot', hnsw);
  await index.addAsync(labels(0, base), data.subarray(0, base * dim));
  const nq = queries.length / dim;
  const latencies: number[] = [];
  let adding = true;
  const searching = (async () => {
    for (let q = 0; adding; q++) {
      const t = performance.now();
      await index.searchAsync(queries.subarray((q % nq) * dim, ((q % nq) + 1) * dim), 10);
      latencies.push(performance.now() - t);
      // js answers synchronously: a turn of the event loop lets the adds go on.
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const started = performance.now();
  for (let at = base; at < base + rows; at += BATCH) {
    const count = Math.min(BATCH, base + rows - at);
    await index.addAsync(labels(at, count), data.subarray(at * dim, (at + count) * dim));
    // Between batches, as an ingest reads its next part.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - started) / 1000;
  adding = false;
  await searching;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return {
    rowsPerS: rows / seconds,
    searches: latencies.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: latencies.at(-1) ?? 0,
  };
}
