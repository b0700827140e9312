import { createWriteStream } from 'node:fs';
import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import { pc } from './colors.js';
import { type AuditEntryView, loadEnterprise } from './enterprise.js';
import { withAios } from './open-system.js';
import { integerIn, printJson } from './shared.js';

function line(e: AuditEntryView): string {
  const who = e.keyId ? `key ${e.keyId}` : String(e.details.via ?? 'system');
  return `${String(e.seq).padStart(6)}  ${new Date(e.at).toISOString()}  ${(e.tenantId ?? '-').padEnd(10)}  ${e.action.padEnd(22)}  ${e.outcome.padEnd(7)}  ${who}  ${pc.dim(e.target ?? '')}`;
}

/** `aios audit`: the hash-chained log of every change and refused request. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit log (hash-chained)');
  audit
    .command('list')
    .description('print audit entries, oldest first')
    .option('--tenant <id>', 'only entries about this tenant')
    .option(
      '--after <seq>',
      'entries after this sequence number',
      integerIn(0, Number.MAX_SAFE_INTEGER),
    )
    .option('-n, --limit <n>', 'at most this many entries', integerIn(1, 1_000_000), 100)
    .option('--json', 'print machine-readable JSON')
    .action(async (options, command: Command) => {
      const enterprise = await loadEnterprise();
      const entries = await withAios(command, (aios) =>
        enterprise.cli.auditList(aios, {
          ...(options.tenant ? { tenant: options.tenant } : {}),
          after: options.after ?? 0,
          limit: options.limit,
        }),
      );
      if (options.json) printJson(entries);
      else if (entries.length === 0) console.log('no audit entries');
      else for (const e of entries) console.log(line(e));
    });
  audit
    .command('export')
    .description('write every audit entry as JSON lines (to a file, or stdout)')
    .option('--tenant <id>', 'only entries about this tenant')
    .option('-o, --output <file>', 'file to write (default: stdout)')
    .action(async (options, command: Command) => {
      const enterprise = await loadEnterprise();
      const entries = await withAios(command, (aios) =>
        enterprise.cli.auditList(aios, options.tenant ? { tenant: options.tenant } : {}),
      );
      const out = options.output ? createWriteStream(options.output) : process.stdout;
      for (const e of entries) out.write(`${JSON.stringify(e)}\n`);
      if (options.output) {
        await new Promise<void>((resolve, reject) => {
          out.on('error', reject);
          (out as ReturnType<typeof createWriteStream>).end(resolve);
        });
        process.stderr.write(
          `wrote ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} to ${options.output}\n`,
        );
      }
    });
  audit
    .command('verify')
    .description(
      'check the hash chain; names the first edited, deleted, inserted or reordered entry',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (options, command: Command) => {
      const enterprise = await loadEnterprise();
      const result = await withAios(command, (aios) => enterprise.cli.auditVerify(aios));
      if (options.json) printJson(result);
      if (!result.ok && result.firstBad) {
        throw new AiosError(
          'AUDIT_BROKEN',
          `${result.firstBad.message} (${result.firstBad.problem})`,
          {
            details: { ...result.firstBad, entries: result.entries },
          },
        );
      }
      if (!options.json)
        console.log(
          `audit log intact: ${result.entries} entr${result.entries === 1 ? 'y' : 'ies'} verified`,
        );
    });
}
