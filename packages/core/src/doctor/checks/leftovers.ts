import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { recoverSwaps, SWAP_PREFIX } from '@aios/backup';
import { removeStaleIndexTempFiles } from '@aios/carma';
import { lockDatabase } from '@aios/data';
import { isAiosError } from '@aios/utils';
import type { DoctorCheck, DoctorContext, Finding } from '../types.js';

/**
 * What interrupted runs leave in the home: staging folders of restores in place that were
 * killed (finished or undone with `--repair`, under the database's exclusive lock, so never
 * while a process uses it) and temporary index files of dead writers.
 */
export const leftoversCheck: DoctorCheck = {
  name: 'leftovers',
  async run(ctx) {
    const findings = [...(await restores(ctx)), ...(await indexTemps(ctx))];
    if (findings.length === 0) {
      findings.push({
        check: 'leftovers',
        status: 'ok',
        message: 'no leftovers of interrupted runs',
      });
    }
    return findings;
  },
};

async function restores({ config, repair }: DoctorContext): Promise<Finding[]> {
  let names: string[];
  try {
    names = (await readdir(config.home)).filter((n) => n.startsWith(SWAP_PREFIX));
  } catch {
    return [];
  }
  if (names.length === 0) return [];
  if (!repair) {
    return [
      {
        check: 'leftovers',
        status: 'warn',
        message: `${names.length} staging folder${names.length === 1 ? '' : 's'} of interrupted restores (${names.join(', ')}); --repair finishes or removes them`,
        details: { folders: names.map((n) => join(config.home, n)) },
      },
    ];
  }
  let lock: Awaited<ReturnType<typeof lockDatabase>>;
  try {
    lock = await lockDatabase(config.data.path, {
      mode: 'exclusive',
      operation: 'aios doctor --repair',
    });
  } catch (error) {
    if (!isAiosError(error, 'DATA_BUSY')) throw error;
    return [
      {
        check: 'leftovers',
        status: 'warn',
        message: `staging folders of interrupted restores left alone: ${error.message}`,
      },
    ];
  }
  try {
    const r = await recoverSwaps(config.home);
    const findings: Finding[] = [];
    if (r.completed.length + r.discarded.length > 0) {
      findings.push({
        check: 'leftovers',
        status: 'repaired',
        message: `interrupted restores: ${r.completed.length} completed, ${r.discarded.length} undone`,
        details: { completed: r.completed, discarded: r.discarded },
      });
    }
    if (r.busy.length > 0) {
      findings.push({
        check: 'leftovers',
        status: 'warn',
        message: `${r.busy.length} restores still running, left alone`,
        details: { busy: r.busy },
      });
    }
    return findings;
  } finally {
    await lock.release();
  }
}

async function indexTemps({ config, repair }: DoctorContext): Promise<Finding[]> {
  const dir = join(config.home, 'carma');
  if (!repair) {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => /\.tmp-\d+$/.test(n));
    } catch {
      return [];
    }
    if (names.length === 0) return [];
    return [
      {
        check: 'leftovers',
        status: 'warn',
        message: `${names.length} temporary index file${names.length === 1 ? '' : 's'} in ${dir}; --repair removes those of finished processes`,
        details: { files: names },
      },
    ];
  }
  const removed = await removeStaleIndexTempFiles(dir);
  return removed.length === 0
    ? []
    : [
        {
          check: 'leftovers',
          status: 'repaired',
          message: `removed ${removed.length} temporary index files of finished processes`,
          details: { files: removed },
        },
      ];
}
