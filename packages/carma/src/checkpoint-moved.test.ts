import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FragmentStore, OpenHooks, StoreMeta } from './fragment-store.js';
import { defaultStore } from './load.js';
import { openMemory } from './memory.js';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-checkpoint-moved-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const generations = (dir: string) =>
  readdirSync(dir)
    .map((name) => /^index-(\d+)\.bin$/.exec(name)?.[1])
    .filter((g) => g !== undefined)
    .map(Number);

/**
 * `store`, whose first open names checkpoint `generation` instead of the one it holds: what
 * an open sees when another process writes the next checkpoint (and removes the files of
 * this one) between its read of the meta and its reads of the files.
 */
function namingGeneration(store: FragmentStore, generation: number): FragmentStore {
  let first = true;
  const stale = (meta: StoreMeta | undefined) =>
    meta?.index ? { ...meta, index: { ...meta.index, generation } } : meta;
  return new Proxy(store, {
    get(target, property) {
      if (property === 'open' && first) {
        first = false;
        return async (hooks: OpenHooks = {}) => {
          const stored = await target.open({ meta: (meta) => hooks.meta?.(stale(meta)) });
          return { ...stored, meta: stale(stored.meta) };
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe.each(testImplementations())('an open whose checkpoint is replaced (%s)', (impl) => {
  /** A memory with two checkpoints written, the first one's files removed by the second. */
  async function twoCheckpoints() {
    const dir = join(root, `m${n++}`);
    const memory = await openMemory({ dir, native: impl, dimension: 64, replayLimit: 0 });
    await memory.addMany(Array.from({ length: 20 }, (_, i) => `first note ${i}: markfirst${i}`));
    await memory.flush();
    const [first] = generations(dir);
    await memory.add('a note of the second checkpoint: marksecond');
    await memory.flush();
    await memory.close();
    expect(generations(dir)).toEqual([(first as number) + 1]);
    return { dir, first: first as number };
  }

  it('reads the newer checkpoint instead of rebuilding its indexes', async () => {
    const { dir, first } = await twoCheckpoints();
    const warnings: string[] = [];
    const memory = await openMemory({
      dir,
      native: impl,
      dimension: 64,
      store: namingGeneration(defaultStore({ dir, native: impl }), first),
      logger: { warn: (_details, message) => warnings.push(message) },
    });
    expect(memory.indexOrigin).toBe('file');
    expect(memory.allLoaded).toBe(false);
    expect(warnings).toEqual([]);
    expect(memory.size).toBe(21);
    const [hit] = await memory.search('marksecond', { k: 1 });
    expect(hit?.fragment.text).toContain('marksecond');
    await memory.close();
  });

  it('rebuilds, saying so, when the named index file was removed by something else', async () => {
    const { dir, first } = await twoCheckpoints();
    const named = join(dir, `index-${first + 1}.bin`);
    rmSync(named);
    const warnings: Array<{ file?: unknown; message: string }> = [];
    const memory = await openMemory({
      dir,
      native: impl,
      dimension: 64,
      logger: { warn: (details, message) => warnings.push({ file: details.file, message }) },
    });
    expect(memory.indexOrigin).toBe('store');
    expect(warnings).toEqual([
      {
        file: named,
        message: 'the index file the store names is missing: rebuilt from the database',
      },
    ]);
    const [hit] = await memory.search('markfirst7', { k: 1 });
    expect(hit?.fragment.text).toContain('markfirst7');
    await memory.close();
    expect(existsSync(dir)).toBe(true);
  });
});
