import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { DEFAULT_READ_DATA, type PruneWarning, type RetentionPolicy } from '@aios/backup';
import { openDataStore } from '@aios/data';
import { Metrics } from '@aios/support';
import { type AiosConfig, AiosError, hideUrlPassword, isAiosError } from '@aios/utils';
import type { Command } from 'commander';
import { diffHome } from '../backup-diff.js';
import { BackupHandle } from '../backup-handle.js';
import { MetricsJournal } from '../metrics-journal.js';
import { storeOptionsFromConfig } from '../store-options.js';
import { printDiff } from './backup-diff-print.js';
import { verifyDamageLines } from './backup-verify-print.js';
import { pc } from './colors.js';
import { plural } from './plural.js';
import { type GlobalOptions, loadCliConfig, numberIn, printJson } from './shared.js';
import { toStdout, writeOutput } from './write-output.js';

function handle(command: Command, repository?: string, metrics?: Metrics): BackupHandle {
  const { config } = loadCliConfig(command.optsWithGlobals<GlobalOptions>());
  const includeSecrets = command.opts<{ includeSecrets?: boolean }>().includeSecrets === true;
  const backup = {
    ...config.backup,
    ...(repository ? { repository, excludes: withConfigured(config, repository) } : {}),
    ...(includeSecrets ? { includeSecrets } : {}),
  };
  return new BackupHandle({ ...config, backup }, config.native, metrics);
}

/**
 * The excludes of a backup to another repository (`--repo`): the home's configured
 * repository stays out of its snapshots too, as it does of its own, so that a backup to a
 * second disk does not copy every pack of the home's repository into it.
 */
function withConfigured(config: AiosConfig, other: string): string[] {
  const rel = relative(resolve(config.home), resolve(config.backup.repository));
  const inHome = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  if (!inHome || resolve(other) === resolve(config.backup.repository))
    return config.backup.excludes;
  return [...config.backup.excludes, `/${rel.split(sep).join('/')}/`];
}

/**
 * Keeps the metrics a backup command recorded in the data store, beside those of the other
 * commands (`aios metrics` shows them). Backup commands do not open the system (a restore in
 * place needs it closed), so the store is opened only for this, after the operation, and
 * only when it exists: a home without a database has nothing to measure, and backing it up
 * must not create one. A failure here never fails the backup: it is one warning line
 * (none when the operation itself failed: its error is the line that matters).
 */
async function keepMetrics(h: BackupHandle, quiet: boolean): Promise<void> {
  const metrics = h.metrics;
  const postgres = h.config.data.url !== undefined;
  if (!metrics || (!postgres && !existsSync(h.config.data.path))) return;
  try {
    const data = await openDataStore(storeOptionsFromConfig(h.config));
    try {
      // A read-only home keeps no metrics: nothing is written to it.
      if (data.readOnly) return;
      await new MetricsJournal(metrics, data.events).save();
    } finally {
      await data.close();
    }
  } catch (error) {
    if (quiet) return;
    const why = isAiosError(error) ? `${error.message} [${error.code}]` : String(error);
    process.stderr.write(`aios: warning: the backup metrics were not saved: ${why}\n`);
  }
}

/** Runs a measured backup operation on the command's repository, then keeps its metrics. */
async function measured<T>(command: Command, run: (h: BackupHandle) => Promise<T>): Promise<T> {
  const h = handle(command, command.optsWithGlobals<{ repo?: string }>().repo, new Metrics());
  let result: T;
  try {
    result = await run(h);
  } catch (error) {
    await keepMetrics(h, true);
    throw error;
  }
  await keepMetrics(h, false);
  return result;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function count(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 1_000_000) {
      throw new AiosError('INVALID_INPUT', `${name}: expected a whole number >= 0, got "${value}"`);
    }
    return n;
  };
}

/** The retention policy as flags: one `--keep-tag` per tag instead of a `keepTags` list. */
type ForgetFlags = Omit<RetentionPolicy, 'keepTags'> & {
  keepTag?: string[];
  prune?: boolean;
  dryRun?: boolean;
  json?: boolean;
};

function pruneLines(p: {
  packsDeleted: number;
  packsRewritten: number;
  packsKept: number;
  chunksRemoved: number;
  bytesFreed: number;
  warnings: PruneWarning[];
}): string[] {
  const kept = p.packsKept > 0 ? `, ${p.packsKept} kept` : '';
  return [
    `pruned: ${plural(p.chunksRemoved, 'chunk')} removed, ${plural(p.packsDeleted, 'pack')} deleted, ${p.packsRewritten} rewritten${kept}, ${bytes(p.bytesFreed)} freed`,
    ...p.warnings.map((w) => pc.yellow(`warning: ${w.message} [${w.code}]`)),
  ];
}

/** A file's warning or error, its path once: most messages already begin with it. */
function aboutPath(w: { path: string; message: string }): string {
  return w.message.startsWith(`${w.path}: `) ? w.message : `${w.path}: ${w.message}`;
}

/** Warnings about the repository go to stderr, so that stdout stays the command's output. */
function warnAbout(items: Array<{ code: string; message: string }>): void {
  for (const w of items) process.stderr.write(`aios: warning: ${w.message} [${w.code}]\n`);
}

export function registerBackup(program: Command): void {
  const backup = program
    .command('backup')
    .description('snapshots of the AIOS data directory (default repository <home>/backups)')
    .option('--repo <dir>', 'repository directory (default: config backup.repository)');
  const repoOf = (command: Command) =>
    handle(command, command.optsWithGlobals<{ repo?: string }>().repo);

  backup
    .command('init')
    .description('create an empty repository')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const h = repoOf(command);
      const repo = await h.init();
      if (options.json) printJson({ repository: repo.path, implementation: repo.implementation });
      else console.log(`initialised backup repository ${repo.path}`);
    });

  backup
    .command('create')
    .description('snapshot the data directory (initialises the repository on first use)')
    .option('--tag <tag...>', 'tags for the snapshot')
    .option(
      '--include-secrets',
      'also back up <home>/secrets.json (the API keys), left out otherwise (config backup.includeSecrets)',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { tag?: string[]; json?: boolean }, command: Command) => {
      const created = await measured(command, (h) => h.create({ tags: options.tag ?? [] }));
      const { snapshot, warnings, repositoryWarnings } = created;
      if (options.json) return printJson({ snapshot, warnings, repositoryWarnings });
      const s = snapshot.summary;
      console.log(
        `snapshot ${pc.bold(snapshot.id.slice(0, 12))}: ${plural(s.files, 'file')}, ${bytes(s.bytes)} (${bytes(s.bytesNew)} new)`,
      );
      for (const w of warnings) console.log(pc.yellow(`warning: ${aboutPath(w)}`));
      for (const w of repositoryWarnings)
        console.log(pc.yellow(`warning: ${w.message} [${w.code}]`));
    });

  backup
    .command('list')
    .description('the snapshots, oldest first')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { snapshots, damaged } = await repoOf(command).list();
      // Damaged snapshot files are listed apart (and skipped by every other command).
      const hint = (d: { id: string }) =>
        `\`aios backup forget ${d.id.slice(0, 12)}\` removes the damaged snapshot`;
      if (options.json) {
        warnAbout(damaged.map((d) => ({ code: d.code, message: `${d.message}; ${hint(d)}` })));
        return printJson(snapshots);
      }
      if (snapshots.length === 0 && damaged.length === 0) console.log(pc.dim('no snapshots yet'));
      for (const s of snapshots) {
        console.log(
          `${pc.bold(s.id.slice(0, 12))}  ${s.time}  ${plural(s.summary.files, 'file')}  ${bytes(s.summary.bytes)}${s.tags.length ? `  [${s.tags.join(', ')}]` : ''}`,
        );
      }
      for (const d of damaged) {
        console.log(pc.red(`${pc.bold(d.id.slice(0, 12))}  DAMAGED  ${d.message} [${d.code}]`));
        console.log(pc.dim(`  ${hint(d)}`));
      }
    });

  backup
    .command('restore')
    .description('restore a snapshot in place (the data directory), or under --target')
    .argument(
      '<snapshot>',
      'snapshot id or a unique prefix of it; "latest" for the newest, "latest~N" for the Nth before it',
    )
    .option(
      '--target <dir>',
      'restore into this new or empty directory, as a home of its own (AIOS_HOME=<dir> opens it), instead of in place',
    )
    .option(
      '--confirm',
      'replace the PostgreSQL database of data.url (required to restore such a home in place)',
    )
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        snapshot: string,
        options: { target?: string; confirm?: boolean; json?: boolean },
        command: Command,
      ) => {
        // In place, a PostgreSQL home's restore replaces a database on a server, which
        // other machines may use: it is said out loud.
        const url = loadCliConfig(command.optsWithGlobals<GlobalOptions>()).config.data.url;
        if (url !== undefined && !options.target && !options.confirm) {
          throw new AiosError(
            'CONFIRMATION_REQUIRED',
            `restoring in place replaces the store in the PostgreSQL database ${hideUrlPassword(url)}: give --confirm to do it (stop every aios process using it first), or --target <dir> to write the snapshot out`,
            { details: { url: hideUrlPassword(url) } },
          );
        }
        let id = snapshot;
        const result = await measured(command, async (h) => {
          id = await h.resolveSnapshot(snapshot);
          return h.restore(id, options.target);
        });
        if (options.json) printJson(result);
        else {
          if (result.applied) {
            console.log(`restored ${id.slice(0, 12)} to ${result.target}`);
            const pg = result.postgres;
            if (pg) {
              const rows = Object.values(pg.tables).reduce((n, r) => n + r, 0);
              console.log(
                `loaded ${pg.entry} into ${pg.url} (schema ${pg.schema}, version ${pg.schemaVersion}): ${plural(rows, 'row')} in ${plural(Object.keys(pg.tables).length, 'table')}, checked`,
              );
            }
            for (const dump of result.dumps ?? []) {
              console.log(pc.dim(`PostgreSQL dump written to ${dump} (psql -1 -f loads it)`));
            }
            if (options.target) {
              console.log(
                pc.dim(
                  `(a home of its own: AIOS_HOME=${result.target} aios memory stats shows what it holds)`,
                ),
              );
            }
          } else {
            // Under a target, what was restored is removed: the directory is as it was.
            const left = options.target
              ? `nothing was written to ${result.target}`
              : `${result.target} is unchanged`;
            console.log(
              pc.red(
                `not restored: ${plural(result.errors.length, 'file')} of ${id.slice(0, 12)} could not be read; ${left}`,
              ),
            );
          }
          for (const e of result.errors) console.log(pc.red(`error: ${aboutPath(e)} [${e.code}]`));
        }
        if (result.errors.length > 0) process.exitCode = 1;
      },
    );

  backup
    .command('verify')
    .description('check the repository (exit status 1 when damaged)')
    .option(
      '--read-data <percent>',
      'share of packs to read back and re-hash, in percent (packs written to since their last check first; 0: structure only)',
      numberIn(0, 100, 'a percentage'),
      DEFAULT_READ_DATA,
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { readData: number; json?: boolean }, command: Command) => {
      const result = await measured(command, (h) => h.verify(options.readData));
      const read = `${result.checkedPacks} of ${plural(result.packs, 'pack')} read back`;
      if (options.json) printJson(result);
      else if (result.ok) console.log(pc.green(`repository ok (${read})`));
      else for (const line of verifyDamageLines(result)) console.log(line);
      if (!result.ok) process.exitCode = 1;
    });

  backup
    .command('diff')
    .description(
      'what changed between two snapshots: memories and conversations added, removed and changed, and the other files of the home',
    )
    .argument('<a>', 'the older snapshot: id, unique prefix, "latest" or "latest~N" (N before it)')
    .argument('[b]', 'the newer snapshot (default: latest)', 'latest')
    .option('--json', 'print machine-readable JSON')
    .action(async (a: string, b: string, options: { json?: boolean }, command: Command) => {
      const h = repoOf(command);
      const diff = await diffHome(h, await h.resolveSnapshot(a), await h.resolveSnapshot(b));
      if (options.json) return printJson(diff);
      printDiff(diff);
    });

  backup
    .command('forget')
    .description(
      'remove the given snapshots (damaged ones too), or those outside a retention policy (--prune also frees their data)',
    )
    .argument(
      '[snapshots...]',
      'snapshots to remove: ids, unique prefixes, "latest" or "latest~N" (N before it)',
    )
    .option('--keep-last <n>', 'the n most recent snapshots', count('keep-last'))
    .option('--keep-hourly <n>', 'the newest of each of the last n hours', count('keep-hourly'))
    .option('--keep-daily <n>', 'the newest of each of the last n days', count('keep-daily'))
    .option('--keep-weekly <n>', 'the newest of each of the last n weeks', count('keep-weekly'))
    .option('--keep-monthly <n>', 'the newest of each of the last n months', count('keep-monthly'))
    .option('--keep-yearly <n>', 'the newest of each of the last n years', count('keep-yearly'))
    .option('--keep-tag <tag...>', 'snapshots carrying any of these tags')
    .option('--prune', 'then delete the data no snapshot uses')
    .option('--dry-run', 'only show what would be removed')
    .option('--json', 'print machine-readable JSON')
    .action(async (ids: string[], options: ForgetFlags, command: Command) => {
      // Commander sets only the flags that were given, so the rest are the policy's counts.
      const { keepTag, prune: _prune, dryRun: _dryRun, json: _json, ...counts } = options;
      const policy: RetentionPolicy = { ...counts, ...(keepTag ? { keepTags: keepTag } : {}) };
      if (ids.length > 0) {
        if (Object.keys(policy).length > 0) {
          throw new AiosError(
            'INVALID_INPUT',
            'give either snapshot ids or --keep-* options, not both',
          );
        }
        const result = await measured(command, (h) =>
          h.forgetSnapshots(ids, {
            prune: options.prune === true,
            dryRun: options.dryRun === true,
          }),
        );
        if (options.json) return printJson(result);
        console.log(
          `${options.dryRun ? 'would remove' : 'removed'} ${plural(result.remove.length, 'snapshot')}`,
        );
        for (const id of result.remove) console.log(pc.dim(`  - ${id.slice(0, 12)}`));
        if (result.prune) for (const line of pruneLines(result.prune)) console.log(line);
        return;
      }
      if (Object.keys(policy).length === 0) {
        throw new AiosError(
          'INVALID_INPUT',
          'no retention policy: give at least one --keep-* option, or snapshot ids',
        );
      }
      const result = await measured(command, (h) =>
        h.forget(policy, { prune: options.prune === true, dryRun: options.dryRun === true }),
      );
      if (options.json) return printJson(result);
      const verb = options.dryRun ? 'would remove' : 'removed';
      console.log(
        `kept ${plural(result.keep.length, 'snapshot')}, ${verb} ${result.remove.length}`,
      );
      for (const id of result.remove) console.log(pc.dim(`  - ${id.slice(0, 12)}`));
      warnAbout(
        result.damaged.map((d) => ({
          code: d.code,
          message: `${d.message}; the damaged snapshot was left out of the policy (forgetting it by id removes it)`,
        })),
      );
      if (result.prune) for (const line of pruneLines(result.prune)) console.log(line);
    });

  backup
    .command('prune')
    .description('delete the data no snapshot uses and leftovers of interrupted runs')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const result = await measured(command, (h) => h.prune());
      if (options.json) return printJson(result);
      for (const line of pruneLines(result)) console.log(line);
    });

  backup
    .command('export')
    .description('write a snapshot as a tar archive (to a file, or "-" / nothing for stdout)')
    .argument(
      '<snapshot>',
      'snapshot id or a unique prefix of it; "latest" for the newest, "latest~N" for the Nth before it',
    )
    .argument('[file]', 'the tar file to write; "-" or omitted for stdout')
    .action(
      async (snapshot: string, file: string | undefined, _options: unknown, command: Command) => {
        const h = repoOf(command);
        const repo = await h.open();
        if (toStdout(file) && process.stdout.isTTY) {
          throw new AiosError(
            'INVALID_INPUT',
            'refusing to write a tar archive to a terminal: give a file or redirect stdout',
          );
        }
        const id = await h.resolveSnapshot(snapshot);
        const target = await writeOutput(() => repo.exportTar(id), file);
        if (target) console.log(`exported ${id.slice(0, 12)} to ${target}`);
      },
    );
}
