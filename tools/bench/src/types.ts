/** One measured figure, in the bench-results.json format of DESIGN.md. */
export interface BenchResult {
  suite: string;
  case: string;
  /** `native`, `js`, or the npm name of a peer (or an external tool's name). */
  subject: string;
  metric: string;
  value: number;
  params: Record<string, unknown>;
}

export interface SuiteContext {
  quick: boolean;
  /** Directory for scratch files, removed after the run. */
  scratch: string;
  log(message: string): void;
}

export interface Suite {
  name: string;
  description: string;
  run(context: SuiteContext): Promise<BenchResult[]>;
}

/** The figures of one run of `suite`, and how a suite adds one. */
export function figures(suite: string): {
  results: BenchResult[];
  push(c: string, subject: string, metric: string, value: number, params?: object): void;
} {
  const results: BenchResult[] = [];
  return {
    results,
    push(c, subject, metric, value, params = {}) {
      results.push({ suite, case: c, subject, metric, value, params: { ...params } });
    },
  };
}
