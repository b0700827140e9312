import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataStore, openDataStore } from './index.js';
import { ANALYTICS_SQL, MIGRATIONS, SESSION_PRAGMAS } from './sql.js';

const crate = join(dirname(fileURLToPath(import.meta.url)), '../../../crates/data');
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-data-cross-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('both implementations run the same SQL', () => {
  it('migrations are every file of crates/data/migrations, in order', () => {
    const files = readdirSync(join(crate, 'migrations')).sort();
    expect(files.length).toBe(MIGRATIONS.length);
    MIGRATIONS.forEach((m, i) => {
      expect(files[i]).toMatch(
        new RegExp(`^${String(m.version).padStart(4, '0')}_${m.name}\\.sql$`),
      );
      expect(m.sql).toBe(readFileSync(join(crate, 'migrations', files[i] as string), 'utf8'));
    });
    const schema = readFileSync(join(crate, 'src/schema.rs'), 'utf8');
    for (const f of files) expect(schema).toContain(`include_str!("../migrations/${f}")`);
  });

  it('the Rust side includes every shared .sql file this side imports', () => {
    const sqlTs = readFileSync(join(crate, '../../packages/data/src/sql.ts'), 'utf8');
    const rust = ['src/analytics.rs', 'src/store.rs']
      .map((f) => readFileSync(join(crate, f), 'utf8'))
      .join('\n');
    for (const sub of ['analytics', 'fragments']) {
      for (const f of readdirSync(join(crate, 'sql', sub))) {
        expect(sqlTs).toContain(`crates/data/sql/${sub}/${f}'`);
        expect(rust).toContain(`include_str!("../sql/${sub}/${f}")`);
      }
    }
    expect(Object.keys(ANALYTICS_SQL)).toHaveLength(
      readdirSync(join(crate, 'sql/analytics')).length,
    );
  });

  it('connection pragmas match crates/data/src/schema.rs', () => {
    const rust = squash(readFileSync(join(crate, 'src/schema.rs'), 'utf8'));
    expect(rust).toContain(squash(SESSION_PRAGMAS));
  });
});

const DAY = 86_400_000;

async function fill(store: DataStore, n: number) {
  const conversations = ['a', 'b', 'c'];
  for (const id of conversations) await store.conversations.create({ id, createdAt: 0 });
  await store.fragments.put(
    Array.from({ length: n }, (_, i) => ({
      id: `frag-${String(i).padStart(5, '0')}`,
      text: `fragment ${i} ✓ 日本`,
      metadata: { i, even: i % 2 === 0 },
      vector: i % 7 === 0 ? null : Float32Array.from({ length: 16 }, (_, d) => (i * 16 + d) / 1e3),
      createdAt: (i % 9) * DAY + i,
    })),
  );
  await store.messages.add(
    Array.from({ length: n }, (_, i) => ({
      conversationId: conversations[i % 3] as string,
      role: i % 2 ? ('assistant' as const) : ('user' as const),
      content: `message ${i}`,
      model: i % 2 ? `model-${i % 4}` : null,
      promptTokens: i % 2 ? i : 0,
      completionTokens: i % 2 ? 2 * i : 0,
      createdAt: (i % 5) * DAY + i,
    })),
  );
  await store.events.add(
    Array.from({ length: n }, (_, i) => ({
      type: `t${i % 3}`,
      value: i % 4 ? i / 4 : null,
      createdAt: (i % 6) * DAY,
    })),
  );
  await store.feedback.add(
    Array.from({ length: 20 }, (_, i) => ({ rating: 1 + (i % 5), createdAt: i * DAY })),
  );
  await store.fragments.markUsed(['frag-00003', 'frag-00003', 'frag-00010'], 5 * DAY);
}

async function snapshot(store: DataStore) {
  const a = store.analytics;
  return {
    fragments: await store.fragments.list({ limit: 10_000 }),
    messages: await store.messages.list('b'),
    analytics: [
      await a.messagesPerDay(),
      await a.tokensPerDay(),
      await a.tokensPerModel(),
      await a.memoryGrowth(),
      await a.topFragments(5),
      await a.feedbackSummary(),
      await a.feedbackPerDay(),
      await a.eventsPerDay(),
      await a.eventsPerDay({ type: 't1' }),
    ],
  };
}

describe('a database written by one implementation is read by the other', () => {
  const impls = testImplementations();
  it.runIf(impls.length === 2)('native -> js and js -> native, with equal results', async () => {
    const results = [];
    for (const [writer, reader] of [
      ['native', 'js'],
      ['js', 'native'],
    ] as const) {
      const path = join(dir, `${writer}-written.db`);
      const w = await openDataStore({ path, native: writer });
      await fill(w, 600);
      const written = await snapshot(w);
      await w.close();
      const r = await openDataStore({ path, native: reader });
      expect(r.implementation).toBe(reader);
      const read = await snapshot(r);
      expect(read).toEqual(written);
      expect(await r.integrityCheck()).toBe('ok');
      // The reader writes too, and the writer reads that back.
      await r.fragments.put([{ id: 'from-reader', text: reader, vector: new Float32Array(16) }]);
      await r.close();
      const again = await openDataStore({ path, native: writer });
      expect((await again.fragments.get('from-reader'))?.text).toBe(reader);
      await again.close();
      results.push(read);
    }
    // Same inputs, same outputs, whichever implementation wrote and read them.
    expect(results[0]).toEqual(results[1]);
  });
});
