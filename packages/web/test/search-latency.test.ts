import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchBrowser, RESULTS } from './support/browser.js';
import { seededHome } from './support/seed.js';
import { type LiveServer, startLiveServer } from './support/serve.js';
import { signIn } from './support/session.js';

/**
 * "Results shown after typing stops" on the Memories page, in the browser: from the last
 * keystroke's input event to the render of the answer (the status line and the list are
 * one render), both timed inside the page. `AIOS_WEB_BENCH_FRAGMENTS=100000` measures the
 * issue's 100k-fragment home (BENCHMARKS.md); the test run uses a smaller home.
 */
const FRAGMENTS = Number(process.env.AIOS_WEB_BENCH_FRAGMENTS ?? 1500);
/** The goal: under 300 ms after typing stops (the debounce included). */
const GOAL_MS = 300;
const QUERIES = [
  'lantern near the harbour',
  'falcon orchard',
  'glacier logged on day 42',
  'copper meadow',
  'violet canyon code',
  'ember willow',
  'thistle beacon day 7',
  'river stone',
  'orchard near the glacier',
];

/** Types `query` as a person does, and returns ms from its last input event to the results. */
async function timeQuery(page: Page, query: string): Promise<number> {
  const input = page.getByLabel('Search memories');
  await input.fill('');
  await page.evaluate((q) => {
    const w = window as unknown as { __lastInput?: number; __shown?: Promise<number> };
    const field = document.getElementById('memory-query') as HTMLInputElement;
    field.addEventListener('input', () => {
      w.__lastInput = performance.now();
    });
    w.__shown = new Promise((resolve) => {
      // Looked up at each change: the list and the search results each render their own
      // count, so the element in the page now may not be the one that shows the answer.
      const check = () => {
        const status = document.querySelector<HTMLElement>('[data-testid="result-count"]');
        if (status?.dataset.loading === 'false' && status.textContent?.includes(`for “${q}”`)) {
          observer.disconnect();
          resolve(performance.now());
        }
      };
      const observer = new MutationObserver(check);
      observer.observe(document.body, {
        attributes: true,
        childList: true,
        subtree: true,
        characterData: true,
      });
    });
  }, query);
  await input.pressSequentially(query, { delay: 15 });
  return page.evaluate(async () => {
    const w = window as unknown as { __lastInput: number; __shown: Promise<number> };
    const shown = await w.__shown;
    return shown - w.__lastInput;
  });
}

describe.skipIf(!chromiumPath)(`Memories search latency on ${FRAGMENTS} fragments`, () => {
  let server: LiveServer;
  let browser: Browser;
  let home: string;
  beforeAll(async () => {
    [home, browser] = await Promise.all([seededHome(FRAGMENTS), launchBrowser()]);
    server = await startLiveServer({ home });
  }, 900_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it(`shows results under ${GOAL_MS} ms after typing stops (median)`, async () => {
    const { page } = await signIn(browser, server.url, server.adminKey, '/memories');
    await page.getByRole('list', { name: 'Fragments' }).locator('li').first().waitFor();
    await timeQuery(page, 'warm up the server'); // the first search loads what searches use
    const times: number[] = [];
    for (const query of QUERIES) times.push(await timeQuery(page, query));
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] as number;
    const worst = sorted.at(-1) as number;
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(
      join(RESULTS, 'search-latency.json'),
      `${JSON.stringify({ fragments: FRAGMENTS, queries: QUERIES.length, median, worst, times }, null, 2)}\n`,
    );
    process.stdout.write(
      `search latency on ${FRAGMENTS} fragments: median ${median.toFixed(0)} ms, worst ${worst.toFixed(0)} ms\n`,
    );
    expect(median).toBeLessThan(GOAL_MS);
  });
});
