import { existsSync } from 'node:fs';
import { openDataStore } from '@aios/data';
import { isAiosError } from '@aios/utils';
import type { DoctorCheck, Finding } from '../types.js';

/**
 * The SQLite database: it opens (ours, not too new, not busy) and SQLite finds it intact.
 * Nothing here repairs a damaged database: the file is left as it is, and the finding
 * says how to get the data back from a backup.
 */
export const databaseCheck: DoctorCheck = {
  name: 'database',
  async run({ config, native }) {
    const path = config.data.path;
    if (!existsSync(path)) {
      return [{ check: 'database', status: 'ok', message: `no database yet (${path})` }];
    }
    let data: Awaited<ReturnType<typeof openDataStore>>;
    try {
      data = await openDataStore({ path, native });
    } catch (error) {
      return [failure(path, error)];
    }
    try {
      const version = await data.schemaVersion();
      const problems = await data.integrityCheck();
      if (problems !== 'ok') {
        return [
          {
            check: 'database',
            status: 'fail',
            message:
              `${path} is damaged (${problems.split('\n')[0]}); the file was left untouched: ` +
              'restore it with `aios backup restore latest`',
            details: { path, problems: problems.split('\n').slice(0, 20) },
          },
        ];
      }
      return [
        {
          check: 'database',
          status: 'ok',
          message: `${path}: integrity check ok, schema version ${version}`,
          details: { path, schemaVersion: version },
        },
      ];
    } catch (error) {
      return [failure(path, error)];
    } finally {
      await data.close().catch(() => undefined);
    }
  },
};

/** Codes that mean the file itself is damaged (not busy, not ours, not readable). */
const DAMAGE = new Set(['DATA_CORRUPT', 'DATA_NOT_A_DATABASE']);

function failure(path: string, error: unknown): Finding {
  const code = isAiosError(error) ? error.code : 'UNKNOWN';
  const message = error instanceof Error ? error.message : String(error);
  // Another process holding the database is not damage: report it as such.
  const busy = code === 'DATA_BUSY';
  return {
    check: 'database',
    status: busy ? 'warn' : 'fail',
    message: busy
      ? `not checked: ${message}`
      : DAMAGE.has(code)
        ? `${message} [${code}]; the file was left untouched: restore it with \`aios backup restore latest\``
        : `${message} [${code}]`,
    details: { path, code },
  };
}
