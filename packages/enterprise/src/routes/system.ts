import { HEALTH_CONTENT_TYPE, type HealthReport as Report } from '@aios/support';
import { type Static, Type } from 'typebox';
import packageJson from '../../package.json' with { type: 'json' };
import { isServerAdmin, principalOf } from '../auth/authenticate.js';
import { isScope } from '../auth/keys.js';
import type { RouteModule } from '../context.js';
import { apiError } from '../http/errors.js';
import { JsonObject, ScopeSchema } from '../schemas/common.js';
import { systemOf } from './tenant.js';

const HealthReport = Type.Object(
  {
    status: Type.String(),
    version: Type.String(),
    releaseId: Type.String(),
    serviceId: Type.String(),
    description: Type.String(),
    output: Type.Optional(Type.String()),
    checks: Type.Record(Type.String(), Type.Array(JsonObject)),
    probe: Type.String(),
    time: Type.String(),
    durationMs: Type.Number(),
  },
  { additionalProperties: true },
);

/**
 * The health report as a key other than the server admin's sees it: the overall status
 * only. The checks are the server's, not the tenant's: their outputs name paths on the
 * server's disk and the state of the default tenant (its last backup), and `output`
 * repeats those of the checks that do not pass.
 */
function withoutDetails(report: Report): Report {
  const { output: _output, checks: _checks, ...rest } = report;
  return { ...rest, checks: {} };
}

/** Probes and the server's own view: liveness, readiness, health, metrics. */
export const probeRoutes: RouteModule = (api, ctx) => {
  const root = ctx.tenants.root;
  api.get(
    '/livez',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['system'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  api.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        summary:
          'Readiness: the server takes requests (503 while stopping or when a readiness check fails)',
        tags: ['system'],
        response: { 200: Type.Object({ status: Type.String() }) },
      },
    },
    async () => {
      if (ctx.stopping) throw apiError('SHUTTING_DOWN', 'the server is shutting down');
      const report = await root.health.readiness({ maxAgeMs: 5_000 });
      if (report.status === 'fail') {
        // Anyone may ask: the failing checks are named, never what they saw (a database
        // URL, a path, the load), which `/health` shows the server admin.
        const failing = Object.entries(report.checks)
          .filter(([, results]) => results.some((r) => r.status === 'fail'))
          .map(([name]) => name);
        throw apiError(
          'NOT_READY',
          `not ready: ${failing.length > 0 ? failing.join(', ') : 'a readiness check'} failing (the server admin sees why in /health)`,
          { failing },
        );
      }
      return { status: report.status };
    },
  );
  api.get(
    '/health',
    {
      config: { access: 'memory:read' },
      schema: {
        summary:
          'Every health check (application/health+json; 503 when one fails). Only the server admin sees the checks; other keys get the overall status',
        tags: ['system'],
        // A 503 is a failing report, or (like any route's) an error before the handler
        // ran: the key cannot be checked while the store holding it is unreachable.
        response: { 200: HealthReport, 503: Type.Union([HealthReport, Type.Ref('Error')]) },
      },
    },
    async (request, reply) => {
      const report = await root.health.readiness({ maxAgeMs: 2_000 });
      return reply
        .status(report.status === 'fail' ? 503 : 200)
        .type(HEALTH_CONTENT_TYPE)
        .send(
          (isServerAdmin(principalOf(request))
            ? report
            : withoutDetails(report)) as unknown as Static<typeof HealthReport>,
        );
    },
  );
  api.get(
    '/metrics',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['system'],
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => {
      const text = await root.metrics.render();
      return reply.type(root.metrics.contentType).send(text);
    },
  );
};

/** Status and config of the calling tenant's system. */
export const systemRoutes: RouteModule = (api, ctx) => {
  api.get(
    '/whoami',
    {
      // Any valid key may ask: a client learns what it may do before trying it.
      config: { access: 'authenticated' },
      schema: {
        summary:
          'The calling key: its id, tenant and scopes (`admin` holds every scope), and whether it administers the server',
        tags: ['system'],
        response: {
          200: Type.Object({
            keyId: Type.String(),
            tenant: Type.String(),
            scopes: Type.Array(ScopeSchema),
            serverAdmin: Type.Boolean(),
          }),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return {
        keyId: principal.keyId,
        tenant: principal.tenantId,
        // Every stored scope is one of these: keys are made with checked scopes.
        scopes: principal.scopes.filter(isScope),
        serverAdmin: isServerAdmin(principal),
      };
    },
  );
  api.get(
    '/status',
    {
      config: { access: 'memory:read' },
      schema: {
        summary: "Versions, implementations, and the sizes of this tenant's memory",
        tags: ['system'],
        response: {
          200: Type.Object({
            version: Type.String(),
            startedAt: Type.String(),
            tenant: Type.String(),
            implementations: Type.Array(JsonObject),
            memory: JsonObject,
            jobsRunning: Type.Integer(),
            tokenBudgetPerDay: Type.Union([Type.Integer(), Type.Null()]),
            rateLimits: Type.Object({
              scope: Type.Union([Type.Literal('shared'), Type.Literal('instance')]),
              redis: Type.Union([Type.String(), Type.Null()]),
              reachable: Type.Union([Type.Boolean(), Type.Null()]),
              requestsPerMinute: Type.Integer(),
            }),
          }),
        },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      return {
        version: packageJson.version,
        startedAt: ctx.startedAt.toISOString(),
        tenant: request.principal?.tenantId ?? '',
        implementations: system.reports().map((r) => ({ ...r }) as Record<string, unknown>),
        memory: { ...system.memory.stats() } as Record<string, unknown>,
        jobsRunning: ctx.jobs.running(),
        tokenBudgetPerDay: ctx.budget.limit ?? null,
        rateLimits: ctx.limits.status(),
      };
    },
  );
  api.get(
    '/config',
    {
      config: { access: 'admin', serverAdmin: true },
      schema: {
        summary: "The server's effective configuration (secrets masked)",
        tags: ['system'],
        response: { 200: JsonObject },
      },
    },
    async () => maskSecrets(ctx.config) as Record<string, unknown>,
  );
};

/** Copies `value` with every `apiKey`/secret-looking field replaced by a mask. */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [
        key,
        /key|secret|password|token$/i.test(key) && typeof v === 'string'
          ? '********'
          : maskSecrets(v),
      ]),
    );
  }
  return value;
}
