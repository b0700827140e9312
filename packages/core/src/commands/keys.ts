import { type Command, Option } from 'commander';
import { pc } from './colors.js';
import { type KeyView, loadEnterprise } from './enterprise.js';
import { withAios, withWritableAios } from './open-system.js';
import { printJson } from './shared.js';

const SCOPES = ['memory:read', 'memory:write', 'chat', 'ingest', 'backup', 'admin'];

function printKeys(keys: KeyView[]): void {
  if (keys.length === 0) {
    console.log('no API keys');
    return;
  }
  for (const k of keys) {
    const state = k.revokedAt
      ? pc.red('revoked')
      : k.expiresAt && Date.parse(k.expiresAt) <= Date.now()
        ? pc.yellow('expired')
        : pc.green('active ');
    const used = k.lastUsedAt ? `last used ${k.lastUsedAt}` : 'never used';
    console.log(
      `${k.id}  ${state}  ${k.tenant.padEnd(10)}  ${k.scopes.join(',').padEnd(24)}  ${k.name}  ${pc.dim(used)}`,
    );
  }
}

/** `aios keys` and `aios tenants`: who may use `aios serve`. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys of `aios serve` (stored as hashes)');
  keys
    .command('create')
    .description('create an API key; the key is printed once and stored nowhere')
    .requiredOption('--name <name>', 'what the key is for')
    .addOption(
      new Option('--scope <scope...>', 'what the key may do (repeatable)')
        .choices(SCOPES)
        .makeOptionMandatory(),
    )
    .option('--tenant <id>', 'the tenant the key belongs to (default: default)')
    .option('--expires <when>', 'expiry: 30d, 12h, 90m or an ISO date (default: never)')
    .option('--json', 'print machine-readable JSON')
    .action(async (options, command: Command) => {
      const enterprise = await loadEnterprise();
      const created = await withWritableAios(command, (aios) =>
        enterprise.cli.keysCreate(aios, {
          name: options.name,
          scopes: options.scope,
          ...(options.tenant ? { tenant: options.tenant } : {}),
          ...(options.expires ? { expires: options.expires } : {}),
        }),
      );
      if (options.json) {
        printJson(created);
        return;
      }
      console.log(created.key);
      process.stderr.write(
        `${pc.dim(`key ${created.apiKey.id} for tenant ${created.apiKey.tenant} (${created.apiKey.scopes.join(', ')}): shown once, keep it safe`)}\n`,
      );
    });
  keys
    .command('list')
    .description('list API keys (never their secrets)')
    .option('--tenant <id>', 'only the keys of this tenant')
    .option('--json', 'print machine-readable JSON')
    .action(async (options, command: Command) => {
      const enterprise = await loadEnterprise();
      const list = await withAios(command, (aios) =>
        enterprise.cli.keysList(aios, options.tenant ? { tenant: options.tenant } : {}),
      );
      if (options.json) printJson(list);
      else printKeys(list);
    });
  keys
    .command('revoke')
    .description('revoke an API key: refused from the next request on')
    .argument('<id>', 'the key id (the part after aios_sk_)')
    .action(async (id: string, _options, command: Command) => {
      const enterprise = await loadEnterprise();
      const key = await withWritableAios(command, (aios) => enterprise.cli.keysRevoke(aios, id));
      console.log(`revoked ${key.id} (${key.name})`);
    });

  const tenants = program.command('tenants').description('tenants of `aios serve`');
  tenants
    .command('create')
    .description('create a tenant (its data lives in <home>/tenants/<id>)')
    .argument('<id>', 'lowercase letters, digits and dashes')
    .option('--name <name>', 'a display name')
    .action(async (id: string, options, command: Command) => {
      const enterprise = await loadEnterprise();
      const tenant = await withWritableAios(command, (aios) =>
        enterprise.cli.tenantsCreate(aios, { id, ...(options.name ? { name: options.name } : {}) }),
      );
      console.log(`created tenant ${tenant.id}`);
    });
  tenants
    .command('list')
    .description('list tenants')
    .option('--json', 'print machine-readable JSON')
    .action(async (options, command: Command) => {
      const enterprise = await loadEnterprise();
      const list = await withAios(command, (aios) => enterprise.cli.tenantsList(aios));
      if (options.json) printJson(list);
      else for (const t of list) console.log(`${t.id.padEnd(20)}  ${t.name}`);
    });
}
