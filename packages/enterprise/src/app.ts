import { randomUUID } from 'node:crypto';
import type { Aios } from '@aios/core';
import { createLogger } from '@aios/utils';
import { AjvCompiler, type ValidatorFactory } from '@fastify/ajv-compiler';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import packageJson from '../package.json' with { type: 'json' };
import { ensureDefaultTenant } from './access/keys.js';
import { installAuditHook } from './audit/hook.js';
import { AuditWriter } from './audit/writer.js';
import { installAuthentication } from './auth/authenticate.js';
import type { Api, ServerContext } from './context.js';
import { answerClientError } from './http/client-errors.js';
import { answerFrameworkError, apiError, installErrorHandlers } from './http/errors.js';
import { installJsonBodies } from './http/json-body.js';
import { installPathRedaction } from './http/redact-paths.js';
import { JobJournal } from './jobs/journal.js';
import { JobRegistry } from './jobs/registry.js';
import { RequestLimits } from './limits/request-limits.js';
import { TokenBudget } from './limits/token-budget.js';
import { ROOT_MODULES, ROUTE_MODULES } from './routes/index.js';
import { ErrorSchema } from './schemas/common.js';
import { TenantRegistry } from './tenants/registry.js';

export interface ServerOptions {
  /** The server's own system (the default tenant), from `createAios`. */
  system: Aios;
  /** Fastify's logger option (default: pino at the config's log level). */
  logger?: FastifyServerOptions['logger'];
  /** Tenants' systems never call a language model. */
  offline?: boolean;
}

/** One route of the table, as the authorization matrix and the docs see it. */
export interface RouteInfo {
  method: string;
  url: string;
  access: string;
  serverAdmin: boolean;
}

export interface AiosServer {
  readonly app: Api;
  /** Every route registered, with its access. */
  readonly routes: readonly RouteInfo[];
  readonly context: ServerContext;
  /** Stops taking jobs, finishes (bounded) what runs, closes tenants' systems (not `system`). */
  close(): Promise<void>;
}

/** Unknown fields are refused (schemas say additionalProperties: false), not dropped. */
const AJV_OPTIONS = { removeAdditional: false, useDefaults: true, allErrors: false } as const;

/**
 * Validators of request parts. Query strings, path parameters and headers are strings on
 * the wire, so they are coerced to the schema's types (`?limit=10`; one value where an
 * array is expected, as a repeated parameter gives, is an array of one). A JSON body is
 * typed already: a wrong type there is refused, not converted (`{"text": 123}` is not the
 * text "123", `[1,2,3]` not three texts).
 */
function validatorFactory(): ValidatorFactory {
  const strict = AjvCompiler();
  const coercing = AjvCompiler();
  return (externalSchemas) => {
    const forBody = strict(externalSchemas, {
      customOptions: { ...AJV_OPTIONS, coerceTypes: false },
    });
    const forOthers = coercing(externalSchemas, {
      customOptions: { ...AJV_OPTIONS, coerceTypes: 'array' },
    });
    return (route) => (route.httpPart === 'body' ? forBody : forOthers)(route);
  };
}

/** Incoming request ids are kept when they are short and plain; others are replaced. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The HTTP API: every route under `/v1` with a request and response schema, one error
 * shape, authentication and scopes, per-key rate limits, audit entries, and an OpenAPI 3.1
 * document generated from the route schemas at `/openapi.json`.
 */
export async function buildServer(options: ServerOptions): Promise<AiosServer> {
  const { system } = options;
  const config = system.config;
  const server = config.server;
  const app = Fastify({
    // Log lines go to stderr, as every core's do (`createLogger`): stdout is the command's.
    ...(options.logger === undefined
      ? { loggerInstance: createLogger('aios-serve', { level: config.logLevel }) }
      : { logger: options.logger }),
    bodyLimit: server.bodyLimitBytes,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    schemaController: { compilersFactory: { buildValidator: validatorFactory() } },
    routerOptions: { maxParamLength: 500 },
    // Errors of the router itself (a URL that does not decode) in the one shape, or in
    // OpenAI's under the paths of that API.
    frameworkErrors: (error, request, reply) =>
      answerFrameworkError(error, request as FastifyRequest, reply as FastifyReply),
    // Requests Node's parser refuses (headers over the limit...) in the one shape too.
    clientErrorHandler: answerClientError,
    forceCloseConnections: 'idle',
    // A stopping server answers 503 in the one shape (below), not Fastify's own.
    return503OnClosing: false,
  }).withTypeProvider() as unknown as Api;

  const tenants = new TenantRegistry(system, options.offline ? { offline: true } : {});
  await ensureDefaultTenant(tenants.control);
  const audit = new AuditWriter(tenants.control, app.log);
  const jobs = new JobRegistry(new JobJournal(config.home, app.log));
  // Per-key request limits: shared through Redis when `redis.url` is set.
  const limits = new RequestLimits(config, app.log);
  // The health monitor is made now, so that it times the event loop from the start.
  const { health } = system;
  const redisCheck = limits.healthCheck();
  const unregisterRedisCheck = redisCheck ? health.register(redisCheck) : undefined;
  const context: ServerContext = {
    config,
    tenants,
    jobs,
    audit,
    budget: new TokenBudget(server.tokenBudgetPerDay),
    limits,
    startedAt: new Date(),
    stopping: false,
  };

  app.addSchema(ErrorSchema);
  installErrorHandlers(app);
  installJsonBodies(app);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (context.stopping && request.routeOptions.url !== '/livez') {
      void reply.header('connection', 'close');
      throw apiError('SHUTTING_DOWN', 'the server is shutting down', { retryAfterSeconds: 5 });
    }
  });
  // Every route states its access, and documents the error shape for every failure.
  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare its access`);
    }
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({
        method,
        url: route.url,
        access,
        serverAdmin: route.config?.serverAdmin === true,
      });
    }
    route.schema ??= {};
    const schema = route.schema;
    schema.response ??= {};
    const response = schema.response as Record<string, unknown>;
    response['4XX'] ??= { $ref: 'Error#' };
    response['5XX'] ??= { $ref: 'Error#' };
    if (access !== 'public') (schema as { security?: unknown }).security = [{ apiKey: [] }];
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'AIOS API',
        version: packageJson.version,
        description:
          'The HTTP API of `aios serve`: memory (CARMA), answers (Luna), conversations, ingest, backups, jobs, keys, tenants, audit and compliance.',
      },
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key: aios_sk_<id>_<secret>',
          },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
  });
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    max: server.requestsPerMinute,
    timeWindow: 60_000,
    ...(limits.store ? { store: limits.store } : {}),
    enableDraftSpec: true,
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    allowList: (request) => request.routeOptions.config.access === 'public',
    errorResponseBuilder: (_request, limit) =>
      apiError('RATE_LIMITED', `at most ${limit.max} requests per minute for this key`, {
        limit: limit.max,
        retryAfterSeconds: Math.max(1, Math.ceil(limit.ttl / 1000)),
      }),
  });
  await app.register(multipart, {
    limits: { fileSize: server.uploadLimitBytes, files: 100, fields: 20, parts: 120 },
  });
  installAuthentication(app, { control: tenants.control, audit });
  installPathRedaction(app, config.home);
  installAuditHook(app, audit);
  // Requests by route and outcome, and their durations, in the server's metrics.
  app.addHook('onResponse', async (request, reply) => {
    const url = request.routeOptions.url;
    if (!url) return;
    system.metrics.recordRequest({
      core: 'enterprise',
      operation: request.routeOptions.config.action ?? `${request.method} ${url}`,
      outcome: reply.statusCode < 400 ? 'ok' : reply.statusCode < 500 ? 'refused' : 'error',
      seconds: reply.elapsedTime / 1000,
    });
  });

  for (const register of ROOT_MODULES) register(app, context);
  await app.register(
    async (v1) => {
      for (const register of ROUTE_MODULES) register(v1 as Api, context);
    },
    { prefix: '/v1' },
  );
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  await app.ready();
  await limits.connected();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      context.stopping = true;
      await jobs.drain(server.shutdownTimeoutMs);
      // Running requests get the shutdown time to finish. A connection that never sent a
      // request (a browser's preconnect, a client's spare socket) is not idle to Node and
      // would hold close() forever: after that time every connection is closed.
      const force = setTimeout(() => app.server.closeAllConnections(), server.shutdownTimeoutMs);
      force.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
      await audit.flush();
      unregisterRedisCheck?.();
      await limits.close();
      await tenants.closeAll();
    })();
    return closing;
  };
  return { app, routes, context, close };
}
