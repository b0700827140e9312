import type { AiosConfig, NativeMode } from '@aios/utils';

/** How one check found the home: `repaired` when `--repair` fixed what it found. */
export type FindingStatus = 'ok' | 'warn' | 'fail' | 'repaired';

export interface Finding {
  /** The check that reported it (`database`, `index-files`, ...). */
  check: string;
  status: FindingStatus;
  message: string;
  /** What was found, for `--json` and the logs (paths, counts, codes). */
  details?: Record<string, unknown>;
}

export interface DoctorContext {
  config: AiosConfig;
  native: NativeMode;
  /** Fix what can be fixed without losing anything (otherwise only look). */
  repair: boolean;
  /** Only the cheap part (what the health check runs): no full scans, no pack reads. */
  quick: boolean;
}

/** One check of `aios doctor`: looks at one part of the home and, with `repair`, fixes it. */
export interface DoctorCheck {
  readonly name: string;
  run(ctx: DoctorContext): Promise<Finding[]>;
}

export interface DoctorReport {
  /** `fail` when any finding failed, `warn` when any warned, else `ok`. */
  status: 'ok' | 'warn' | 'fail';
  findings: Finding[];
}
