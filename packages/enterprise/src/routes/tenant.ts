import type { Aios } from '@aios/core';
import type { FastifyRequest } from 'fastify';
import { principalOf } from '../auth/authenticate.js';
import type { ServerContext } from '../context.js';

/** The system of the calling key's tenant: every data route works on this one only. */
export function systemOf(ctx: ServerContext, request: FastifyRequest): Promise<Aios> {
  return ctx.tenants.system(principalOf(request).tenantId);
}

/** The calling key's tenant id. */
export function tenantOf(request: FastifyRequest): string {
  return principalOf(request).tenantId;
}
