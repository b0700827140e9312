/** The three outcomes of `application/health+json`: healthy, healthy with a concern, unhealthy. */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/** Liveness: the process itself works. Readiness: it and its dependencies work. */
export type Probe = 'liveness' | 'readiness';

/** What a check found. */
export interface CheckOutcome {
  status: HealthStatus;
  /** The measured value (percent, ms, bytes, a version...). */
  observedValue?: number | string | boolean;
  /** Unit of `observedValue`, e.g. `percent`, `ms`, `bytes`, `load/core`. */
  observedUnit?: string;
  /** The limit the value was judged against (for `fail`, or `warn` where only warn applies). */
  threshold?: number | string;
  /** A sentence for a person; required reading when the status is not `pass`. */
  output?: string;
}

/** One check's result in a report: the outcome plus who, when, and how long. */
export interface CheckResult extends CheckOutcome {
  /** `component:measurement`, e.g. `memory:utilization`, `database:writable`. */
  name: string;
  componentType: string;
  /** ISO 8601 time the check started. */
  time: string;
  durationMs: number;
}

/**
 * A health check other cores register into a `HealthMonitor`. `run` gets a signal that
 * aborts at the check's timeout; a check that overruns, throws or rejects is a `fail`.
 */
export interface HealthCheck {
  /** `component:measurement`, unique within a monitor. */
  name: string;
  /** `system`, `component` or `datastore` (the health+json vocabulary), or another word. */
  componentType?: string;
  /** `liveness` checks run in both probes; `readiness` checks (the default) only in readiness. */
  probe?: Probe;
  /** Overrides the monitor's `checkTimeoutMs`. */
  timeoutMs?: number;
  run(signal: AbortSignal): CheckOutcome | Promise<CheckOutcome>;
}

/** One entry of `checks` in the health+json document. */
export interface HealthJsonCheck {
  componentType: string;
  status: HealthStatus;
  time: string;
  observedValue?: number | string | boolean;
  observedUnit?: string;
  output?: string;
  /** Extension: the limit judged against. */
  threshold?: number | string;
  /** Extension: how long the check took. */
  durationMs: number;
}

/** A report in the `application/health+json` shape (draft-inadarei-api-health-check). */
export interface HealthReport {
  status: HealthStatus;
  version: string;
  releaseId: string;
  serviceId: string;
  description: string;
  output?: string;
  checks: Record<string, HealthJsonCheck[]>;
  /** Extension: which probe this is. */
  probe: Probe;
  /** Extension: ISO time the run started, and how long it took in all. */
  time: string;
  durationMs: number;
}

export const HEALTH_CONTENT_TYPE = 'application/health+json';
