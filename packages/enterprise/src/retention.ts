/**
 * Conversation retention (`server.conversationRetentionDays`): conversations no message
 * has touched for longer are deleted, tenant by tenant, when the server starts and every
 * hour after; each tenant's sweep is one audit entry (`retention.sweep`). Servers that
 * share a PostgreSQL store sweep once per turn, not once each: the sweep runs under the
 * store's cluster lock, and a server that finds it held skips its turn.
 */
import type { Aios } from '@aios/core';
import type { Api, ServerContext } from './context.js';
import { DEFAULT_TENANT } from './tenants/ids.js';

export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
/** The name of the sweep's cluster lock (`DataStore.withClusterLock`). */
export const RETENTION_LOCK = 'retention.conversations';
const DAY_MS = 24 * 60 * 60 * 1000;
const PAGE = 500;

/**
 * Deletes the conversations of `system` last updated before `cutoff` (ms); returns how
 * many. Conversations are listed most recently updated first, so the old ones are the tail.
 */
export async function sweepConversations(system: Aios, cutoff: number): Promise<number> {
  const data = system.data;
  const old: string[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await data.conversations.list({ limit: PAGE, offset });
    for (const c of page) if (c.updatedAt < cutoff) old.push(c.id);
    if (page.length < PAGE) break;
  }
  let deleted = 0;
  for (const id of old) if (await data.conversations.delete(id)) deleted++;
  return deleted;
}

/** One sweep over every tenant; a tenant that fails is logged and audited, the rest go on. */
export async function sweepAllTenants(
  ctx: ServerContext,
  log: Api['log'],
  now = Date.now(),
): Promise<Array<{ tenant: string; deleted: number }>> {
  const days = ctx.config.server.conversationRetentionDays;
  if (days === undefined) return [];
  const cutoff = now - days * DAY_MS;
  const tenants = [DEFAULT_TENANT, ...(await ctx.tenants.control.tenants.list()).map((t) => t.id)];
  const swept: Array<{ tenant: string; deleted: number }> = [];
  for (const tenant of [...new Set(tenants)]) {
    if (ctx.stopping) break;
    try {
      const deleted = await sweepConversations(await ctx.tenants.system(tenant), cutoff);
      swept.push({ tenant, deleted });
      ctx.audit.record({
        action: 'retention.sweep',
        outcome: 'ok',
        tenantId: tenant,
        details: { deleted, olderThanDays: days, cutoff: new Date(cutoff).toISOString() },
      });
    } catch (error) {
      log.error({ err: error, tenant }, 'conversation retention sweep failed');
      ctx.audit.record({
        action: 'retention.sweep',
        outcome: 'failed',
        tenantId: tenant,
        details: { olderThanDays: days },
      });
    }
  }
  return swept;
}

/**
 * Sweeps once the server is ready and every `intervalMs` after (a timer that never keeps
 * the process alive), when a retention is configured; stops with the server, waiting for a
 * sweep under way.
 */
export function installRetention(
  api: Api,
  ctx: ServerContext,
  intervalMs = RETENTION_INTERVAL_MS,
): void {
  if (ctx.config.server.conversationRetentionDays === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const sweep = () => {
    running ??= ctx.tenants.control
      .withClusterLock(RETENTION_LOCK, () => sweepAllTenants(ctx, api.log))
      .then((result) => {
        if (result.status === 'skipped') {
          api.log.debug('conversation retention: another server is sweeping, this turn skipped');
        }
      })
      .catch((error: unknown) => {
        api.log.error({ err: error }, 'conversation retention sweep failed');
      })
      .finally(() => {
        running = undefined;
      });
  };
  api.addHook('onReady', async () => {
    sweep();
    timer = setInterval(sweep, intervalMs);
    timer.unref();
  });
  api.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
  });
}
