import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { Aios } from '../aios.js';
import { type IngestFileResult, type IngestResult, ingest } from '../ingest.js';
import { pc } from './colors.js';
import { printJson } from './shared.js';
import { displayPath, withAios } from './system.js';

/** Ingests with a progress bar on a terminal, one plain line per file otherwise. */
export async function ingestWithProgress(
  aios: Aios,
  paths: string[],
  quiet = false,
): Promise<IngestResult> {
  const tty = !quiet && process.stderr.isTTY === true;
  const bar = tty
    ? new SingleBar({
        format: 'ingest [{bar}] {percentage}% | {value}/{total} files | {file}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
      })
    : undefined;
  let started = false;
  const done = aios.metrics.startRequest('carma', 'ingest');
  try {
    const result = await ingest(aios.memory, paths, {
      onProgress: (p) => {
        if (bar) {
          if (!started) bar.start(p.filesTotal, 0, { file: '' });
          started = true;
          bar.update(p.filesDone, { file: displayPath(p.file) });
        } else if (!quiet) {
          console.log(fileLine(p.result));
        }
      },
    });
    done('ok');
    aios.metrics.setMemorySize('carma', { items: aios.memory.stats().fragments });
    return result;
  } catch (error) {
    done('error');
    throw error;
  } finally {
    bar?.stop();
  }
}

function fileLine(f: IngestFileResult): string {
  return `${displayPath(f.path)}: ${f.chunks} fragments, ${pc.green(`${f.added} added`)}, ${f.duplicate} already known`;
}

/** The summary line (per-file lines were printed as the files were done, or on a TTY now). */
export function printIngest(result: IngestResult): void {
  if (process.stderr.isTTY && result.files.length <= 20) {
    for (const f of result.files) console.log(fileLine(f));
  }
  console.log(
    pc.bold(
      `ingested ${result.files.length} files: ${result.added} fragments added, ${result.duplicate} already known${result.merged ? `, ${result.merged} merged` : ''}`,
    ),
  );
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(
      'import text, Markdown and JSON/JSONL files and folders into memory (re-running adds nothing new)',
    )
    .argument('<paths...>', 'files or folders')
    .option('--json', 'print machine-readable JSON')
    .action(async (paths: string[], options: { json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        const result = await ingestWithProgress(aios, paths, options.json === true);
        if (options.json) printJson(result);
        else printIngest(result);
      });
    });
}
