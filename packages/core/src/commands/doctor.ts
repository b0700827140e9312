import type { Command } from 'commander';
import { type FindingStatus, runDoctor } from '../doctor/index.js';
import { pc } from './colors.js';
import { type GlobalOptions, loadCliConfig, printJson } from './shared.js';

const COLOUR: Record<FindingStatus, (s: string) => string> = {
  ok: pc.green,
  repaired: pc.cyan,
  warn: pc.yellow,
  fail: pc.red,
};

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
