import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { isServerAdmin } from '../auth/authenticate.js';

/** What stands for the server's data folder in what others are told. */
export const HOME_MARK = '<home>';

/**
 * Messages of the cores may name files on the server's disk (a tenant's backup repository,
 * a lock, the default tenant's home): only the server admin is told where. Anyone else
 * reads the server's data folder as `<home>` in an error answer.
 */
export function installPathRedaction(app: FastifyInstance, home: string): void {
  // As the folder is written inside a JSON string.
  const written = JSON.stringify(resolve(home)).slice(1, -1);
  app.addHook('onSend', (request, reply, payload, done) => {
    const keep =
      reply.statusCode < 400 ||
      typeof payload !== 'string' ||
      !payload.includes(written) ||
      (request.principal !== undefined && isServerAdmin(request.principal));
    done(null, keep ? payload : payload.split(written).join(HOME_MARK));
  });
}
