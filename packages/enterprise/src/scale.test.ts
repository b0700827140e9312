/**
 * Three `aios serve` processes (the built CLI, each with its own home) on one PostgreSQL
 * and one Redis: what a scaled-out deployment promises. Every acknowledged write is
 * visible through every instance within a bound; SIGKILL of one instance under load loses
 * no acknowledged write and the others keep answering; a restart of PostgreSQL under load
 * answers a coded 503 meanwhile (never a hang, never a 500) and loses nothing after it; a
 * change whose notice was lost is still picked up. The rate limits shared through Redis
 * are redis.test.ts's. Implementations alternate over the instances.
 */
import { rmSync } from 'node:fs';
import {
  startTestPostgres,
  startTestRedis,
  type TestPostgres,
  type TestRedis,
  testImplementations,
  testTool,
} from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Answer,
  callApi,
  clusterEnv,
  clusterKey,
  type Instance,
  instanceHome,
  percentile,
  startInstance,
} from './test-support/cluster.js';

const initdb = testTool('initdb');
const redisServer = testTool('redis-server');
const impls = testImplementations();

/** A write that was acknowledged (201), and through which instance. */
interface Acked {
  id: string;
  token: string;
  via: string;
  at: number;
}

let serial = 0;
/** A text of its own with a word no other text has: a search for it finds only it. */
function probe(): { text: string; token: string } {
  const n = ++serial;
  const token = `kappa${n}q${Math.random().toString(36).slice(2, 8)}`;
  return { text: `Scale probe ${n}: the code word is ${token}.`, token };
}

describe.skipIf(!initdb)('three aios serve instances on one PostgreSQL', () => {
  let pg: TestPostgres;
  let redis: TestRedis | undefined;
  let env: Record<string, string>;
  let key: string;
  const instances: Instance[] = [];
  const acked: Acked[] = [];

  beforeAll(async () => {
    pg = await startTestPostgres(initdb as string);
    const database = await pg.createDatabase('scale');
    if (redisServer) redis = await startTestRedis(redisServer);
    env = clusterEnv({
      dataUrl: pg.url(database, { password: null }),
      dataPassword: pg.password,
      ...(redis ? { redis: { url: redis.url, password: redis.password } } : {}),
    });
    key = await clusterKey(env, ['memory:read', 'memory:write']);
    const started = await Promise.all(
      [0, 1, 2].map((i) =>
        startInstance(
          `i${i}`,
          instanceHome(`scale-${i}`),
          impls[i % impls.length] as 'native',
          env,
        ),
      ),
    );
    instances.push(...started);
  }, 180_000);

  afterAll(async () => {
    for (const i of instances) {
      i.kill();
      await i.exited;
      rmSync(i.home, { recursive: true, force: true });
    }
    await redis?.close();
    await pg?.close();
  }, 60_000);

  const live = () => instances.filter((i) => i.url !== '');
  const add = async (via: Instance): Promise<{ answer: Answer; write?: Acked }> => {
    const { text, token } = probe();
    const answer = await callApi(via.url, 'POST', '/v1/memory', key, { text });
    if (answer.status !== 201) return { answer };
    const write = { id: answer.body.fragment.id, token, via: via.name, at: performance.now() };
    acked.push(write);
    return { answer, write };
  };
  const found = async (via: Instance, write: Acked): Promise<boolean> => {
    const res = await callApi(via.url, 'POST', '/v1/memory/search', key, {
      query: write.token,
      k: 3,
    });
    return (
      res.status === 200 &&
      res.body.results.some((r: { fragment: { id: string } }) => r.fragment.id === write.id)
    );
  };
  /** Whether every write in `writes` is found by id and by search through `via`. */
  const missingThrough = async (via: Instance, writes: Acked[]): Promise<string[]> => {
    const missing: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let w = writes[next++]; w; w = writes[next++]) {
          const byId = await callApi(via.url, 'GET', `/v1/memory/${w.id}`, key);
          if (byId.status !== 200) missing.push(`${w.id} by id: ${byId.status}`);
          else if (!(await found(via, w))) missing.push(`${w.id} by search for ${w.token}`);
        }
      }),
    );
    return missing;
  };

  /**
   * Writers round-robin over `targets()` until `stop()`; every answer kept. Each writer
   * waits for its answer before the next write (acknowledgements are what counts).
   */
  function writers(targets: () => Instance[], count: number) {
    const answers: Array<{ via: string; answer: Answer }> = [];
    let running = true;
    let turn = 0;
    const loops = Array.from({ length: count }, async () => {
      while (running) {
        const all = targets();
        const via = all[turn++ % all.length] as Instance;
        const { answer } = await add(via);
        answers.push({ via: via.name, answer });
      }
    });
    return {
      answers,
      async stop() {
        running = false;
        await Promise.all(loops);
      },
    };
  }

  it('makes every acknowledged write visible through the other instances within the bound', async () => {
    const delays: number[] = [];
    for (let round = 0; round < 12; round++) {
      await Promise.all(
        instances.map(async (via, n) => {
          const { answer, write } = await add(via);
          expect(answer.status, JSON.stringify(answer.body)).toBe(201);
          const mine = write as Acked;
          const others = instances.filter((_, m) => m !== n);
          const seen = await Promise.all(
            others.map(async (other) => {
              for (;;) {
                if (await found(other, mine)) return performance.now() - mine.at;
                if (performance.now() - mine.at > 10_000) return Number.POSITIVE_INFINITY;
                await new Promise((r) => setTimeout(r, 10));
              }
            }),
          );
          delays.push(Math.max(...seen));
        }),
      );
    }
    const p50 = percentile(delays, 50);
    const p99 = percentile(delays, 99);
    console.log(
      `propagation through the other two instances (${delays.length} writes, search included): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
    );
    // The goal is p99 < 500 ms; a loaded 2-core machine gets a loose bound.
    expect(p99).toBeLessThan(5_000);
    for (const i of instances) expect(await missingThrough(i, acked)).toEqual([]);
  });

  it('picks up a change whose notice was lost', async () => {
    // A write whose notice is never sent: the trigger that sends them off while it commits.
    const database = new URL(env.AIOS_DATA__URL as string).pathname.slice(1);
    const trigger = await pg.sql(
      database,
      "SELECT count(*) FROM pg_trigger WHERE tgname = 'fragment_changes_notify'",
    );
    const toggle = (on: boolean) =>
      trigger === '0'
        ? Promise.resolve('')
        : pg.sql(
            database,
            `ALTER TABLE fragment_changes ${on ? 'ENABLE' : 'DISABLE'} TRIGGER fragment_changes_notify`,
          );
    const [writer, reader] = instances as [Instance, Instance];
    // The reader's index is current first, so that what follows is the silent change alone.
    expect(await found(reader, acked.at(-1) as Acked)).toBe(true);
    await toggle(false);
    try {
      const { answer } = await add(writer);
      expect(answer.status).toBe(201);
    } finally {
      await toggle(true);
    }
    const silent = acked.at(-1) as Acked;
    await expect.poll(() => found(reader, silent), { timeout: 15_000, interval: 100 }).toBe(true);
  });

  it('loses no acknowledged write when an instance is SIGKILLed under load, the others answering throughout', async () => {
    const [victim] = instances as [Instance];
    const before = acked.length;
    const load = writers(live, 6);
    // Killed only once it has acknowledged writes of this load.
    await expect
      .poll(() => acked.slice(before).filter((a) => a.via === victim.name).length, {
        timeout: 60_000,
        interval: 20,
      })
      .toBeGreaterThanOrEqual(10);
    victim.kill();
    await victim.exited;
    const deadUrl = victim.url;
    victim.url = '';
    const killedAt = acked.length;
    // The survivors go on: at least 20 more acknowledgements, all from them.
    await expect
      .poll(() => acked.length - killedAt, { timeout: 60_000, interval: 20 })
      .toBeGreaterThanOrEqual(20);
    await load.stop();
    const survivors = live();
    const survivorAnswers = load.answers.filter((a) => a.via !== victim.name);
    expect(
      survivorAnswers
        .filter((a) => a.answer.status !== 201)
        .map((a) => [a.via, a.answer.status, a.answer.body]),
    ).toEqual([]);
    for (const s of survivors) expect(await missingThrough(s, acked), s.name).toEqual([]);

    // Started again on its home, it catches up with what the others wrote meanwhile.
    const restarted = await startInstance(victim.name, victim.home, victim.impl, env);
    expect(restarted.url).not.toBe('');
    Object.assign(victim, {
      url: restarted.url,
      kill: restarted.kill,
      exited: restarted.exited,
      stderr: restarted.stderr,
    });
    expect(deadUrl).not.toBe('');
    expect(await missingThrough(victim, acked)).toEqual([]);
  });

  it('answers a coded 503 while PostgreSQL restarts under load, then reconnects and loses nothing', async () => {
    const before = acked.length;
    const load = writers(live, 6);
    const reads: Answer[] = [];
    let reading = true;
    const readers = instances.map(async (via) => {
      while (reading) {
        const last = acked.at(-1) as Acked;
        reads.push(
          await callApi(via.url, 'POST', '/v1/memory/search', key, { query: last.token, k: 3 }),
        );
      }
    });
    await expect
      .poll(() => acked.length - before, { timeout: 60_000, interval: 20 })
      .toBeGreaterThanOrEqual(15);
    const answersBefore = load.answers.length;
    await pg.stop('fast');
    const during = () =>
      JSON.stringify(
        load.answers
          .slice(answersBefore)
          .map(
            (a) =>
              `${a.via} ${a.answer.status} ${a.answer.body?.error?.code ?? a.answer.failure ?? ''}`,
          )
          .filter((line, n, all) => all.indexOf(line) === n),
      );
    // The outage lasts until every instance has answered writes during it.
    await expect
      .poll(
        () =>
          new Set(
            load.answers
              .slice(answersBefore)
              .filter((a) => a.answer.status === 503)
              .map((a) => a.via),
          ).size,
        { timeout: 60_000, interval: 50 },
      )
      .toBe(instances.length)
      .catch((error: Error) => {
        throw new Error(`${error.message}; answers during the outage: ${during()}`);
      });
    await pg.start();
    const restartedAt = acked.length;
    await expect
      .poll(() => new Set(acked.slice(restartedAt).map((a) => a.via)).size, {
        timeout: 90_000,
        interval: 50,
      })
      .toBe(instances.length);
    await load.stop();
    reading = false;
    await Promise.all(readers);

    const all = [...load.answers.map((a) => a.answer), ...reads];
    const failed = all.filter((a) => a.status !== 201 && a.status !== 200);
    expect(failed.length).toBeGreaterThan(0);
    const unexpected = failed
      .filter(
        (a) =>
          a.status !== 503 ||
          typeof a.body?.error?.code !== 'string' ||
          /\n\s+at /.test(JSON.stringify(a.body)),
      )
      .map((a) => [a.status, a.failure ?? a.body]);
    expect(unexpected).toEqual([]);
    const codes = [...new Set(failed.map((a) => a.body.error.code))];
    console.log(
      `during the restart of PostgreSQL: ${failed.length} of ${all.length} answers 503 (${codes.join(', ')})`,
    );
    for (const i of instances) expect(await missingThrough(i, acked), i.name).toEqual([]);
  });
});
