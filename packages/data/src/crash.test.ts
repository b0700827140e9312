import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAfterReady, testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataStore } from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
const writer = join(here, '../test/crash-writer.mjs');
const KILLS = 10;

let dir: string;
beforeAll(() => {
  if (!existsSync(join(here, '../dist/index.js'))) {
    throw new Error('crash.test.ts runs the built package: run `pnpm --filter @aios/data build`');
  }
  dir = mkdtempSync(join(tmpdir(), 'aios-data-crash-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const impls = testImplementations();

describe.each(impls)('a writer killed mid-batch (%s)', (impl) => {
  it(`loses no acknowledged write and never half a batch, over ${KILLS} kills`, async () => {
    const path = join(dir, `${impl}.db`);
    const allAcked: number[] = [];
    let committedUnacked = 0;
    for (let k = 0; k < KILLS; k++) {
      const base = k * 100_000;
      const delayMs = 5 + Math.floor(Math.random() * 120);
      const acked = await killAfterReady(writer, [path, impl, String(base)], delayMs);
      allAcked.push(...acked);
      // Recover with each implementation in turn: either must read what the other left.
      const reader = impls[k % impls.length];
      const store = await openDataStore({ path, native: reader });
      try {
        expect(await store.integrityCheck()).toBe('ok');
        // This run's acknowledged batches, each whole.
        const ids = acked.flatMap((batch) =>
          Array.from({ length: 50 }, (_, i) => `b${batch}-${i}`),
        );
        expect((await store.fragments.getMany(ids)).length, `kill ${k} after ${delayMs} ms`).toBe(
          ids.length,
        );
        // The batch in flight at the kill is all there or not at all.
        const inFlight = (acked.at(-1) ?? base - 1) + 1;
        const partial = await store.fragments.getMany(
          Array.from({ length: 50 }, (_, i) => `b${inFlight}-${i}`),
        );
        expect([0, 50]).toContain(partial.length);
        if (partial.length === 50) committedUnacked++;
        // Nothing acknowledged by an earlier run was lost since: the count is exact.
        expect(await store.fragments.count()).toBe(50 * (allAcked.length + committedUnacked));
        const events = await store.events.list({ type: 'batch', limit: 1_000_000 });
        const values = new Set(events.map((e) => e.value));
        for (const batch of acked) expect(values.has(batch)).toBe(true);
      } finally {
        await store.close();
      }
    }
    expect(allAcked.length).toBeGreaterThan(0);
  }, 60_000);
});
