import { backupCheck } from './checks/backup.js';
import { databaseCheck } from './checks/database.js';
import { indexFilesCheck } from './checks/index-files.js';
import { labelsCheck } from './checks/labels.js';
import { leftoversCheck } from './checks/leftovers.js';
import type { DoctorCheck, DoctorContext, DoctorReport, Finding } from './types.js';

export type { DoctorCheck, DoctorContext, DoctorReport, Finding, FindingStatus } from './types.js';

/** Every check, in the order they run: leftovers first, so the others see a tidy home. */
export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  leftoversCheck,
  databaseCheck,
  labelsCheck,
  indexFilesCheck,
  backupCheck,
];

/**
 * Checks the home (`aios doctor`): each check looks at one part and, with `repair`, fixes
 * what can be fixed without losing anything. A check that throws is reported as failed;
 * the others still run.
 */
export async function runDoctor(
  ctx: DoctorContext,
  checks: readonly DoctorCheck[] = DOCTOR_CHECKS,
): Promise<DoctorReport> {
  const findings: Finding[] = [];
  for (const check of checks) {
    try {
      findings.push(...(await check.run(ctx)));
    } catch (error) {
      findings.push({
        check: check.name,
        status: 'fail',
        message: `the check could not run: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  const status = findings.some((f) => f.status === 'fail')
    ? 'fail'
    : findings.some((f) => f.status === 'warn')
      ? 'warn'
      : 'ok';
  return { status, findings };
}
