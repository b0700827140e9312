import { existsSync } from 'node:fs';
import { openDataStore } from '@aios/data';
import type { AiosConfig } from '@aios/utils';
import type { Command } from 'commander';
import { readOnlyHome } from '../aios.js';
import { type FindingStatus, runDoctor } from '../doctor/index.js';
import { storeOptionsFromConfig } from '../store-options.js';
import { pc } from './colors.js';
import { type GlobalOptions, loadCliConfig, printJson } from './shared.js';

const COLOUR: Record<FindingStatus, (s: string) => string> = {
  ok: pc.green,
  repaired: pc.cyan,
  warn: pc.yellow,
  fail: pc.red,
};

/**
 * A repair writes: on a home that can only be read (its database opens to read only, see
 * @aios/data's `readOnly`), `--repair` is refused before any check runs. A database that
 * does not open is left to the checks to report.
 */
async function refuseReadOnlyRepair(config: AiosConfig): Promise<void> {
  if (config.data.url !== undefined || !existsSync(config.data.path)) return;
  const data = await openDataStore({
    ...storeOptionsFromConfig(config, { operation: 'aios doctor --repair' }),
  }).catch(() => undefined);
  if (!data) return;
  const cause = data.readOnly?.cause;
  await data.close();
  if (cause !== undefined) throw readOnlyHome(config.home, cause, '`aios doctor --repair`');
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the home: database integrity, index files, labels, the backup repository, leftovers of interrupted runs (exit 1 when something failed)',
    )
    .option(
      '--repair',
      'fix what can be fixed without losing anything (rebuild index files, remove leftovers)',
    )
    .option('--quick', 'only the cheap checks (no full scans, no pack reads)')
    .option('--json', 'print machine-readable JSON')
    .action(
      async (options: { repair?: boolean; quick?: boolean; json?: boolean }, command: Command) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        const { config } = loadCliConfig(globals);
        if (options.repair) await refuseReadOnlyRepair(config);
        const report = await runDoctor({
          config,
          native: config.native,
          repair: options.repair === true,
          quick: options.quick === true,
        });
        if (options.json) printJson(report);
        else {
          const width = Math.max(0, ...report.findings.map((f) => f.check.length));
          for (const f of report.findings) {
            console.log(
              `${f.check.padEnd(width)}  ${COLOUR[f.status](f.status.padEnd(8))}  ${f.message}`,
            );
          }
          console.log(`${pc.bold('doctor')}  ${COLOUR[report.status](report.status)}`);
        }
        if (report.status === 'fail') process.exitCode = 1;
      },
    );
}
