import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyIndexFiles } from '@aios/carma';
import type { DoctorCheck, Finding } from '../types.js';

/**
 * CARMA's index files, vector and lexical (a cache of what the database holds): each
 * one's checksum. A damaged file is rebuilt from the database by the next open anyway;
 * `--repair` removes it now, so that no process spends time on it.
 */
export const indexFilesCheck: DoctorCheck = {
  name: 'index-files',
  async run({ config, repair }) {
    const dir = join(config.home, 'carma');
    const checks = await verifyIndexFiles(dir);
    if (checks.length === 0) {
      return [{ check: 'index-files', status: 'ok', message: `no index file yet (${dir})` }];
    }
    const findings: Finding[] = [];
    for (const c of checks.filter((c) => !c.ok)) {
      if (repair) await rm(c.file, { force: true });
      findings.push({
        check: 'index-files',
        status: repair ? 'repaired' : 'warn',
        message: `${c.file}: ${c.reason ?? 'damaged'}; ${repair ? 'removed' : 'the next open rebuilds it (or run with --repair)'}`,
        details: { file: c.file, reason: c.reason },
      });
    }
    const good = checks.filter((c) => c.ok).length;
    if (good > 0) {
      findings.push({
        check: 'index-files',
        status: 'ok',
        message: `${good} index file${good === 1 ? '' : 's'} match their checksums`,
      });
    }
    return findings;
  },
};
