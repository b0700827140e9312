import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { isServerAdmin, principalOf } from '../auth/authenticate.js';
import { eraseNamespace } from '../compliance/erase.js';
import { exportTenant } from '../compliance/export.js';
import { eraseTenant } from '../compliance/tenant.js';
import type { RouteModule, ServerContext } from '../context.js';
import { apiError, notFound } from '../http/errors.js';
import { installRetention } from '../retention.js';
import {
  EraseBody,
  ErasureReportSchema,
  ExportQuery,
  TenantArchive,
  TenantErasureSchema,
  TenantParams,
} from '../schemas/compliance.js';

/**
 * The tenant a compliance request acts on: the caller's, or for a server admin the one it
 * names. A tenant admin naming another tenant gets 404, as for any other tenant's data.
 */
function actingTenant(request: FastifyRequest, named: string | undefined): string {
  const principal = principalOf(request);
  if (named === undefined || named === principal.tenantId) return principal.tenantId;
  if (!isServerAdmin(principal)) throw notFound('tenant', named);
  return named;
}

function refuseWhileJobsRun(ctx: ServerContext, tenant: string): void {
  const running = ctx.jobs.list(tenant).filter((j) => j.status === 'running');
  if (running.length > 0) {
    throw apiError(
      'JOBS_RUNNING',
      `the tenant has running jobs (${running.map((j) => `${j.kind} ${j.id}`).join(', ')}) that could write what is being erased: wait for them or cancel them first`,
      { jobs: running.map((j) => j.id) },
    );
  }
}

/** Export and erasure of what a tenant holds, the erasure of a tenant, and retention. */
export const complianceRoutes: RouteModule = (api, ctx) => {
  installRetention(api, ctx);

  api.get(
    '/compliance/export',
    {
      config: { access: 'admin', action: 'compliance.export', audit: true },
      schema: {
        summary:
          'Everything a tenant holds, as one JSON archive: memories with their history, conversations with their messages, feedback, personality versions, ingested files, its audit entries',
        tags: ['compliance'],
        querystring: ExportQuery,
        response: { 200: TenantArchive },
      },
    },
    async (request, reply) => {
      const tenant = actingTenant(request, request.query.tenant);
      const system = await ctx.tenants.system(tenant);
      await ctx.audit.flush();
      const day = new Date().toISOString().slice(0, 10);
      return reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="aios-export-${tenant}-${day}.json"`)
        .send(
          // Streamed as it is read (the schema documents the document it makes).
          Readable.from(exportTenant(system, ctx.tenants.control, tenant)) as unknown as Static<
            typeof TenantArchive
          >,
        );
    },
  );

  api.post(
    '/compliance/erase',
    {
      config: { access: 'admin', action: 'compliance.erase' },
      schema: {
        summary:
          'Erase a namespace of a tenant for good: every memory, vector, index entry, history row and source record of it, the database compacted; the report lists the backups that still hold it and how to forget them',
        tags: ['compliance'],
        body: EraseBody,
        response: { 200: ErasureReportSchema },
      },
    },
    async (request) => {
      const tenant = actingTenant(request, request.body.tenant);
      const system = await ctx.tenants.system(tenant);
      refuseWhileJobsRun(ctx, tenant);
      const report = await eraseNamespace(system, request.body.namespace, {
        deleteCitingConversations: request.body.deleteCitingConversations === true,
      });
      ctx.audit.record({
        action: 'compliance.erased',
        outcome: 'ok',
        tenantId: tenant,
        keyId: principalOf(request).keyId,
        requestId: request.id,
        details: {
          fragments: report.removed.fragments,
          historyRows: report.removed.historyRows,
          sources: report.removed.sources,
          conversationsDeleted: report.conversations.deleted
            ? report.conversations.citing.length
            : 0,
          snapshotsHolding: report.backups.snapshots.length,
        },
      });
      return { tenant, ...report };
    },
  );

  api.delete(
    '/tenants/:id',
    {
      config: { access: 'admin', serverAdmin: true, action: 'tenants.erase' },
      schema: {
        summary:
          'Erase a tenant: its jobs cancelled, its home (memories, conversations, index files, backups) deleted, its keys and row removed',
        tags: ['admin', 'compliance'],
        params: TenantParams,
        response: { 200: TenantErasureSchema },
      },
    },
    async (request) => eraseTenant(ctx, request.params.id),
  );
};
