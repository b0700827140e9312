import type { Command } from 'commander';
import { printHealth } from './health-print.js';
import { modelCheck } from './models.js';
import { type SystemOptions, withAios } from './open-system.js';
import { printJson } from './shared.js';

export function registerHealth(program: Command): void {
  program
    .command('health')
    .description(
      'readiness of every part of the system, the language model included (exit status 1 when a check fails)',
    )
    .option('--json', 'print the report as application/health+json')
    .action(async (options: { json?: boolean }, command: Command) => {
      const offline = command.optsWithGlobals<SystemOptions>().offline === true;
      await withAios(command, async (aios) => {
        // Which model answers (or why none does), whether or not a server is configured.
        aios.health.register(modelCheck(aios.config, offline));
        const report = await aios.health.readiness();
        if (options.json) printJson(report);
        else printHealth(report);
        if (report.status === 'fail') process.exitCode = 1;
      });
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
