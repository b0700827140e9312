/** The totals of one scrape of /metrics that the System page plots. */
export interface Scrape {
  at: number;
  requests: number;
  durationSum: number;
  durationCount: number;
  tokens: number;
  memoryItems: number;
  memoryBytes: number;
}

/** `name{labels} value [timestamp]`: a sample line of the Prometheus text format. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\s+(\S+)/;

/**
 * Totals by sample name (every label set added up). The page needs sums only, so a line
 * reader is enough; comments and malformed lines are skipped.
 */
export function totalsOf(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line.trim());
    if (!match) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    const name = match[1] as string;
    totals.set(name, (totals.get(name) ?? 0) + value);
  }
  return totals;
}

/** The totals the page plots from one scrape taken at `at`. */
export function readScrape(text: string, at: number): Scrape {
  const totals = totalsOf(text);
  const total = (name: string) => totals.get(name) ?? 0;
  return {
    at,
    requests: total('aios_requests_total'),
    durationSum: total('aios_request_duration_seconds_sum'),
    durationCount: total('aios_request_duration_seconds_count'),
    tokens: total('aios_tokens_total'),
    memoryItems: total('aios_memory_items'),
    memoryBytes: total('aios_memory_size_bytes'),
  };
}

/** One point per scrape after the first: rates and means over the interval before it. */
export interface Point {
  at: number;
  requestsPerMinute: number;
  /** Mean request duration over the interval, ms (null: no request in it). */
  meanLatencyMs: number | null;
  memoryItems: number;
  tokens: number;
}

export function pointsOf(scrapes: readonly Scrape[]): Point[] {
  const points: Point[] = [];
  for (let i = 1; i < scrapes.length; i++) {
    const before = scrapes[i - 1] as Scrape;
    const now = scrapes[i] as Scrape;
    const minutes = (now.at - before.at) / 60_000;
    if (minutes <= 0) continue;
    // A counter that went down was reset (the server restarted): count from zero.
    const requests =
      now.requests >= before.requests ? now.requests - before.requests : now.requests;
    const count = now.durationCount - before.durationCount;
    const seconds = now.durationSum - before.durationSum;
    points.push({
      at: now.at,
      requestsPerMinute: requests / minutes,
      meanLatencyMs: count > 0 ? (seconds / count) * 1000 : null,
      memoryItems: now.memoryItems,
      tokens: now.tokens,
    });
  }
  return points;
}
