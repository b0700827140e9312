import type { Command } from 'commander';
import { printJson } from './shared.js';
import { printHealth, withAios } from './system.js';

export function registerHealth(program: Command): void {
  program
    .command('health')
    .description('readiness of every part of the system (exit status 1 when a check fails)')
    .option('--json', 'print the report as application/health+json')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        const report = await aios.health.readiness();
        if (options.json) printJson(report);
        else printHealth(report);
        if (report.status === 'fail') process.exitCode = 1;
      });
    });

  program
    .command('metrics')
    .description('the system metrics in the Prometheus text format (after one health run)')
    .action(async (_options: unknown, command: Command) => {
      await withAios(command, async (aios) => {
        await aios.health.readiness();
        process.stdout.write(await aios.metrics.render());
      });
    });
}
