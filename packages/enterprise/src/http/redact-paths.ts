import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { isServerAdmin } from '../auth/authenticate.js';
import type { Principal } from '../auth/principal.js';

/** What stands for the server's data folder in what others are told. */
export const HOME_MARK = '<home>';

/**
 * Messages of the cores may name files on the server's disk (a tenant's backup repository,
 * a lock, the default tenant's home): only the server admin is told where. Anyone else
 * reads the server's data folder as `<home>` in an error answer.
 */
export function installPathRedaction(app: FastifyInstance, home: string): void {
  const written = homeInJson(home);
  app.addHook('onSend', (request, reply, payload, done) => {
    const keep =
      reply.statusCode < 400 ||
      typeof payload !== 'string' ||
      !payload.includes(written) ||
      (request.principal !== undefined && isServerAdmin(request.principal));
    done(null, keep ? payload : payload.split(written).join(HOME_MARK));
  });
}

/** The server's data folder as it is written inside a JSON string. */
function homeInJson(home: string): string {
  return JSON.stringify(resolve(home)).slice(1, -1);
}

/**
 * `value` as `principal` may see it: a job's error or result (a failed backup's message, a
 * restore's unreadable files) names files on the server's disk, which only the server
 * admin is told; anyone else reads the server's data folder as `<home>` there too.
 */
export function shownTo<T>(principal: Principal, home: string, value: T): T {
  if (isServerAdmin(principal)) return value;
  const text = JSON.stringify(value);
  const written = homeInJson(home);
  return text.includes(written) ? (JSON.parse(text.split(written).join(HOME_MARK)) as T) : value;
}
