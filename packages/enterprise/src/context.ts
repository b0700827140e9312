import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AiosConfig } from '@aios/core';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { AuditWriter } from './audit/writer.js';
import type { JobRegistry } from './jobs/registry.js';
import type { RequestLimits } from './limits/request-limits.js';
import type { TokenBudget } from './limits/token-budget.js';
import type { TenantRegistry } from './tenants/registry.js';

/** The Fastify instance routes are declared on (TypeBox schemas give the handler types). */
export type Api = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What every route module gets: the tenants' systems and the server's shared parts. */
export interface ServerContext {
  readonly config: AiosConfig;
  readonly tenants: TenantRegistry;
  readonly jobs: JobRegistry;
  readonly audit: AuditWriter;
  readonly budget: TokenBudget;
  /** The per-key request limit: where it is counted (`/v1/status`). */
  readonly limits: RequestLimits;
  readonly startedAt: Date;
  /** Whether the server is stopping (readiness then fails). */
  stopping: boolean;
}

/** A group of routes; registered under `/v1` unless it says otherwise. */
export type RouteModule = (api: Api, ctx: ServerContext) => void;
