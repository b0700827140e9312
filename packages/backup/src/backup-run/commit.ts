import { join } from 'node:path';
import { FORMAT_VERSION, type SnapshotFile } from '../format.js';
import { atomicWrite } from '../repo/fsutil.js';
import type { BackupResult } from '../types.js';
import type { BackupRun } from './state.js';

export interface SnapshotHeader {
  hostname: string;
  paths: string[];
  tags: string[];
  parent: string | null;
  /** When the run started (ms since the epoch), for the summary's duration. */
  started: number;
}

/**
 * Writes the snapshot file, named by the BLAKE3 of its bytes. It is the run's last write:
 * the packs it uses are durable already, so a run cut short before it leaves no snapshot.
 */
export async function commitSnapshot(
  run: BackupRun,
  header: SnapshotHeader,
): Promise<BackupResult> {
  const { summary } = run;
  const entries = [...run.entries.values()];
  for (const e of entries) {
    if (e.type === 'file') {
      summary.files++;
      summary.bytes += e.size;
    } else if (e.type === 'dir') summary.dirs++;
    else summary.symlinks++;
  }
  summary.durationMs = Date.now() - header.started;
  const snapshot: SnapshotFile = {
    version: FORMAT_VERSION,
    time: new Date().toISOString(),
    hostname: header.hostname,
    paths: header.paths,
    tags: header.tags,
    parent: header.parent,
    summary,
    warnings: run.warnings,
    entries,
  };
  const bytes = Buffer.from(JSON.stringify(snapshot));
  const id = run.repo.engine.hash(bytes);
  const root = run.repo.path;
  await atomicWrite(join(root, 'tmp'), join(root, 'snapshots', `${id}.json`), bytes);
  run.progress.done();
  const { entries: _entries, ...info } = snapshot;
  return {
    snapshot: { ...info, id },
    warnings: run.warnings,
    repositoryWarnings: run.repositoryWarnings,
  };
}
