/** Printing a health report for people (`aios health`, `aios demo`). */
import type { HealthReport } from '@aios/support';
import { pc } from './colors.js';

const STATUS_COLOUR = { pass: pc.green, warn: pc.yellow, fail: pc.red } as const;

/** What a check says; one that says nothing (a passing probe) by what it measured. */
function detail(result: HealthReport['checks'][string][number]): string {
  if (result.output) return result.output;
  if (result.observedValue === undefined) return '';
  return `${result.observedValue}${result.observedUnit ? ` ${result.observedUnit}` : ''}`;
}

export function printHealth(report: HealthReport): void {
  console.log(`${pc.bold('health')}  ${STATUS_COLOUR[report.status](report.status)}`);
  const names = Object.keys(report.checks).sort();
  const width = Math.max(0, ...names.map((n) => n.length));
  for (const name of names) {
    for (const result of report.checks[name] ?? []) {
      const status = STATUS_COLOUR[result.status](result.status.padEnd(4));
      console.log(`  ${name.padEnd(width)}  ${status}  ${pc.dim(detail(result))}`.trimEnd());
    }
  }
}
