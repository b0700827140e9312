import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAfterReady, testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from './memory.js';

const here = dirname(fileURLToPath(import.meta.url));
const writer = join(here, '../test/crash-writer.mjs');
const KILLS = 8;
const BATCH = 20;

let root: string;
beforeAll(() => {
  if (!existsSync(join(here, '../dist/index.js'))) {
    throw new Error('crash.test.ts runs the built package: run `pnpm --filter @aios/carma build`');
  }
  root = mkdtempSync(join(tmpdir(), 'carma-crash-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const impls = testImplementations();

describe.each(impls)('a memory killed while adding (%s)', (impl) => {
  it(`loses no acknowledged fragment and never half a batch, over ${KILLS} kills`, async () => {
    const dir = join(root, impl);
    const acked: number[] = [];
    let committedUnacked = 0;
    for (let k = 0; k < KILLS; k++) {
      const base = k * 100_000;
      const delayMs = 20 + Math.floor(Math.random() * 250);
      const run = await killAfterReady(writer, [dir, impl, String(base)], delayMs);
      acked.push(...run);
      // Reopen with each implementation in turn: either must read what the other left.
      const reader = impls[k % impls.length];
      const memory = await openMemory({ dir, native: reader, dimension: 64 });
      try {
        // An index file the killed writer was writing is not left behind.
        expect(readdirSync(dir).filter((n) => /\.tmp-\d+$/.test(n))).toEqual([]);
        const batches = new Map<number, number>();
        for (const f of await memory.list()) {
          const b = f.metadata.batch as number;
          batches.set(b, (batches.get(b) ?? 0) + 1);
        }
        for (const b of run) expect(batches.get(b), `kill ${k}: batch ${b}`).toBe(BATCH);
        // The batch in flight at the kill is all there or not at all.
        const inFlight = (run.at(-1) ?? base - 1) + 1;
        expect([undefined, BATCH]).toContain(batches.get(inFlight));
        if (batches.get(inFlight) === BATCH) committedUnacked++;
        // Nothing acknowledged by an earlier run was lost since: the count is exact.
        expect(memory.size).toBe(BATCH * (acked.length + committedUnacked));
        // The vector index agrees with the store (rebuilt or brought up to date on open):
        // a vector search within the last batch finds each of its fragments. (Not "its own
        // text first": a query's hashed vector can be nearer another item's.)
        const last = run.at(-1);
        if (last !== undefined) {
          const text = `batch ${last} item 5: reading ${(last * 31 + 35) % 997} on sensor 5`;
          const hits = await memory.search(text, {
            k: BATCH,
            mode: 'vector',
            filter: { batch: last },
          });
          expect(hits.map((h) => h.fragment.text).sort()).toEqual(
            (await memory.list({ filter: { batch: last } })).map((f) => f.text).sort(),
          );
          expect(hits).toHaveLength(BATCH);
        }
      } finally {
        await memory.close();
      }
    }
    expect(acked.length).toBeGreaterThan(0);
  }, 120_000);
});
