import type { Command } from 'commander';
import type { Aios } from '../aios.js';
import { kindOf } from '../ingest/files.js';
import {
  DEFAULT_INGEST_NAMESPACE,
  INGEST_EXTENSIONS,
  type IngestFileResult,
  type IngestProgress,
  type IngestResult,
  ingest,
  type SyncConflict,
} from '../ingest.js';
import { stopOnSignal } from '../lifecycle.js';
import { pc } from './colors.js';
import { displayPath, displaySource } from './display-path.js';
import { shortFragmentId } from './memory-find.js';
import { withWritableAios } from './open-system.js';
import { plural } from './plural.js';
import { printJson } from './shared.js';

/** How often a progress line is printed when stderr is not a terminal. */
const PROGRESS_EVERY_MS = 1000;

const mb = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);

/** `ingest: 35% of 10.0 MB, 12288 fragments stored (12288 added, 0 already known), in big.txt` */
function progressLine(p: IngestProgress): string {
  const pct = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
  return `ingest: ${pct}% of ${mb(p.bytesTotal)} MB, ${plural(p.chunksDone, 'fragment')} stored (${p.added} added, ${p.duplicate} already known), in ${displayPath(p.file)}`;
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
  options: { namespace?: string; prune?: boolean } = {},
): Promise<IngestResult> {
  const tty = !quiet && process.stderr.isTTY === true;
  // The progress bar's module (and its terminal-width helpers) only for a terminal.
  const bar = tty
    ? new (await import('cli-progress')).SingleBar({
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
  // Files skipped for a reader not installed are told once per reader, at the end.
  const unread = new Map<string, { reason: string; paths: string[] }>();
  try {
    const result = await ingest(aios, paths, {
      ...options,
      signal: stop.signal,
      onProgress,
      onSkip: (s) => {
        if (s.reader) {
          const group = unread.get(s.reader) ?? { reason: s.reason, paths: [] };
          group.paths.push(s.path);
          unread.set(s.reader, group);
          return;
        }
        bar?.stop();
        process.stderr.write(`aios: skipped ${displayPath(s.path)}: ${s.reason}\n`);
      },
    });
    bar?.stop();
    for (const { reason, paths: skipped } of unread.values()) {
      const which =
        skipped.length === 1
          ? displayPath(skipped[0] as string)
          : `${plural(skipped.length, 'file')} (${displayPath(skipped[0] as string)}...)`;
      process.stderr.write(`aios: skipped ${which}: ${reason}\n`);
    }
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

/** What the sync did to a file beyond adding, when it did anything. */
function syncParts(r: {
  kept: number;
  removed: number;
  edited: number;
  deleted: number;
}): string[] {
  return [
    r.kept ? `${r.kept} kept` : '',
    r.removed ? `${r.removed} removed` : '',
    r.edited ? `${r.edited} edited by you (kept as edited)` : '',
    r.deleted ? `${r.deleted} deleted by you (left out)` : '',
  ].filter(Boolean);
}

function fileLine(f: IngestFileResult): string {
  const where = displayPath(f.path);
  if (f.status === 'unchanged') return `${where}: unchanged since the last ingest, skipped`;
  const parts = [
    plural(f.chunks, 'fragment'),
    pc.green(`${f.added} added`),
    `${f.duplicate} already known`,
    ...syncParts(f),
    f.conflicts ? pc.yellow(plural(f.conflicts, 'conflict')) : '',
  ].filter(Boolean);
  return `${where}: ${parts.join(', ')}${f.status === 'changed' ? pc.dim(' (changed since the last ingest)') : ''}`;
}

const oneLine = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? `${flat.slice(0, 100).replace(/\s+\S*$/, '')}…` : flat;
};

function printConflict(c: SyncConflict): void {
  const id = shortFragmentId(c.id);
  const where = displaySource(c.path, c.line);
  console.log(
    pc.yellow(`conflict: ${where} changed where you edited fragment ${id}; your text is kept:`),
  );
  console.log(`  yours:        ${oneLine(c.text)}`);
  console.log(pc.dim(`  was ingested: ${oneLine(c.ingested)}`));
  console.log(
    pc.dim(
      `  (\`aios memory delete ${id}\` drops yours; \`aios memory show ${id}\` has its history)`,
    ),
  );
}

/** The summary (per-file lines were printed as the files were done, or on a TTY now). */
export function printIngest(result: IngestResult): void {
  if (process.stderr.isTTY && result.files.length <= 20) {
    for (const f of result.files) console.log(fileLine(f));
  }
  const done = result.files.length - result.unchanged;
  const files = `${plural(done, 'file')}${result.unchanged ? ` (${result.unchanged} unchanged, skipped)` : ''}`;
  const counts = [
    `${plural(result.added, 'fragment')} added, ${result.duplicate} already known`,
    result.merged ? `${result.merged} merged` : '',
    ...syncParts(result),
  ]
    .filter(Boolean)
    .join(', ');
  const tail = [
    result.conflicts.length ? plural(result.conflicts.length, 'conflict') : '',
    result.skipped.length ? `${result.skipped.length} skipped` : '',
  ]
    .filter(Boolean)
    .map((t) => `; ${t}`)
    .join('');
  if (!result.interrupted && done === 0 && result.unchanged > 0 && !tail) {
    console.log(
      pc.bold(`nothing new: ${plural(result.unchanged, 'file')} unchanged since the last ingest`),
    );
  } else if (!result.interrupted) {
    console.log(pc.bold(`ingested ${files}: ${counts}${tail}`));
  } else {
    const part = result.partial
      ? ` and ${displayPath(result.partial.path)} up to ${kindOf(result.partial.path) === 'pdf' ? 'page' : 'line'} ${result.partial.line}`
      : '';
    console.log(
      pc.bold(`interrupted by ${result.interrupted}: ingested ${files}${part}: ${counts}${tail}`),
    );
    console.log(pc.dim('(run the same command again to ingest the rest: what is stored is kept)'));
  }
  for (const c of result.conflicts) printConflict(c);
  const other = Object.entries(result.otherKinds).sort((a, b) => b[1] - a[1]);
  if (other.length > 0) {
    const total = other.reduce((n, [, count]) => n + count, 0);
    const kinds = other.map(([ext, count]) => `${ext || 'no extension'} (${count})`).join(', ');
    console.log(
      pc.dim(
        `left ${plural(total, 'file')} of other kinds in the folders: ${kinds}; ingest reads ${INGEST_EXTENSIONS.join(' ')} there (name a file to read it as text)`,
      ),
    );
  }
  if (result.pruned) {
    console.log(
      `pruned ${plural(result.pruned.sources, 'file')} gone from disk: ${plural(result.pruned.fragments, 'fragment')} removed`,
    );
  } else if (result.missing.length > 0) {
    console.log(
      pc.yellow(
        `${plural(result.missing.length, 'file')} ingested before ${result.missing.length === 1 ? 'is' : 'are'} gone from disk; ${result.missing.length === 1 ? 'its' : 'their'} fragments stay (--prune removes them):`,
      ),
    );
    for (const path of result.missing.slice(0, 20)) console.log(pc.dim(`  ${displayPath(path)}`));
    if (result.missing.length > 20)
      console.log(pc.dim(`  ... and ${result.missing.length - 20} more`));
  }
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description(
      "import text, Markdown, HTML, PDF, Word, EPUB, OpenDocument and JSON/JSONL files and folders into memory, keeping it in step with them: unchanged files are skipped, a changed file's fragments replaced, your edits and deletes kept (SIGINT stops it between batches, keeping what was stored)",
    )
    .argument('<paths...>', 'files or folders')
    .option(
      '--namespace <ns>',
      `the namespace of the fragments (default ${DEFAULT_INGEST_NAMESPACE})`,
    )
    .option('--prune', 'also remove the fragments of files ingested before that are gone from disk')
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        paths: string[],
        options: { json?: boolean; namespace?: string; prune?: boolean },
        command: Command,
      ) => {
        await withWritableAios(command, async (aios) => {
          const result = await ingestWithProgress(aios, paths, options.json === true, {
            ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
            prune: options.prune === true,
          });
          if (options.json) printJson(result);
          else printIngest(result);
        });
      },
    );
}
