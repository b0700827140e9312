import { createInterface } from 'node:readline/promises';
import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import { type ForgetPlan, forgetSources, planForget } from '../ingest.js';
import { stopOnSignal } from '../lifecycle.js';
import { pc } from './colors.js';
import { displayPath } from './display-path.js';
import { withWritableAios } from './open-system.js';
import { plural } from './plural.js';
import { printJson } from './shared.js';

/** `12 fragments from 3 files under notes/ (namespace documents)` */
function describePlan(plan: ForgetPlan): string {
  const where =
    plan.paths.length === 0
      ? `the namespace ${plan.namespace}`
      : `${plural(plan.sources.length, 'file')} ingested from ${plan.paths.map(displayPath).join(', ')}${plan.namespace === null ? '' : ` (namespace ${plan.namespace})`}`;
  return `${plural(plan.fragments.length, 'fragment')} from ${where}`;
}

/** Asks on the terminal; anything but y/yes is a no. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function registerForget(program: Command): void {
  program
    .command('forget')
    .description(
      'remove from memory everything that came from files or folders (as ingested), or everything in a namespace',
    )
    .argument('[sources...]', 'files or folders that were ingested')
    .option('--namespace <ns>', 'only this namespace; without sources, all of it')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'only show what would be removed')
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        sources: string[],
        options: { namespace?: string; yes?: boolean; dryRun?: boolean; json?: boolean },
        command: Command,
      ) => {
        if (sources.length === 0 && options.namespace === undefined) {
          throw new AiosError(
            'INVALID_INPUT',
            'nothing to forget: give files or folders that were ingested, or --namespace',
          );
        }
        await withWritableAios(command, async (aios) => {
          const plan = await planForget(aios, {
            paths: sources,
            ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
          });
          if (
            plan.sources.length === 0 &&
            plan.fragments.length === 0 &&
            plan.shared.length === 0
          ) {
            const what =
              sources.length > 0 ? sources.join(', ') : `the namespace ${options.namespace}`;
            throw new AiosError(
              'SOURCE_NOT_FOUND',
              `nothing in memory came from ${what} (\`aios memory stats\` lists the namespaces)`,
              { details: { sources, namespace: options.namespace ?? null } },
            );
          }
          const summary = describePlan(plan);
          const kept = plan.shared.length
            ? `; ${plural(plan.shared.length, 'fragment')} other files also have ${plan.shared.length === 1 ? 'stays' : 'stay'}`
            : '';
          if (options.dryRun) {
            if (options.json) return printJson({ dryRun: true, ...plan });
            console.log(`would forget ${summary}${kept}`);
            for (const s of plan.sources) console.log(pc.dim(`  ${displayPath(s.path)}`));
            return;
          }
          if (!options.yes) {
            const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
            if (!interactive || options.json) {
              throw new AiosError(
                'CONFIRMATION_REQUIRED',
                `this would forget ${summary}; give --yes to do it (--dry-run lists the files)`,
                { details: { fragments: plan.fragments.length, sources: plan.sources.length } },
              );
            }
            if (!(await confirm(`Forget ${summary}${kept}? [y/N] `))) {
              console.log('nothing forgotten');
              return;
            }
          }
          const stop = stopOnSignal();
          try {
            const result = await forgetSources(aios, plan, { signal: stop.signal });
            if (options.json) return printJson(result);
            const from =
              plan.paths.length === 0
                ? `the namespace ${plan.namespace}`
                : plural(result.sources, 'file');
            const line = `forgot ${plural(result.fragments, 'fragment')} from ${from}${result.shared ? `; ${plural(result.shared, 'fragment')} kept for the other files that have ${result.shared === 1 ? 'it' : 'them'}` : ''}`;
            if (result.interrupted) {
              console.log(
                `interrupted by ${result.interrupted}: ${line} (run it again to forget the rest)`,
              );
            } else console.log(line);
          } finally {
            stop.release();
          }
        });
      },
    );
}
