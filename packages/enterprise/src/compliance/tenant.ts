/**
 * Erasing a whole tenant: its jobs stopped, its home (database, index files, backups,
 * uploads) deleted, its PostgreSQL schema dropped (when the store is PostgreSQL), its row
 * and keys gone. What the server keeps about it afterwards is
 * the audit log, which never holds memory text.
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerContext } from '../context.js';
import { apiError } from '../http/errors.js';
import { DEFAULT_TENANT } from '../tenants/ids.js';

export interface TenantErasureReport {
  tenant: string;
  erasedAt: string;
  jobsCancelled: number;
  keysDeleted: number;
  /** Files and bytes of the tenant's home that were deleted (its backups among them). */
  files: number;
  bytes: number;
  backupSnapshots: number;
  /** The PostgreSQL schema dropped with its store; null when its store was a file in its home. */
  schema: string | null;
}

/** Files and bytes under `dir`. */
async function sizeOf(dir: string): Promise<{ files: number; bytes: number }> {
  const total = { files: 0, bytes: 0 };
  if (!existsSync(dir)) return total;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    total.files++;
    total.bytes += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/**
 * Erases tenant `id`: cancels its jobs (waiting until they stopped), then, with its system
 * closed and kept closed (its requests fail meanwhile), deletes its keys, its home and its
 * row, so that afterwards the tenant is not found. Its backups were in its home.
 */
export async function eraseTenant(ctx: ServerContext, id: string): Promise<TenantErasureReport> {
  if (id === DEFAULT_TENANT) {
    throw apiError(
      'INVALID_INPUT',
      "the default tenant holds the server's own store and cannot be erased; erase its namespaces instead",
    );
  }
  const control = ctx.tenants.control;
  if (!(await control.tenants.get(id))) {
    throw apiError('TENANT_NOT_FOUND', `no tenant ${JSON.stringify(id)}`, { id });
  }
  const running = ctx.jobs.list(id).filter((j) => j.status === 'running').length;
  await ctx.jobs.cancelTenant(id);
  return ctx.tenants.whileClosed(id, 'it is erased', async () => {
    const home = ctx.tenants.homeOf(id);
    let backupSnapshots = 0;
    const snapshots = join(home, 'backups', 'snapshots');
    if (existsSync(snapshots)) {
      backupSnapshots = (await readdir(snapshots)).filter((n) => n.endsWith('.json')).length;
    }
    const size = await sizeOf(home);
    // The keys go first: from now on no request of the tenant gets in.
    const keys = await control.apiKeys.list({ tenantId: id });
    for (const key of keys) await control.apiKeys.revoke(key.id);
    await ctx.tenants.removeTenantFiles(id);
    const schema = await ctx.tenants.removeTenantStore(id);
    // Its keys go with its row.
    await control.tenants.delete(id);
    return {
      tenant: id,
      erasedAt: new Date().toISOString(),
      jobsCancelled: running,
      keysDeleted: keys.length,
      files: size.files,
      bytes: size.bytes,
      backupSnapshots,
      schema,
    };
  });
}
