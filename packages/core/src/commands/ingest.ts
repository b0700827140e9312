import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { Aios } from '../aios.js';
import {
  type IngestFileResult,
  type IngestProgress,
  type IngestResult,
  ingest,
} from '../ingest.js';
import { stopOnSignal } from '../lifecycle.js';
import { pc } from './colors.js';
import { displayPath } from './display-path.js';
import { withAios } from './open-system.js';
import { printJson } from './shared.js';

/** How often a progress line is printed when stderr is not a terminal. */
const PROGRESS_EVERY_MS = 1000;

const mb = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);

/** `ingest: 35% of 10.0 MB, 12288 fragments stored (12288 added, 0 already known), in big.txt` */
function progressLine(p: IngestProgress): string {
  const pct = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
  return `ingest: ${pct}% of ${mb(p.bytesTotal)} MB, ${p.chunksDone} fragments stored (${p.added} added, ${p.duplicate} already known), in ${displayPath(p.file)}`;
}

/**
 * Ingests with a progress bar on a terminal; otherwise one line per file on stdout and a
 * progress line on stderr every second. SIGINT / SIGTERM stop it between batches: what was
 * stored stays, the result says what (and `interrupted`), the exit status is 130 / 143.
 */
export async function ingestWithProgress(
  aios: Aios,
  paths: string[],
  quiet = false,
): Promise<IngestResult> {
  const tty = !quiet && process.stderr.isTTY === true;
  const bar = tty
    ? new SingleBar({
        format:
          'ingest [{bar}] {percentage}% | {files}/{filesTotal} files | {fragments} fragments | {file}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
      })
    : undefined;
  let started = false;
  let lastLine = Date.now();
  const onProgress = (p: IngestProgress) => {
    if (bar) {
      const values = {
        file: displayPath(p.file),
        files: p.filesDone,
        filesTotal: p.filesTotal,
        fragments: p.chunksDone,
      };
      if (!started) bar.start(Math.max(1, p.bytesTotal), 0, values);
      started = true;
      bar.update(p.bytesDone, values);
    } else if (!quiet) {
      if (p.fileDone) console.log(fileLine(p.result));
      else if (Date.now() - lastLine >= PROGRESS_EVERY_MS) {
        lastLine = Date.now();
        process.stderr.write(`${progressLine(p)}\n`);
      }
    }
  };
  const done = aios.metrics.startRequest('carma', 'ingest');
  const stop = stopOnSignal();
  try {
    const result = await ingest(aios.memory, paths, {
      signal: stop.signal,
      onProgress,
      onSkip: (s) => {
        bar?.stop();
        process.stderr.write(`aios: skipped ${displayPath(s.path)}: ${s.reason}\n`);
      },
    });
    done(result.interrupted ? 'interrupted' : 'ok');
    aios.metrics.setMemorySize('carma', { items: aios.memory.stats().fragments });
    return result;
  } catch (error) {
    done('error');
    throw error;
  } finally {
    stop.release();
    bar?.stop();
  }
}

function fileLine(f: IngestFileResult): string {
  return `${displayPath(f.path)}: ${f.chunks} fragments, ${pc.green(`${f.added} added`)}, ${f.duplicate} already known`;
}

/** The summary (per-file lines were printed as the files were done, or on a TTY now). */
export function printIngest(result: IngestResult): void {
  if (process.stderr.isTTY && result.files.length <= 20) {
    for (const f of result.files) console.log(fileLine(f));
  }
  const counts = `${result.added} fragments added, ${result.duplicate} already known${result.merged ? `, ${result.merged} merged` : ''}${result.skipped.length ? `; ${result.skipped.length} skipped` : ''}`;
  if (!result.interrupted) {
    console.log(pc.bold(`ingested ${result.files.length} files: ${counts}`));
    return;
  }
  const part = result.partial
    ? ` and ${displayPath(result.partial.path)} up to line ${result.partial.line}`
    : '';
  console.log(
    pc.bold(
      `interrupted by ${result.interrupted}: ingested ${result.files.length} files${part}: ${counts}`,
    ),
  );
  console.log(pc.dim('(run the same command again to ingest the rest: what is stored is kept)'));
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(
      'import text, Markdown and JSON/JSONL files and folders into memory (re-running adds nothing new; SIGINT stops it between batches, keeping what was stored)',
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
