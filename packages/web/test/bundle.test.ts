import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
/** The budget for the JavaScript a first visit loads. */
const INITIAL_JS_BUDGET = 250 * 1024;

/** The scripts index.html loads at once: its module entries and their modulepreloads. */
export function initialScripts(html: string): string[] {
  const found = new Set<string>();
  for (const match of html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)) found.add(match[1] as string);
  for (const match of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) {
    found.add(match[1] as string);
  }
  return [...found];
}

export function initialJsGzipBytes(): number {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  return initialScripts(html)
    .map((src) => gzipSync(readFileSync(join(DIST, src))).length)
    .reduce((a, b) => a + b, 0);
}

describe('the built app', () => {
  it('loads at most 250 KB of gzipped JavaScript at first', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    expect(initialScripts(html).length).toBeGreaterThan(0);
    expect(initialJsGzipBytes()).toBeLessThanOrEqual(INITIAL_JS_BUDGET);
  });

  it('loads nothing from another origin (no CDN: it works offline)', () => {
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url, url).toMatch(/^\/(?!\/)/);
    for (const src of initialScripts(html)) {
      const code = readFileSync(join(DIST, src), 'utf8');
      expect(code).not.toMatch(/import\s*\(?\s*["']https?:/);
    }
  });
});
