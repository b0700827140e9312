import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Entry } from '../format.js';
import { aborted } from '../repo/cancel.js';
import { loadChunkIndex } from '../repo/chunk-index.js';
import type { PackWriter } from '../repo/pack.js';
import { ReuseGuard } from '../repo/reuse-guard.js';
import { walk } from '../repo/walk.js';
import type { BackupOptions, BackupResult } from '../types.js';
import { commitSnapshot } from './commit.js';
import { chooseParent, planFiles } from './plan.js';
import { storeFiles } from './read-files.js';
import { BackupRun, type BackupTarget } from './state.js';
import { checkStreamedEntries, storeStreamedEntries } from './stream-entry.js';

export interface BackupRequest {
  paths: string[];
  excludes: string[];
  tags: string[];
  options: BackupOptions;
}

/**
 * One backup, under the repository's lock, into `writer`: walk the paths, reuse the files
 * unchanged since the parent snapshot, chunk and store the others (new chunks only), make
 * the last pack durable, then commit the snapshot.
 */
export async function runBackup(
  repo: BackupTarget,
  writer: PackWriter,
  request: BackupRequest,
): Promise<BackupResult> {
  const started = Date.now();
  const { options } = request;
  const streams = checkStreamedEntries(options.streams);
  const roots = [...new Set(request.paths.map((p) => resolve(p)))].sort();
  const host = hostname();
  const loaded = await loadChunkIndex(repo.path);
  // The chunks this backup may reuse: those with a copy not known to be damaged.
  const index = new Map([...loaded.chunks].filter(([, loc]) => !loc.damaged));
  const guard = new ReuseGuard(repo, index, loaded.files, loaded.checks);
  const run = new BackupRun(repo, writer, index, guard, options.signal, options.onProgress);
  for (const d of loaded.damaged) {
    run.repositoryWarnings.push({
      code: 'REPO_CORRUPT',
      message: `${d.message}; the chunks of its pack are not reused (those the files backed up now hold are stored again)`,
    });
  }

  const parent = await chooseParent(run, roots, host, options);
  const previous = new Map<string, Entry>();
  if (parent && !options.force) for (const e of parent.entries) previous.set(e.path, e);
  const items = await walk(roots, request.excludes, run.warnings, run.signal);
  const toRead = await planFiles(run, items, previous);
  run.progress.scanned();

  await storeFiles(run, toRead);
  await storeStreamedEntries(run, streams);
  aborted(run.signal, 'backup');
  await run.finishPack();
  // The snapshot only ever refers to chunks whose packs and indexes are durable.
  await run.packsDurable();
  reportDamage(run);
  return commitSnapshot(run, {
    hostname: host,
    paths: roots,
    tags: request.tags,
    parent: parent?.id ?? null,
    started,
  });
}

/** Says what became of each damaged chunk found before it was reused. */
function reportDamage(run: BackupRun): void {
  for (const d of run.guard.damaged) {
    run.repositoryWarnings.push({
      code: 'CHUNK_DAMAGED',
      message: `chunk ${d.chunk} is damaged in pack ${d.pack} and was not reused: ${
        d.relocated
          ? 'an intact copy is used'
          : run.index.has(d.chunk)
            ? 'it was stored again from the live data'
            : 'no file backed up now holds it, so older snapshots that use it cannot restore it'
      }`,
    });
  }
}
