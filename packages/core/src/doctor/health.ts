import type { HealthCheck } from '@aios/support';
import type { AiosConfig, NativeMode } from '@aios/utils';
import { indexFilesCheck } from './checks/index-files.js';
import { leftoversCheck } from './checks/leftovers.js';
import { runDoctor } from './index.js';

/**
 * The quick part of `aios doctor` as a readiness check: index file checksums and leftovers
 * of interrupted runs, looked at, never repaired. The database's own checks are the
 * `database:*` checks (this process already has it open); the repository's, `backup:*`.
 */
export function homeIntegrityCheck(config: AiosConfig, native: NativeMode): HealthCheck {
  return {
    name: 'home:integrity',
    componentType: 'component',
    async run() {
      const report = await runDoctor({ config, native, repair: false, quick: true }, [
        leftoversCheck,
        indexFilesCheck,
      ]);
      const problems = report.findings.filter((f) => f.status !== 'ok');
      return {
        status: report.status === 'ok' ? 'pass' : report.status,
        observedValue: problems.length,
        observedUnit: 'problems',
        output:
          problems.length === 0
            ? 'index files match their checksums; no leftovers of interrupted runs'
            : `${problems.map((p) => p.message).join('; ')} (\`aios doctor --repair\`)`,
      };
    },
  };
}
