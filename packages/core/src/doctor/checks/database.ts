import { existsSync } from 'node:fs';
import { type DataStore, openDataStore } from '@aios/data';
import { describeReadOnlyCause, isAiosError } from '@aios/utils';
import { storeOptionsFromConfig } from '../../store-options.js';
import type { DoctorCheck, Finding } from '../types.js';

/**
 * The store: it opens (ours, not too new, not busy) and its database finds it intact
 * (SQLite's integrity check; on PostgreSQL, amcheck's where the server has it). Nothing
 * here repairs a damaged database: it is left as it is, and the finding says how to get
 * the data back from a backup.
 */
export const databaseCheck: DoctorCheck = {
  name: 'database',
  async run({ config, native }) {
    const onServer = config.data.url !== undefined;
    let path = config.data.url ?? config.data.path;
    if (!onServer && !existsSync(path)) {
      return [{ check: 'database', status: 'ok', message: `no database yet (${path})` }];
    }
    let data: Awaited<ReturnType<typeof openDataStore>>;
    try {
      data = await openDataStore({ ...storeOptionsFromConfig(config), native });
    } catch (error) {
      return [failure(path, error)];
    }
    // A PostgreSQL store names itself by its URL without the password.
    path = data.path;
    const readOnly = readOnlyFinding(config.home, data);
    try {
      const version = await data.schemaVersion();
      const problems = await integrity(data);
      if (problems === undefined) {
        return [
          {
            check: 'database',
            status: 'ok',
            message: `${path}: schema version ${version} (integrity not checked: the server has no amcheck)`,
            details: { path, schemaVersion: version },
          },
        ];
      }
      if (problems !== 'ok') {
        return [
          ...readOnly,
          {
            check: 'database',
            status: 'fail',
            message:
              `${path} is damaged (${problems.split('\n')[0]}); it was left untouched: ` +
              (onServer
                ? 'restore the database from its dump (pg_restore)'
                : 'restore it with `aios backup restore latest`'),
            details: { path, problems: problems.split('\n').slice(0, 20) },
          },
        ];
      }
      return [
        ...readOnly,
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

/**
 * A home whose database opened to read only (it cannot be written: see @aios/data's
 * `readOnly`) is checked all the same, writing nothing; the finding says so, and that
 * repairs and every command that writes need it writable.
 */
function readOnlyFinding(home: string, data: DataStore): Finding[] {
  const readOnly = data.readOnly;
  if (readOnly === undefined) return [];
  return [
    {
      check: 'database',
      status: 'warn',
      message: `${home} is read-only (${describeReadOnlyCause(readOnly.cause)}): checked without writing anything; \`aios doctor --repair\` and the commands that write need it writable`,
      details: { home, readOnly: readOnly.cause, access: readOnly.access },
    },
  ];
}

/** The problems the database finds, `ok`, or undefined when it cannot look. */
async function integrity(data: DataStore): Promise<string | undefined> {
  try {
    return await data.integrityCheck();
  } catch (error) {
    if (isAiosError(error) && error.code === 'DATA_NOT_SUPPORTED') return undefined;
    throw error;
  }
}

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
