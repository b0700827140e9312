import type { Tenant } from '@aios/data';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { createKey, keyView } from '../access/keys.js';
import { auditView } from '../audit/view.js';
import { isServerAdmin, principalOf } from '../auth/authenticate.js';
import { SCOPES } from '../auth/keys.js';
import type { RouteModule } from '../context.js';
import { notFound } from '../http/errors.js';
import { iso } from '../http/time.js';
import { Body, IdParams, JsonObject, ScopeSchema } from '../schemas/common.js';
import { DEFAULT_TENANT, tenantId } from '../tenants/ids.js';

const KeyView = Type.Object({
  id: Type.String(),
  tenant: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

const TenantView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String(),
});

const AuditEntryView = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  tenant: Type.Union([Type.String(), Type.Null()]),
  keyId: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  outcome: Type.String(),
  status: Type.Union([Type.Integer(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()]),
  details: JsonObject,
  hash: Type.String(),
});

const tenantView = (t: Tenant) => ({ id: t.id, name: t.name, createdAt: iso(t.createdAt) });

const TENANT_ID = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });

/**
 * The tenant an admin request acts on: its own, or (for a server admin only) the one it
 * names. A tenant admin naming another tenant gets 404, as for any other tenant's data.
 */
function actingTenant(request: FastifyRequest, named: string | undefined): string {
  const principal = principalOf(request);
  if (named === undefined || named === principal.tenantId) return principal.tenantId;
  if (!isServerAdmin(principal)) throw notFound('tenant', named);
  return tenantId(named);
}

/** API keys, tenants and the audit log. */
export const adminRoutes: RouteModule = (api, ctx) => {
  const control = ctx.tenants.control;

  api.post(
    '/keys',
    {
      config: { access: 'admin', action: 'keys.create' },
      schema: {
        summary: 'Create an API key (the key is in this answer only)',
        tags: ['admin'],
        body: Body({
          name: Type.String({ minLength: 1, maxLength: 200 }),
          scopes: Type.Array(ScopeSchema, {
            minItems: 1,
            maxItems: SCOPES.length,
          }),
          tenant: Type.Optional(TENANT_ID),
          expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
        }),
        response: { 201: Type.Object({ key: Type.String(), apiKey: KeyView }) },
      },
    },
    async (request, reply) => {
      const tenant = actingTenant(request, request.body.tenant);
      if (tenant !== DEFAULT_TENANT && !(await control.tenants.get(tenant)))
        throw notFound('tenant', tenant);
      const { key, view } = await createKey(control, {
        tenant,
        name: request.body.name,
        scopes: request.body.scopes,
        expiresAt: request.body.expiresAt ? Date.parse(request.body.expiresAt) : null,
      });
      return reply.status(201).send({ key, apiKey: view });
    },
  );

  api.get(
    '/keys',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'List API keys (never their secrets)',
        tags: ['admin'],
        querystring: Type.Object({ tenant: Type.Optional(TENANT_ID) }),
        response: { 200: Type.Object({ items: Type.Array(KeyView) }) },
      },
    },
    async (request) => {
      const tenant = actingTenant(request, request.query.tenant);
      return { items: (await control.apiKeys.list({ tenantId: tenant })).map(keyView) };
    },
  );

  api.delete(
    '/keys/:id',
    {
      config: { access: 'admin', action: 'keys.revoke' },
      schema: {
        summary: 'Revoke an API key (refused from the next request on)',
        tags: ['admin'],
        params: IdParams,
        response: { 200: KeyView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const record = await control.apiKeys.get(request.params.id);
      if (!record || (record.tenantId !== principal.tenantId && !isServerAdmin(principal))) {
        throw notFound('key', request.params.id);
      }
      await control.apiKeys.revoke(record.id);
      const revoked = await control.apiKeys.get(record.id);
      return keyView(revoked ?? record);
    },
  );

  api.post(
    '/tenants',
    {
      config: { access: 'admin', serverAdmin: true, action: 'tenants.create' },
      schema: {
        summary: 'Create a tenant',
        tags: ['admin'],
        body: Body({ id: TENANT_ID, name: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 201: TenantView },
      },
    },
    async (request, reply) => {
      const tenant = await control.tenants.create({
        id: tenantId(request.body.id),
        name: request.body.name,
      });
      return reply.status(201).send(tenantView(tenant));
    },
  );

  api.get(
    '/tenants',
    {
      config: { access: 'admin', serverAdmin: true },
      schema: {
        summary: 'List tenants',
        tags: ['admin'],
        response: { 200: Type.Object({ items: Type.Array(TenantView) }) },
      },
    },
    async () => ({ items: (await control.tenants.list()).map(tenantView) }),
  );

  api.get(
    '/audit',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Read the audit log, oldest first (a tenant admin sees its tenant only)',
        tags: ['admin'],
        querystring: Type.Object({
          tenant: Type.Optional(TENANT_ID),
          after: Type.Optional(Type.Integer({ minimum: 0 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(AuditEntryView),
            nextAfter: Type.Union([Type.Integer(), Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const named = request.query.tenant;
      const tenant = isServerAdmin(principal) ? named : actingTenant(request, named);
      await ctx.audit.flush();
      const limit = request.query.limit ?? 100;
      const entries = await control.audit.list({
        ...(tenant === undefined ? {} : { tenantId: tenant }),
        afterSeq: request.query.after ?? 0,
        limit,
      });
      const last = entries.at(-1);
      return {
        items: entries.map(auditView),
        nextAfter: entries.length === limit && last ? last.seq : null,
      };
    },
  );

  api.get(
    '/audit/verify',
    {
      config: { access: 'admin', serverAdmin: true },
      schema: {
        summary:
          "Verify the audit log's hash chain; names the first edited, deleted, inserted or reordered entry",
        tags: ['admin'],
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            entries: Type.Integer(),
            firstBad: Type.Optional(
              Type.Object({ seq: Type.Integer(), problem: Type.String(), message: Type.String() }),
            ),
          }),
        },
      },
    },
    async () => {
      await ctx.audit.flush();
      return control.audit.verify();
    },
  );
};
