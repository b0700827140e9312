import { join } from 'node:path';
import { ANALYTICS_SQL, type DataStore, MIGRATIONS, openDataStore } from '@aios/data';
import Database from 'better-sqlite3';
import { measure } from '../measure.js';
import type { BenchResult, Suite } from '../types.js';

const SUITE = 'data';
const DIM = 384;
const DAY = 86_400_000;
/** Rows arrive in time order, as they do in use: timestamps grow from here. */
const T0 = Date.UTC(2025, 0, 1);

type Subject = 'native' | 'js' | 'better-sqlite3';
const SUBJECTS: Subject[] = ['native', 'js', 'better-sqlite3'];

/**
 * The peer runs the same schema and statements with the store's durability settings (WAL,
 * synchronous=NORMAL, foreign keys), as a user of better-sqlite3 would open the file; the
 * store's tuning pragmas (page cache size, checkpoint interval) are not copied.
 */
function openPeer(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  if ((db.pragma('user_version', { simple: true }) as number) === 0) {
    for (const m of MIGRATIONS) db.exec(m.sql);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }
  return db;
}

function fragmentBatch(start: number, n: number) {
  return Array.from({ length: n }, (_, j) => {
    const i = start + j;
    const vector = new Float32Array(DIM);
    for (let d = 0; d < DIM; d++) vector[d] = Math.sin(i * 0.37 + d) * 0.1;
    return {
      id: `frag-${i}`,
      text: `memory fragment ${i}: the user mentioned a preference about item ${i % 977}.`,
      metadata: { source: 'bench', n: i % 13 },
      vector,
      createdAt: T0 + i * 60_000,
    };
  });
}

const PEER_UPSERT = `INSERT INTO fragments (id, text, metadata, vector, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET text = excluded.text,
  metadata = excluded.metadata, vector = excluded.vector, updated_at = excluded.updated_at`;

async function timeIt(fn: () => Promise<void> | void): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export const dataSuite: Suite = {
  name: SUITE,
  description: 'SQLite store: batched inserts, point reads, analytics over messages/events',
  async run({ quick, scratch, log }) {
    const results: BenchResult[] = [];
    const fragments = quick ? 2_000 : 100_000;
    const batch = 1_000;
    const smallRows = quick ? 20_000 : 500_000;
    const smallBatch = 10_000;
    const analyticsRows = quick ? 20_000 : 1_000_000;

    // 1. Batched fragment inserts (384-d vectors + text), each subject into a fresh file.
    log(`insert ${fragments} fragments (${DIM}-d) in batches of ${batch}`);
    const stores = new Map<Subject, DataStore | Database.Database>();
    for (const subject of SUBJECTS) {
      const path = join(scratch, `fragments-${subject}.db`);
      let ms = 0;
      if (subject === 'better-sqlite3') {
        const db = openPeer(path);
        const stmt = db.prepare(PEER_UPSERT);
        const insert = db.transaction((rows: ReturnType<typeof fragmentBatch>) => {
          for (const f of rows) {
            stmt.run(
              f.id,
              f.text,
              JSON.stringify(f.metadata),
              Buffer.from(f.vector.buffer, f.vector.byteOffset, f.vector.byteLength),
              f.createdAt,
              f.createdAt,
            );
          }
        });
        for (let i = 0; i < fragments; i += batch) {
          const rows = fragmentBatch(i, batch);
          ms += await timeIt(() => insert(rows));
        }
        stores.set(subject, db);
      } else {
        const store = await openDataStore({ path, native: subject });
        for (let i = 0; i < fragments; i += batch) {
          const rows = fragmentBatch(i, batch);
          ms += await timeIt(async () => {
            await store.fragments.put(rows);
          });
        }
        stores.set(subject, store);
      }
      results.push({
        suite: SUITE,
        case: `insert-fragments-${fragments / 1000}k-${DIM}d`,
        subject,
        metric: 'rows_per_s',
        value: fragments / (ms / 1000),
        params: { rows: fragments, batch, dimension: DIM },
      });
    }

    // 2. Point reads by id (vector included).
    log('point reads by id');
    let k = 0;
    const nextId = () => {
      k = (k * 7919 + 13) % fragments;
      return `frag-${k}`;
    };
    const peer = stores.get('better-sqlite3') as Database.Database;
    const peerGet = peer.prepare('SELECT * FROM fragments WHERE id = ?');
    const expected = await (stores.get('native') as DataStore).fragments.get('frag-42');
    for (const subject of ['native', 'js'] as const) {
      const got = await (stores.get(subject) as DataStore).fragments.get('frag-42');
      if (!got?.vector || got.vector[5] !== expected?.vector?.[5]) {
        throw new Error(`${subject} read back a different fragment`);
      }
    }
    const measured = await measure(
      [
        {
          subject: 'native',
          fn: () => (stores.get('native') as DataStore).fragments.get(nextId()),
        },
        { subject: 'js', fn: () => (stores.get('js') as DataStore).fragments.get(nextId()) },
        {
          subject: 'better-sqlite3',
          fn: () => {
            const row = peerGet.get(nextId()) as { vector: Buffer; metadata: string };
            JSON.parse(row.metadata);
            return new Float32Array(row.vector.buffer, row.vector.byteOffset, DIM);
          },
        },
      ],
      { timeMs: quick ? 100 : 1500 },
    );
    for (const m of measured) {
      results.push({
        suite: SUITE,
        case: `point-read-${fragments / 1000}k`,
        subject: m.subject,
        metric: 'ops_per_s',
        value: 1000 / m.p50_ms,
        params: { rows: fragments, p50_ms: m.p50_ms },
      });
    }
    for (const [subject, s] of stores) {
      if (subject === 'better-sqlite3') (s as Database.Database).close();
      else await (s as DataStore).close();
    }

    // 3. Small rows (events) in batches: the raw bulk-insert rate.
    log(`insert ${smallRows} events in batches of ${smallBatch}`);
    const events = (start: number, n: number) =>
      Array.from({ length: n }, (_, j) => ({
        type: `metric.${(start + j) % 8}`,
        value: (start + j) % 1000,
        createdAt: T0 + (start + j) * 5_000,
      }));
    for (const subject of SUBJECTS) {
      const path = join(scratch, `events-${subject}.db`);
      let ms = 0;
      if (subject === 'better-sqlite3') {
        const db = openPeer(path);
        const stmt = db.prepare(
          'INSERT INTO events (type, value, data, created_at) VALUES (?, ?, ?, ?)',
        );
        const insert = db.transaction((rows: ReturnType<typeof events>) => {
          for (const e of rows) stmt.run(e.type, e.value, null, e.createdAt);
        });
        for (let i = 0; i < smallRows; i += smallBatch) {
          const rows = events(i, smallBatch);
          ms += await timeIt(() => insert(rows));
        }
        db.close();
      } else {
        const store = await openDataStore({ path, native: subject });
        for (let i = 0; i < smallRows; i += smallBatch) {
          const rows = events(i, smallBatch);
          ms += await timeIt(async () => {
            await store.events.add(rows);
          });
        }
        await store.close();
      }
      results.push({
        suite: SUITE,
        case: 'insert-events',
        subject,
        metric: 'rows_per_s',
        value: smallRows / (ms / 1000),
        params: { rows: smallRows, batch: smallBatch },
      });
    }

    // 4. Analytics over many messages and events, all subjects on the same file.
    log(`analytics over ${analyticsRows} messages and ${analyticsRows} events`);
    const path = join(scratch, 'analytics.db');
    {
      const store = await openDataStore({ path, native: 'native' });
      const conversations = quick ? 100 : 1000;
      for (let c = 0; c < conversations; c++) await store.conversations.create({ id: `c${c}` });
      const chunk = Math.min(50_000, analyticsRows);
      for (let i = 0; i < analyticsRows; i += chunk) {
        await store.messages.add(
          Array.from({ length: chunk }, (_, j) => {
            const n = i + j;
            const assistant = n % 2 === 1;
            return {
              conversationId: `c${n % conversations}`,
              role: assistant ? ('assistant' as const) : ('user' as const),
              content: `message ${n}`,
              model: assistant ? `model-${n % 3}` : null,
              promptTokens: assistant ? 200 + (n % 50) : 0,
              completionTokens: assistant ? 100 + (n % 70) : 0,
              createdAt: T0 + Math.floor((n * 90 * DAY) / analyticsRows),
            };
          }),
        );
        await store.events.add(events(i, chunk));
      }
      await store.close();
    }
    const queries = ['messagesPerDay', 'tokensPerDay', 'eventsPerDay'] as const;
    const figures = new Map<string, Map<Subject, number>>();
    for (const subject of SUBJECTS) {
      const timeMs = quick ? 100 : 2000;
      if (subject === 'better-sqlite3') {
        const db = openPeer(path);
        for (const q of queries) {
          // better-sqlite3 binds numbered parameters by name: ?1 becomes @p1.
          const stmt = db.prepare(ANALYTICS_SQL[q].replace(/\?(\d)/g, '@p$1'));
          const all = { p1: -8.64e15, p2: 8.64e15, p3: 0, p4: null };
          const args = Object.fromEntries(
            Object.entries(all).filter(([key]) => ANALYTICS_SQL[q].includes(`?${key.slice(1)}`)),
          );
          const [m] = await measure([{ subject, fn: () => stmt.all(args) }], { timeMs });
          figures.set(q, (figures.get(q) ?? new Map()).set(subject, m?.p50_ms ?? Number.NaN));
        }
        db.close();
      } else {
        const store = await openDataStore({ path, native: subject });
        for (const q of queries) {
          const [m] = await measure([{ subject, fn: () => store.analytics[q]() }], { timeMs });
          figures.set(q, (figures.get(q) ?? new Map()).set(subject, m?.p50_ms ?? Number.NaN));
        }
        await store.close();
      }
    }
    for (const [q, bySubject] of figures) {
      for (const [subject, p50] of bySubject) {
        results.push({
          suite: SUITE,
          case: `${q}-${analyticsRows >= 1e6 ? `${analyticsRows / 1e6}M` : `${analyticsRows / 1000}k`}`,
          subject,
          metric: 'p50_ms',
          value: p50,
          params: { rows: analyticsRows },
        });
      }
    }
    return results;
  },
};
