import { defineConfig } from 'vite';

/**
 * The web app is static files: `vite build` writes dist/ (index.html and hashed assets
 * under assets/), which `aios serve` serves at /. Everything is bundled: no CDN, no
 * network but the server's own API. `AIOS_API_URL` points `vite dev` at a running server.
 */
const api = process.env.AIOS_API_URL ?? 'http://127.0.0.1:7711';
const proxied = ['/v1', '/health', '/metrics', '/livez', '/readyz', '/openapi.json'];

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Inline nothing: the Content-Security-Policy allows the server's own files only.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: {
    host: '127.0.0.1',
    proxy: Object.fromEntries(proxied.map((path) => [path, { target: api }])),
  },
});
