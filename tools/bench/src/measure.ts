import { Bench } from 'tinybench';

export interface Candidate {
  subject: string;
  fn: () => unknown;
}

export interface Measured {
  subject: string;
  p50_ms: number;
  mean_ms: number;
  ops_per_s: number;
  samples: number;
}

/**
 * Times each candidate with tinybench, one after another in the same process, so the
 * ratios between them hold even when the machine is noisy.
 */
export async function measure(
  candidates: Candidate[],
  options: { timeMs: number; warmupMs?: number },
): Promise<Measured[]> {
  const bench = new Bench({
    time: options.timeMs,
    warmupTime: options.warmupMs ?? Math.min(200, options.timeMs / 4),
    iterations: 5,
  });
  for (const candidate of candidates) bench.add(candidate.subject, candidate.fn);
  await bench.run();
  return bench.tasks.map((task) => {
    const result = task.result;
    if (!result || result.error || !result.latency) {
      throw new Error(`benchmark ${task.name} failed: ${String(result?.error ?? 'no result')}`);
    }
    return {
      subject: task.name,
      p50_ms: result.latency.p50 ?? result.latency.mean,
      mean_ms: result.latency.mean,
      ops_per_s: result.throughput.mean,
      samples: result.latency.samples.length,
    };
  });
}
