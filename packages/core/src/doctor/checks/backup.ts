import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openRepository } from '@aios/backup';
import { isAiosError } from '@aios/utils';
import type { DoctorCheck, Finding } from '../types.js';

/**
 * The backup repository, when there is one: its structure (every snapshot readable, every
 * chunk it uses indexed), and unless `quick`, a sample of pack data read back. Damage is
 * reported with what it affects; removing damaged snapshots is left to the user
 * (`aios backup forget`), since they may still hold files worth restoring.
 */
export const backupCheck: DoctorCheck = {
  name: 'backup',
  async run({ config, native, quick }) {
    const path = config.backup.repository;
    if (!existsSync(join(path, 'config.json'))) {
      return [{ check: 'backup', status: 'ok', message: `no backup repository yet (${path})` }];
    }
    try {
      const repo = await openRepository(path, { native });
      const result = await repo.verify(quick ? { readData: 0 } : {});
      if (result.ok) {
        return [
          {
            check: 'backup',
            status: 'ok',
            message:
              `${path}: ${result.snapshots} snapshots, ${result.packs} packs, ` +
              `${result.checkedPacks} read back`,
            details: { path, snapshots: result.snapshots, checkedPacks: result.checkedPacks },
          },
        ];
      }
      const findings: Finding[] = [];
      if (result.damagedSnapshots.length > 0) {
        findings.push({
          check: 'backup',
          status: 'warn',
          message:
            `${result.damagedSnapshots.length} snapshot files cannot be read; ` +
            `remove them with \`aios backup forget ${result.damagedSnapshots[0]}\``,
          details: { path, snapshots: result.damagedSnapshots },
        });
      }
      const damaged = result.errors.filter((e) => e.code !== 'SNAPSHOT_DAMAGED');
      if (damaged.length > 0 || result.damagedChunks.length > 0) {
        findings.push({
          check: 'backup',
          status: 'fail',
          message:
            `${path}: ${damaged[0]?.message ?? `${result.damagedChunks.length} damaged chunks`}` +
            (result.affectedSnapshots.length > 0
              ? `; ${result.affectedSnapshots.length} snapshots hold files that cannot be restored whole`
              : ''),
          details: {
            path,
            errors: damaged.slice(0, 20),
            affectedSnapshots: result.affectedSnapshots.map((s) => s.id),
          },
        });
      }
      return findings;
    } catch (error) {
      return [
        {
          check: 'backup',
          status: isAiosError(error) && error.code === 'REPO_LOCKED' ? 'warn' : 'fail',
          message: `${path}: ${error instanceof Error ? error.message : String(error)}${isAiosError(error) ? ` [${error.code}]` : ''}`,
          details: { path },
        },
      ];
    }
  },
};
