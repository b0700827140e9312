import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import { BackupHandle } from '../aios.js';
import { pc } from './colors.js';
import { type GlobalOptions, loadCliConfig, printJson } from './shared.js';

function handle(command: Command, repository?: string): BackupHandle {
  const { config } = loadCliConfig(command.optsWithGlobals<GlobalOptions>());
  return new BackupHandle(
    repository ? { ...config, backup: { ...config.backup, repository } } : config,
  );
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
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
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { tag?: string[]; json?: boolean }, command: Command) => {
      const h = repoOf(command);
      const { snapshot, warnings } = await h.create({ tags: options.tag ?? [] });
      if (options.json) return printJson({ snapshot, warnings });
      const s = snapshot.summary;
      console.log(
        `snapshot ${pc.bold(snapshot.id.slice(0, 12))}: ${s.files} files, ${bytes(s.bytes)} (${bytes(s.bytesNew)} new)`,
      );
      for (const w of warnings) console.log(pc.yellow(`warning: ${w.path}: ${w.message}`));
    });

  backup
    .command('list')
    .description('the snapshots, oldest first')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const repo = await repoOf(command).open();
      const snapshots = await repo.snapshots();
      if (options.json) return printJson(snapshots);
      if (snapshots.length === 0) console.log(pc.dim('no snapshots yet'));
      for (const s of snapshots) {
        console.log(
          `${pc.bold(s.id.slice(0, 12))}  ${s.time}  ${s.summary.files} files  ${bytes(s.summary.bytes)}${s.tags.length ? `  [${s.tags.join(', ')}]` : ''}`,
        );
      }
    });

  backup
    .command('restore')
    .description('restore a snapshot in place (the data directory), or under --target')
    .argument('<snapshot>', 'snapshot id or a unique prefix of it; "latest" for the newest')
    .option('--target <dir>', 'restore under this directory instead of in place')
    .option('--json', 'print machine-readable JSON')
    .action(
      async (snapshot: string, options: { target?: string; json?: boolean }, command: Command) => {
        const h = repoOf(command);
        let id = snapshot;
        if (snapshot === 'latest') {
          const last = (await (await h.open()).snapshots()).at(-1);
          if (!last) throw new AiosError('SNAPSHOT_NOT_FOUND', `${h.path} has no snapshots yet`);
          id = last.id;
        }
        const result = await h.restore(id, options.target);
        if (options.json) printJson(result);
        else {
          console.log(`restored ${id.slice(0, 12)} to ${result.target}`);
          for (const e of result.errors)
            console.log(pc.red(`error: ${e.path}: ${e.message} [${e.code}]`));
        }
        if (result.errors.length > 0) process.exitCode = 1;
      },
    );

  backup
    .command('verify')
    .description('check the repository (exit status 1 when damaged)')
    .option('--read-data <percent>', 'also re-read and re-hash this share of packs', '0')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { readData: string; json?: boolean }, command: Command) => {
      const readData = Number(options.readData);
      const result = await repoOf(command).verify(readData);
      if (options.json) printJson(result);
      else if (result.ok) console.log(pc.green('repository ok'));
      else {
        console.log(pc.red('repository damaged'));
        for (const e of result.errors) console.log(`  ${e.code}: ${e.message}`);
      }
      if (!result.ok) process.exitCode = 1;
    });
}
