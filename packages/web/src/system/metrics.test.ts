import { describe, expect, it } from 'vitest';
import { pointsOf, readScrape } from './metrics';

const scrape = (requests: number, sum: number, count: number, items: number) => `
# HELP aios_requests_total Requests.
# TYPE aios_requests_total counter
aios_requests_total{operation="ask",outcome="ok"} ${requests - 1}
aios_requests_total{operation="search",outcome="ok"} 1
# HELP aios_request_duration_seconds Durations.
# TYPE aios_request_duration_seconds histogram
aios_request_duration_seconds_bucket{operation="ask",le="+Inf"} ${count}
aios_request_duration_seconds_sum{operation="ask"} ${sum}
aios_request_duration_seconds_count{operation="ask"} ${count}
# HELP aios_memory_items Items.
# TYPE aios_memory_items gauge
aios_memory_items ${items}
`;

describe('metrics over time', () => {
  it('sums every series of a metric and reads histogram sums and counts', () => {
    const s = readScrape(scrape(10, 2, 4, 7), 0);
    expect(s).toMatchObject({ requests: 10, durationSum: 2, durationCount: 4, memoryItems: 7 });
    expect(s.tokens).toBe(0);
  });

  it('gives rates per minute and the mean latency of each interval', () => {
    const points = pointsOf([
      readScrape(scrape(10, 2, 4, 7), 0),
      readScrape(scrape(40, 5, 10, 9), 30_000),
      readScrape(scrape(40, 5, 10, 9), 60_000),
    ]);
    expect(points).toHaveLength(2);
    expect(points[0]).toMatchObject({ requestsPerMinute: 60, memoryItems: 9 });
    expect(points[0]?.meanLatencyMs).toBeCloseTo(500);
    expect(points[1]).toMatchObject({ requestsPerMinute: 0, meanLatencyMs: null });
  });

  it('counts from zero after a counter reset', () => {
    const points = pointsOf([
      readScrape(scrape(100, 2, 4, 7), 0),
      readScrape(scrape(3, 2, 4, 7), 60_000),
    ]);
    expect(points[0]?.requestsPerMinute).toBe(3);
  });
});
