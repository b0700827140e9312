/** One reading of the server process. */
export interface Sample {
  /** Seconds since the load started. */
  seconds: number;
  /** Requests answered so far. */
  requests: number;
  rssBytes: number;
  /** Resident memory that is not a mapped file (the heap, malloc, native indexes). */
  anonBytes: number;
  /** Buffers and ArrayBuffers. */
  externalBytes: number;
  /** The home database's write-ahead log. */
  walBytes: number;
  /** V8 heap in use after a forced full collection. */
  heapBytes: number;
  fds: number;
  /** Lines of `/metrics`: grows with every new label value. */
  metricLines: number;
}

/**
 * Least-squares slope of `value` against requests, per 10,000 requests: how much a reading
 * grows with use, whatever the request rate.
 */
export function slopePer10k(samples: Sample[], value: (sample: Sample) => number): number {
  const n = samples.length;
  if (n < 2) return Number.NaN;
  const mx = samples.reduce((sum, s) => sum + s.requests, 0) / n;
  const my = samples.reduce((sum, s) => sum + value(s), 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.requests - mx) * (value(s) - my);
    den += (s.requests - mx) ** 2;
  }
  return den === 0 ? Number.NaN : (num / den) * 10_000;
}
