import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DataStore, openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import { CONSOLIDATION_LOCK, type Memory, openMemory } from './index.js';
import { initdb, sharedPostgres } from './test-support/shared-postgres.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A store whose `fragments.latestChange` calls are counted (the per-search check). */
function counted(store: DataStore): { store: DataStore; checks: () => number } {
  let checks = 0;
  const fragments = {
    ...store.fragments,
    latestChange: () => {
      checks++;
      return store.fragments.latestChange();
    },
  };
  return { store: { ...store, fragments }, checks: () => checks };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

describe.skipIf(!initdb)('CARMA on a shared PostgreSQL store', () => {
  const { server, freshUrl, open, home } = sharedPostgres('carma_follow');

  /** The backends on the database of `url` with an AIOS application name, by name. */
  async function aiosBackends(url: string): Promise<string[]> {
    const name = new URL(url).pathname.slice(1);
    const out = await server().sql(
      'postgres',
      `SELECT application_name FROM pg_stat_activity WHERE datname = '${name}' AND application_name LIKE 'aios%' ORDER BY 1`,
    );
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('aios'));
  }

  describe.each(testImplementations())('%s', (native) => {
    it('makes a write through one memory searchable through another by the notices, without a check per search', async () => {
      const url = await freshUrl();
      const a = await openMemory({ native, data: await open(url), dir: home() });
      const b$ = counted(await open(url));
      // No fallback poll in this test: only the notices can bring the writes in.
      const b = await openMemory({ native, data: b$.store, dir: home(), followPollMs: 3_600_000 });
      try {
        await expect.poll(() => b.followStatus().mode).toBe('notices');
        const before = b$.checks();
        const delays: number[] = [];
        for (let i = 0; i < 200; i++) {
          const token = `zq${(i + 1).toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[Number(d)] as string)}${native}`;
          const id = (await a.add(`note ${token} written through the first server`)).fragment.id;
          const acked = performance.now();
          for (;;) {
            const hits = await b.search(token, { k: 3, mode: 'lexical' });
            if (hits.some((h) => h.id === id)) break;
            await new Promise((resolve) => setImmediate(resolve));
          }
          delays.push(performance.now() - acked);
        }
        delays.sort((x, y) => x - y);
        const p50 = percentile(delays, 50);
        const p99 = percentile(delays, 99);
        console.log(
          `propagation through notices (${native}, 200 writes): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${delays.at(-1)?.toFixed(2)} ms`,
        );
        expect(p99).toBeLessThan(2000);
        // Every search relied on the notices: none asked the store for its latest seq.
        expect(b$.checks()).toBe(before);
        expect(b.followStatus().notices).toBeGreaterThan(0);
        expect(b.size).toBe(200);
      } finally {
        await a.close();
        await b.close();
      }
    }, 120_000);

    it('takes in a change whose notice was lost: by the poll, and by the resync after the listener is killed', async () => {
      const url = await freshUrl();
      const database = new URL(url).pathname.slice(1);
      /** Writes through `a` that send no notice at all (the trigger is off meanwhile). */
      const silently = async <T>(write: () => Promise<T>): Promise<T> => {
        await server().sql(
          database,
          'ALTER TABLE fragment_changes DISABLE TRIGGER fragment_changes_notify',
        );
        try {
          return await write();
        } finally {
          await server().sql(
            database,
            'ALTER TABLE fragment_changes ENABLE TRIGGER fragment_changes_notify',
          );
        }
      };
      const a = await openMemory({ native, data: await open(url), dir: home() });
      const b = await openMemory({ native, data: await open(url), followPollMs: 3_600_000 });
      const c = await openMemory({ native, data: await open(url), followPollMs: 50 });
      try {
        await expect
          .poll(() => [b, c].map((m) => m.followStatus().mode))
          .toEqual(['notices', 'notices']);
        // Listeners up, no notice: c's poll finds it; b (no poll) does not know yet.
        const quiet = (await silently(() => a.add('no notice was sent'))).fragment.id;
        await expect.poll(async () => (await c.get(quiet))?.text).toBe('no notice was sent');
        expect(await b.get(quiet)).toBeUndefined();
        // Listeners killed and kept from connecting again, a write without notice
        // meanwhile: b takes it in after its reconnect (the resync), without a search.
        const resyncs = b.followStatus().resyncs;
        const lost = await silently(async () => {
          await server().sql('postgres', `ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
          try {
            await server().sql(
              'postgres',
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'aios-changes' AND datname = '${database}'`,
            );
            await expect.poll(() => b.followStatus().mode).toBe('polling');
            return (await a.add('written while the listener was down')).fragment.id;
          } finally {
            await server().sql('postgres', `ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
          }
        });
        await expect
          .poll(async () => (await b.get(lost))?.text, { timeout: 15_000 })
          .toBe('written while the listener was down');
        expect((await b.get(quiet))?.text).toBe('no notice was sent');
        expect(b.followStatus().resyncs).toBeGreaterThan(resyncs);
        await expect.poll(() => b.followStatus().mode, { timeout: 15_000 }).toBe('notices');
        await expect.poll(async () => (await c.get(lost))?.text, { timeout: 15_000 }).toBeDefined();
        // And the notices work again.
        const next = (await a.add('after the reconnect')).fragment.id;
        await expect.poll(async () => (await b.get(next))?.text).toBe('after the reconnect');
      } finally {
        await a.close();
        await b.close();
        await c.close();
      }
    }, 60_000);

    it('follows again after PostgreSQL restarts, having said once that it could not', async () => {
      const url = await freshUrl();
      const warnings: string[] = [];
      const logger = { warn: (_details: unknown, message: string) => warnings.push(message) };
      const b = await openMemory({ native, data: await open(url), followPollMs: 20, logger });
      try {
        await expect.poll(() => b.followStatus().mode).toBe('notices');
        await server().stop('fast');
        try {
          await expect.poll(() => warnings.length, { timeout: 10_000 }).toBe(1);
          // Polls every 20 ms, all failing: reported once.
          await new Promise((resolve) => setTimeout(resolve, 400));
          expect(warnings).toEqual([
            'following the store failed: tried again at the next notice or poll',
          ]);
          expect(b.followStatus().mode).toBe('polling');
        } finally {
          await server().start();
        }
        const writer = await open(url);
        const a = await openMemory({ native, data: writer });
        try {
          const id = (await a.add('written after the restart')).fragment.id;
          await expect
            .poll(async () => (await b.get(id))?.text, { timeout: 20_000 })
            .toBe('written after the restart');
          await expect.poll(() => b.followStatus().mode, { timeout: 20_000 }).toBe('notices');
        } finally {
          await a.close();
        }
      } finally {
        await b.close();
      }
    }, 90_000);

    it('leaves no listening connection and no timer behind once closed', async () => {
      const url = await freshUrl();
      const data = await openDataStore({ url });
      const memory = await openMemory({ native, data, followPollMs: 20 });
      await expect.poll(() => memory.followStatus().mode).toBe('notices');
      expect(await aiosBackends(url)).toContain('aios-changes');
      await memory.close();
      // The memory's listener is gone with it; the store's own connection stays its caller's.
      await expect.poll(() => aiosBackends(url)).toEqual(['aios']);
      await data.close();
      await expect.poll(() => aiosBackends(url)).toEqual([]);
      expect(memory.followStatus().mode).toBe('per-search');
    });

    it('lets a process that closed its memory exit by itself', async () => {
      const url = await freshUrl();
      // The built package, in a process of its own: it must end without process.exit.
      const script = `
        const { openDataStore } = await import('@aios/data');
        const { openMemory } = await import('@aios/carma');
        const data = await openDataStore({ url: process.env.URL });
        const memory = await openMemory({ native: process.env.IMPL, data, followPollMs: 20 });
        for (let i = 0; i < 100 && memory.followStatus().mode !== 'notices'; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        await memory.add('from a process that then exits');
        console.log(memory.followStatus().mode);
        await memory.close();
        await data.close();
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: packageDir,
        env: { ...process.env, URL: url, IMPL: native },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await new Promise((resolve) =>
        child.on('exit', (c, signal) => resolve(c ?? signal)),
      );
      clearTimeout(killer);
      expect(out.trim()).toBe('notices');
      expect(code).toBe(0);
    }, 60_000);

    it('consolidates a shared store in one server at a time: one asked meanwhile skips', async () => {
      const url = await freshUrl();
      const dataA = await open(url);
      const a = await openMemory({ native, data: dataA });
      const b = await openMemory({ native, data: await open(url) });
      try {
        await a.addMany(['the backup runs at night', 'the backup runs at night!']);
        await expect.poll(() => b.size).toBe(2);
        // Another server consolidating: its lock is held while b is asked.
        const report = await dataA.withClusterLock(
          CONSOLIDATION_LOCK,
          () => b.consolidate({ mergeThreshold: 0.9 }).done,
        );
        expect(report).toEqual({
          status: 'ran',
          value: expect.objectContaining({ skipped: true, merged: [] }),
        });
        expect(b.size).toBe(2);
        const done = await b.consolidate({ mergeThreshold: 0.9 }).done;
        expect(done.skipped).toBeUndefined();
        expect(done.merged).toHaveLength(1);
        await expect.poll(() => a.size).toBe(1);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('keeps each home its own index file and opens from it, catching up from its own seq', async () => {
      const url = await freshUrl();
      const [dirA, dirB] = [home(), home()];
      const dataA = await open(url);
      const dataB = await open(url);
      let a: Memory = await openMemory({ native, data: dataA, dir: dirA });
      let b: Memory = await openMemory({ native, data: dataB, dir: dirB });
      await a.addMany(Array.from({ length: 150 }, (_, i) => `first server fragment ${i} alpha`));
      await b.addMany(Array.from({ length: 150 }, (_, i) => `second server fragment ${i} beta`));
      await a.close();
      await b.close();
      // Both homes have a file of their own, recorded beside it; the shared meta names none.
      for (const dir of [dirA, dirB]) {
        expect(readdirSync(dir).filter((n) => /^index-\d+\.bin$/.test(n))).toHaveLength(1);
        expect(existsSync(join(dir, 'index.json'))).toBe(true);
      }
      expect((await dataA.meta.get('carma')) as object).not.toHaveProperty('index');
      // Written after b's checkpoint: b's reopen brings it into b's own file.
      a = await openMemory({ native, data: dataA, dir: dirA });
      await a.add('written after the checkpoints gamma');
      await a.close();
      a = await openMemory({ native, data: dataA, dir: dirA });
      b = await openMemory({ native, data: dataB, dir: dirB });
      try {
        expect(a.indexOrigin).toBe('file');
        expect(b.indexOrigin).toBe('file');
        expect(a.size).toBe(301);
        expect(b.size).toBe(301);
        const [fromA] = await b.search('first server fragment 7 alpha', { k: 1, mode: 'vector' });
        expect(fromA?.fragment.text).toBe('first server fragment 7 alpha');
        const [fromB] = await a.search('second server fragment 9 beta', { k: 1, mode: 'vector' });
        expect(fromB?.fragment.text).toBe('second server fragment 9 beta');
        const [late] = await b.search('written after the checkpoints gamma', {
          k: 1,
          mode: 'vector',
        });
        expect(late?.fragment.text).toBe('written after the checkpoints gamma');
      } finally {
        await a.close();
        await b.close();
      }
      // A server that only follows writes its own index file too, and opens from it.
      const dirF = home();
      const dataF = await open(url);
      let f = await openMemory({ native, data: dataF, dir: dirF });
      expect(f.indexOrigin).toBe('store');
      a = await openMemory({ native, data: dataA, dir: dirA });
      await a.addMany(Array.from({ length: 50 }, (_, i) => `followed fragment ${i} delta`));
      await a.close();
      await expect.poll(() => f.size).toBe(351);
      await f.close();
      f = await openMemory({ native, data: dataF, dir: dirF });
      try {
        expect(f.indexOrigin).toBe('file');
        expect(f.size).toBe(351);
        const [hit] = await f.search('followed fragment 3 delta', { k: 1, mode: 'vector' });
        expect(hit?.fragment.text).toBe('followed fragment 3 delta');
      } finally {
        await f.close();
      }
      // A home pointed at another database does not open from a file of the first one.
      const other = await open(await freshUrl());
      const seed = await openMemory({ native, data: other });
      await seed.addMany(Array.from({ length: 400 }, (_, i) => `another database ${i}`));
      await seed.close();
      const c = await openMemory({ native, data: other, dir: dirA });
      try {
        expect(c.indexOrigin).toBe('store');
        expect(c.size).toBe(400);
      } finally {
        await c.close();
      }
    }, 60_000);
  });
});
