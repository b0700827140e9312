import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import { CORES } from '../cores.js';
import { coreStatus } from '../status.js';
import { answerJson, printAnswer } from './answers.js';
import { askWithSources, offlineHint } from './ask.js';
import { pc } from './colors.js';
import { printHealth } from './health-print.js';
import { ingestWithProgress, printIngest } from './ingest.js';
import { type SystemOptions, withWritableAios } from './open-system.js';
import { printJson } from './shared.js';

/** The questions `aios demo` asks about the bundled notes. */
export const DEMO_QUESTIONS = [
  'What does CARMA do?',
  'How are backups deduplicated?',
  'What happens when no language model is running?',
];

/** The namespace the demo's notes go to, so that one command takes them out again. */
export const DEMO_NAMESPACE = 'demo';

/** The bundled sample notes: `<package>/demo`, beside `dist/`. */
export function demoDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '..', 'demo'), join(here, '..', '..', 'demo')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new AiosError('IO_NOT_FOUND', `the demo notes are missing (looked beside ${here})`);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'a first run: ingest the bundled notes about AIOS, ask three questions, show health and implementations',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      await withWritableAios(command, async (aios) => {
        const json = options.json === true;
        const dir = demoDir();
        if (!json) {
          console.log(
            pc.bold(`1. Ingesting the sample notes in ${dir} (namespace ${DEMO_NAMESPACE})`),
          );
        }
        const ingested = await ingestWithProgress(aios, [dir], json, {
          namespace: DEMO_NAMESPACE,
        });
        if (!json) printIngest(ingested);
        if (ingested.interrupted) {
          // Stopped by a signal: nothing more to show (the exit status says so).
          if (json) printJson({ ingested });
          return;
        }
        const offline = command.optsWithGlobals<SystemOptions>().offline === true;
        const answers = [];
        let hinted = false;
        for (const [i, question] of DEMO_QUESTIONS.entries()) {
          const { answer, sources } = await askWithSources(aios, question);
          answers.push({ question, ...answerJson(answer, sources) });
          if (!json) {
            console.log('');
            console.log(pc.bold(`${i + 2}. aios ask "${question}"`));
            printAnswer(answer, sources);
            // As `aios ask` says it: why no language model wrote the answer and what to do
            // (once, not under every answer).
            const hint = offlineHint(answer, aios.config, offline);
            if (hint && !hinted) console.log(pc.dim(hint));
            hinted ||= hint !== undefined;
          }
        }
        const health = await aios.health.readiness();
        const cores = CORES.map((core) => coreStatus(core, aios.config.native));
        const remove = `aios forget --namespace ${DEMO_NAMESPACE} --yes`;
        if (json) {
          printJson({ ingested, answers, health, cores, namespace: DEMO_NAMESPACE, remove });
          return;
        }
        console.log('');
        console.log(pc.bold(`${DEMO_QUESTIONS.length + 2}. aios health`));
        printHealth(health);
        console.log('');
        console.log(pc.bold(`${DEMO_QUESTIONS.length + 3}. aios status (what each core runs)`));
        const width = Math.max(...cores.map((c) => c.name.length));
        for (const c of cores) {
          const impl =
            c.implementation === 'native'
              ? pc.green('native')
              : c.implementation === 'js'
                ? pc.yellow('js    ')
                : pc.red('unavailable');
          console.log(
            `  ${c.name.padEnd(width)}  ${c.version.padEnd(8)}  ${impl}  ${pc.dim(c.reason)}`,
          );
        }
        console.log('');
        console.log(
          `The demo notes are in the namespace "${DEMO_NAMESPACE}"; ${pc.cyan(remove)} removes them.`,
        );
        console.log(
          `Next: ${pc.cyan('aios ingest <your notes>')}, ${pc.cyan('aios ask "..."')}, ${pc.cyan('aios backup create')}.`,
        );
      });
    });
}
