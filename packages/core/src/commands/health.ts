import { createHealthMonitor, type HealthReport } from '@aios/support';
import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import { printHealth } from './health-print.js';
import { modelCheck } from './models.js';
import { type SystemOptions, withAios } from './open-system.js';
import { loadCliConfig, printJson } from './shared.js';

/** The readiness report of a system that did not open: one failed check saying why. */
async function openFailure(error: AiosError, command: Command): Promise<HealthReport> {
  const { config } = loadCliConfig(command.optsWithGlobals<SystemOptions>());
  const monitor = createHealthMonitor({ config, llm: false });
  try {
    monitor.register({
      name: 'system:open',
      componentType: 'system',
      run: () => ({ status: 'fail', output: `${error.message} [${error.code}]` }),
    });
    return await monitor.readiness();
  } finally {
    monitor.close();
  }
}

export function registerHealth(program: Command): void {
  program
    .command('health')
    .description(
      'readiness of every part of the system, the language model included (exit status 1 when a check fails)',
    )
    .option('--json', 'print the report as application/health+json')
    .action(async (options: { json?: boolean }, command: Command) => {
      const offline = command.optsWithGlobals<SystemOptions>().offline === true;
      const print = (report: HealthReport) => {
        if (options.json) printJson(report);
        else printHealth(report);
        if (report.status === 'fail') process.exitCode = 1;
      };
      try {
        await withAios(command, async (aios) => {
          // Which model answers (or why none does), whether or not a server is configured.
          aios.health.register(modelCheck(aios.config, offline));
          print(await aios.health.readiness());
        });
      } catch (error) {
        // A system that does not open (a memory embedded by another model, a database
        // that is no database) is the unhealthiest of all: a report that says why.
        if (!(error instanceof AiosError)) throw error;
        print(await openFailure(error, command));
      }
    });

  program
    .command('metrics')
    .summary('system metrics, totals of every command run (Prometheus text or --json)')
    .description(
      'the system metrics in the Prometheus text format: totals of every command run on this home (after one health run)',
    )
    .option('--json', 'print every family and its samples as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        await aios.health.readiness();
        if (options.json) printJson(await aios.metrics.json());
        else process.stdout.write(await aios.metrics.render());
      });
    });
}
