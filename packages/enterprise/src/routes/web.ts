import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteModule } from '../context.js';

/**
 * The web app (@aios/web) at `/`: static files only, public (the app has no privileges of
 * its own; every API call it makes carries the key the person entered). Hashed assets are
 * cached for a year; index.html is revalidated, so a new build is picked up at once.
 */

/** Only the server's own files; no inline script or style element, no frames, no plugins. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Paths of the API and the probes: never answered with the app. */
const API_PATH = /^\/(?:v1|mcp|openapi\.json|livez|readyz|health|metrics)(?:[/?]|$)/;

/** The built app of the installed @aios/web (its dist/), or null when it is not installed. */
export function webRoot(): string | null {
  try {
    const manifest = createRequire(import.meta.url).resolve('@aios/web/package.json');
    const root = join(dirname(manifest), 'dist');
    return existsSync(join(root, 'index.html')) ? root : null;
  } catch {
    return null;
  }
}

/** A browser navigating asks for HTML; an API client asking for JSON gets the API's 404. */
function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

function send(reply: FastifyReply, root: string, file: string, cacheControl: string) {
  void reply.headers(SECURITY_HEADERS).header('cache-control', cacheControl);
  return reply.sendFile(file, root, { cacheControl: false });
}

/** Serves the app of `root` (a built @aios/web): `/`, `/assets/*`, and the app's pages. */
export function webAppRoutes(root: string): RouteModule {
  // Files at the top of dist/ other than index.html (favicon...), found once.
  const topFiles = new Set(
    readdirSync(root).filter(
      (name) => name !== 'index.html' && statSync(join(root, name)).isFile(),
    ),
  );
  const config = { access: 'public' as const };
  const schema = { hide: true };
  return (api) => {
    void api.register(fastifyStatic, { root, serve: false, decorateReply: true });
    api.get('/', { config, schema }, (_request, reply) =>
      send(reply, root, 'index.html', REVALIDATE),
    );
    api.get('/assets/*', { config, schema }, (request, reply) => {
      const file = (request.params as { '*': string })['*'];
      return send(reply, root, `assets/${file}`, IMMUTABLE);
    });
    // Any other GET: a top-level file, or a page of the app (history routing) for a browser.
    api.get('/*', { config, schema }, (request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      if (API_PATH.test(path)) return reply.callNotFound();
      const name = path.slice(1);
      if (topFiles.has(name)) return send(reply, root, name, REVALIDATE);
      if (!wantsHtml(request)) return reply.callNotFound();
      return send(reply, root, 'index.html', REVALIDATE);
    });
  };
}

/** The web app when @aios/web is installed (and built); no routes otherwise. */
export const webRoutes: RouteModule = (api, ctx) => {
  const root = webRoot();
  if (root === null) {
    api.log.info('@aios/web is not installed: no web app at /');
    return;
  }
  webAppRoutes(root)(api, ctx);
};
