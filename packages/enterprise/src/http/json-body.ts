import type { FastifyInstance } from 'fastify';

/**
 * JSON bodies as Fastify parses them (prototype poisoning refused), except that a JSON
 * content type with nothing sent is no body rather than broken JSON: many clients set
 * `content-type: application/json` on every request, a `DELETE` or a `GET` included. A
 * route that needs a body still refuses its absence, by its schema.
 */
export function installJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') done(null, undefined);
    else parse(request, text, done);
  });
}
