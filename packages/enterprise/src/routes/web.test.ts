import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { CONTENT_SECURITY_POLICY, webRoot } from './web.js';

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('the web app at /', () => {
  it('is the built @aios/web (a dependency, built before this package)', () => {
    expect(webRoot()).not.toBeNull();
  });
});

describe.each(testImplementations())('the web app at / (%s)', (impl) => {
  let t: TestServer;
  let script: string;
  beforeAll(async () => {
    t = await startTestServer(impl);
    const root = webRoot() as string;
    const js = readdirSync(join(root, 'assets')).find((f) => f.endsWith('.js'));
    script = `/assets/${js}`;
  });
  afterAll(() => t.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    t.server.app.inject({ method: 'GET', url, headers });

  it('serves index.html without a key, revalidated, under a strict CSP', async () => {
    const res = await get('/', HTML);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<div id="app">');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('caches hashed assets for a year', async () => {
    const res = await get(script);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers a page of the app with index.html to a browser (history routing)', async () => {
    const res = await get('/memories', HTML);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<div id="app">');
    const deep = await get('/admin/keys?x=1', HTML);
    expect(deep.statusCode).toBe(200);
  });

  it('keeps the API answers: unknown API paths, assets and non-browser requests are 404 in the one shape', async () => {
    for (const [url, headers] of [
      ['/v1/nothing-here', HTML],
      ['/v1', HTML],
      ['/mcp/x', HTML],
      ['/assets/missing-0000.js', HTML],
      ['/memories', { accept: 'application/json' }],
    ] as const) {
      const res = await get(url, headers);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe('NOT_FOUND');
    }
    expect((await get('/livez')).json()).toEqual({ status: 'ok' });
  });

  it('never serves a file outside the app', async () => {
    for (const url of [
      '/assets/../../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/package.json',
    ]) {
      const res = await get(url, HTML);
      // Refused, or (a URL normalised to a page path) the app's index.html: never the file.
      expect(res.body, url).not.toContain('"name": "@aios/web"');
      if (res.statusCode === 200) expect(res.body, url).toContain('<div id="app">');
      else expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
    }
  });

  it("answers a file server's refusal (a NUL in the path) as a 4xx in the one shape", async () => {
    const res = await get('/assets/x%00');
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'INVALID_REQUEST', details: {} });
  });

  it('keeps the web routes out of the OpenAPI document', async () => {
    const doc = (await get('/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).some((p) => p === '/' || p.startsWith('/assets'))).toBe(false);
  });
});
