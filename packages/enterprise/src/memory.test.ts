import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPage } from './memory/list.js';
import { startTestServer, type TestServer } from './test-support/server.js';

interface FragmentBody {
  id: string;
  text: string;
  namespace: string;
  importance: number;
  version: number;
  source: string | null;
  createdAt: string;
}

describe.each(testImplementations())('memory routes (%s)', (impl) => {
  let t: TestServer;
  let writer: { authorization: string };
  let reader: { authorization: string };
  let other: { authorization: string };

  beforeAll(async () => {
    t = await startTestServer(impl, { server: { requestsPerMinute: 100_000 } });
    writer = t.auth((await t.key(['memory:read', 'memory:write'])).key);
    reader = t.auth((await t.key(['memory:read'])).key);
    other = t.auth((await t.key(['memory:read', 'memory:write'], { tenant: 'memory-other' })).key);
  });
  afterAll(() => t.close());

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    headers: { authorization: string },
    payload?: unknown,
  ) =>
    t.server.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  async function add(text: string, extra: Record<string, unknown> = {}): Promise<FragmentBody> {
    const res = await call('POST', '/v1/memory', writer, { text, ...extra });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().fragment as FragmentBody;
  }

  it('adds, reads, updates (the text embedded again), deletes, and keeps the history', async () => {
    const f = await add('The boiler is serviced every May by Hansen.', {
      namespace: 'house',
      metadata: { source: 'notes/house.md', line: 3 },
      importance: 0.4,
    });
    expect(f).toMatchObject({ namespace: 'house', source: 'notes/house.md', importance: 0.4 });

    const again = await call('POST', '/v1/memory', writer, {
      text: 'The boiler is serviced every May by Hansen.',
      namespace: 'house',
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'duplicate', fragment: { id: f.id } });

    const read = await call('GET', `/v1/memory/${f.id}`, reader);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: f.id, text: f.text, version: 1 });

    const patched = await call('PATCH', `/v1/memory/${f.id}`, writer, {
      text: 'The heat pump is serviced every October by Larsen.',
      importance: 0.9,
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ version: 2, importance: 0.9 });
    // Found by its new words, in vector mode too: the new text was embedded.
    const found = await call('POST', '/v1/memory/search', reader, {
      query: 'heat pump Larsen',
      mode: 'vector',
      namespace: 'house',
      k: 1,
    });
    expect(found.json().results[0]?.id).toBe(f.id);

    const deleted = await call('DELETE', `/v1/memory/${f.id}`, writer);
    expect(deleted.json()).toEqual({ id: f.id, deleted: true });
    expect((await call('GET', `/v1/memory/${f.id}`, reader)).statusCode).toBe(404);
    const history = await call('GET', `/v1/memory/${f.id}/history`, reader);
    expect(history.statusCode).toBe(200);
    expect(history.json().deleted).toBe(true);
    expect(history.json().items.map((h: { kind: string }) => h.kind)).toEqual([
      'add',
      'update',
      'delete',
    ]);
    expect(history.json().items[0].text).toBe('The boiler is serviced every May by Hansen.');
    const gone = await call('GET', '/v1/memory/no-such-fragment/history', reader);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('FRAGMENT_NOT_FOUND');
  });

  it('adds many at once, each result in the order given', async () => {
    const res = await call('POST', '/v1/memory/batch', writer, {
      items: [
        { text: 'Batch one: the red kettle.', namespace: 'batch' },
        { text: 'Batch two: the blue teapot.', namespace: 'batch', importance: 0.8 },
        { text: 'Batch one: the red kettle.', namespace: 'batch' },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const items = res.json().items as Array<{ status: string; fragment: FragmentBody }>;
    expect(items.map((i) => i.status)).toEqual(['added', 'added', 'duplicate']);
    expect(items[2]?.fragment.id).toBe(items[0]?.fragment.id);
    const tooMany = await call('POST', '/v1/memory/batch', writer, {
      items: Array.from({ length: 501 }, (_, i) => ({ text: `item ${i}` })),
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.code).toBe('INVALID_INPUT');
  });

  it('refuses bad input with a 4xx and a code, storing nothing', async () => {
    const before = t.system.memory.stats().fragments;
    const cases: Array<[string, 'POST' | 'PATCH', string, unknown, number, string]> = [
      ['empty text', 'POST', '/v1/memory', { text: '' }, 400, 'INVALID_INPUT'],
      ['blank text', 'POST', '/v1/memory', { text: ' \n\t ' }, 400, 'TEXT_EMPTY'],
      ['huge text', 'POST', '/v1/memory', { text: 'x'.repeat(200_001) }, 400, 'INVALID_INPUT'],
      [
        'a body over the limit',
        'POST',
        '/v1/memory',
        { text: 'x'.repeat(1_100_000) },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      ['unknown field', 'POST', '/v1/memory', { text: 'a', colour: 'red' }, 400, 'INVALID_INPUT'],
      [
        'importance above 1',
        'POST',
        '/v1/memory',
        { text: 'a', importance: 2 },
        400,
        'INVALID_INPUT',
      ],
      ['empty batch', 'POST', '/v1/memory/batch', { items: [] }, 400, 'INVALID_INPUT'],
      ['k of 0', 'POST', '/v1/memory/search', { query: 'a', k: 0 }, 400, 'INVALID_INPUT'],
      [
        'k too large',
        'POST',
        '/v1/memory/search',
        { query: 'a', k: 100_000 },
        400,
        'INVALID_INPUT',
      ],
      [
        'k not a number',
        'POST',
        '/v1/memory/search',
        { query: 'a', k: 'many' },
        400,
        'INVALID_INPUT',
      ],
      [
        'unknown mode',
        'POST',
        '/v1/memory/search',
        { query: 'a', mode: 'psychic' },
        400,
        'INVALID_INPUT',
      ],
      ['empty query', 'POST', '/v1/memory/search', { query: '' }, 400, 'INVALID_INPUT'],
      [
        'unknown filter operator',
        'POST',
        '/v1/memory/search',
        { query: 'a', filter: { importance: { $about: 1 } } },
        400,
        'INVALID_FILTER',
      ],
      [
        'filter that is not an object',
        'POST',
        '/v1/memory/search',
        { query: 'a', filter: [1, 2] },
        400,
        'INVALID_INPUT',
      ],
      ['empty patch', 'PATCH', '/v1/memory/x', {}, 400, 'INVALID_INPUT'],
      [
        'bad consolidation',
        'POST',
        '/v1/memory/consolidate',
        { maxLinks: 1000 },
        400,
        'INVALID_INPUT',
      ],
    ];
    for (const [what, method, url, payload, status, code] of cases) {
      const res = await call(method, url, writer, payload);
      expect(res.statusCode, `${what}: ${res.body.slice(0, 200)}`).toBe(status);
      expect(res.json().error.code, what).toBe(code);
    }
    const badQuery = await call('GET', '/v1/memory?limit=0', reader);
    expect(badQuery.statusCode).toBe(400);
    const badCursor = await call('GET', '/v1/memory?cursor=nonsense', reader);
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().error.code).toBe('INVALID_CURSOR');
    expect(t.system.memory.stats().fragments).toBe(before);
  });

  it('refuses a JSON value of the wrong type naming the field, never converting it', async () => {
    const before = t.system.memory.stats().fragments;
    const cases: Array<[string, unknown, string]> = [
      ['/v1/memory', { text: 123 }, 'body.text: must be string'],
      ['/v1/memory', { text: 'a', importance: '0.3' }, 'body.importance: must be number'],
      ['/v1/memory', { text: 'a', core: 'true' }, 'body.core: must be boolean'],
      ['/v1/memory', { text: ['a'] }, 'body.text: must be string'],
      ['/v1/memory/batch', { items: { text: 'a' } }, 'body.items: must be array'],
      ['/v1/memory/search', { query: 'a', k: '3' }, 'body.k: must be integer'],
    ];
    for (const [url, payload, message] of cases) {
      const res = await call('POST', url, writer, payload);
      expect(res.statusCode, `${url} ${JSON.stringify(payload)}: ${res.body}`).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'INVALID_INPUT', message });
    }
    expect(t.system.memory.stats().fragments).toBe(before);
  });

  it('searches in every mode, with a namespace, a filter and the parts of each score', async () => {
    await add('The dentist appointment is on Tuesday at nine.', {
      namespace: 'search',
      importance: 0.9,
    });
    await add('The dentist moved her office to Elm Street.', {
      namespace: 'search',
      importance: 0.2,
    });
    await add('The dentist in the other namespace.', { namespace: 'elsewhere' });
    const res = await call('POST', '/v1/memory/search', reader, {
      query: 'dentist appointment',
      namespace: 'search',
      k: 5,
      explain: true,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ mode: 'hybrid', fallback: null, k: 5 });
    expect(body.results.map((r: { fragment: FragmentBody }) => r.fragment.namespace)).toEqual([
      'search',
      'search',
    ]);
    const first = body.results[0];
    expect(first.fragment.text).toContain('appointment');
    expect(first.explain.lexical).toMatchObject({ rank: expect.any(Number) });
    expect(first.explain.vector).toMatchObject({ rank: expect.any(Number) });
    expect(first.explain.final).toBeCloseTo(first.score, 6);

    for (const mode of ['lexical', 'vector'] as const) {
      const one = await call('POST', '/v1/memory/search', reader, {
        query: 'dentist appointment',
        namespace: 'search',
        mode,
      });
      expect(one.json().mode).toBe(mode);
      expect(one.json().results.length).toBeGreaterThan(0);
    }
    const filtered = await call('POST', '/v1/memory/search', reader, {
      query: 'dentist',
      filter: { importance: { $gte: 0.5 }, namespace: 'search' },
    });
    expect(filtered.json().results.map((r: { fragment: FragmentBody }) => r.fragment.text)).toEqual(
      ['The dentist appointment is on Tuesday at nine.'],
    );
  });

  it('pages through every fragment exactly once while others are added', async () => {
    const ns = 'paging';
    const batch = await call('POST', '/v1/memory/batch', writer, {
      items: Array.from({ length: 240 }, (_, i) => ({
        text: `Paging note number ${i}.`,
        namespace: ns,
      })),
    });
    const original = new Set(
      (batch.json().items as Array<{ fragment: FragmentBody }>).map((i) => i.fragment.id),
    );
    const seen = new Map<string, number>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url = `/v1/memory?namespace=${ns}&limit=17${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await call('GET', url, reader);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { items: FragmentBody[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(17);
      for (const f of page.items) seen.set(f.id, (seen.get(f.id) ?? 0) + 1);
      cursor = page.nextCursor;
      // Others arrive between pages; they may or may not be listed, never twice.
      await call('POST', '/v1/memory', writer, {
        text: `Added while paging, ${pages}.`,
        namespace: ns,
      });
      pages++;
    } while (cursor !== null && pages < 100);
    expect(cursor).toBeNull();
    for (const id of original) expect(seen.get(id), id).toBe(1);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(240 / 17));
  });

  it('filters a listing by source, importance and date range', async () => {
    const ns = 'filters';
    await add('From the car notes.', {
      namespace: ns,
      metadata: { source: 'car.md' },
      importance: 0.9,
    });
    await add('From the garden notes.', {
      namespace: ns,
      metadata: { source: 'garden.md' },
      importance: 0.1,
    });
    const list = async (query: string) => {
      const res = await call('GET', `/v1/memory?namespace=${ns}&${query}`, reader);
      expect(res.statusCode, res.body).toBe(200);
      return (res.json().items as FragmentBody[]).map((f) => f.text);
    };
    expect(await list('source=car.md')).toEqual(['From the car notes.']);
    expect(await list('minImportance=0.5')).toEqual(['From the car notes.']);
    expect(await list('maxImportance=0.5')).toEqual(['From the garden notes.']);
    const future = new Date(Date.now() + 60_000).toISOString();
    const past = new Date(Date.now() - 3_600_000).toISOString();
    expect(await list(`from=${encodeURIComponent(future)}`)).toEqual([]);
    expect(
      (await list(`from=${encodeURIComponent(past)}&to=${encodeURIComponent(future)}`)).sort(),
    ).toEqual(['From the car notes.', 'From the garden notes.']);
  });

  it('answers a selective filter with short pages, never one long scan', async () => {
    const ns = 'large';
    const res = await call('POST', '/v1/memory/batch', writer, {
      items: Array.from({ length: 120 }, (_, i) => ({ text: `Large note ${i}.`, namespace: ns })),
    });
    expect(res.statusCode).toBe(200);
    await add('The one needle.', { namespace: ns, metadata: { source: 'needle.md' } });
    const texts: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await listPage(t.system, {
        namespace: ns,
        source: 'needle.md',
        limit: 10,
        scanLimit: 50,
        ...(cursor === undefined ? {} : { cursor }),
      });
      texts.push(...page.items.map((f) => f.text));
      sizes.push(page.items.length);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(texts).toEqual(['The one needle.']);
    // 121 rows, at most 50 looked at per page: three pages, two of them empty.
    expect(sizes).toHaveLength(3);
    expect(sizes.filter((n) => n === 0)).toHaveLength(2);
  });

  it('counts namespaces and reports stats', async () => {
    const ns = await call('GET', '/v1/memory/namespaces', reader);
    const items = ns.json().items as Array<{ name: string; fragments: number }>;
    expect(items.find((n) => n.name === 'batch')).toEqual({ name: 'batch', fragments: 2 });
    expect(items.map((n) => n.name)).toEqual([...items.map((n) => n.name)].sort());
    const stats = await call('GET', '/v1/memory/stats', reader);
    expect(stats.json()).toMatchObject({
      fragments: t.system.memory.stats().fragments,
      deadRows: t.system.memory.stats().deadRows,
      namespaces: expect.objectContaining({ batch: 2 }),
      conversations: expect.any(Number),
    });
  });

  it('consolidates as a job: 202, progress, the report as its result, and cancel', async () => {
    await add('The garage door code is 4711.', { namespace: 'dream' });
    await add('The garage door code is 4711!', { namespace: 'dream' });
    const res = await call('POST', '/v1/memory/consolidate', writer, { namespace: 'dream' });
    expect(res.statusCode, res.body).toBe(202);
    const job = res.json();
    expect(job).toMatchObject({ kind: 'consolidate', status: 'running' });
    const done = await waitForJob(job.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ namespaces: 1, cancelled: false });
    expect(done.progress).toMatchObject({ unit: 'clusters' });

    const started = await call('POST', '/v1/memory/consolidate', writer, {});
    const cancelled = await call('DELETE', `/v1/jobs/${started.json().id}`, writer);
    expect([202, 409]).toContain(cancelled.statusCode);
    const end = await waitForJob(started.json().id);
    expect(['cancelled', 'succeeded']).toContain(end.status);
    if (cancelled.statusCode === 202) expect(end.status).toBe('cancelled');
  });

  async function waitForJob(id: string) {
    for (;;) {
      const res = await call('GET', `/v1/jobs/${id}`, writer);
      expect(res.statusCode, res.body).toBe(200);
      if (res.json().status !== 'running') return res.json();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("gives another tenant's key 404 for the owner's fragments, and changes nothing", async () => {
    const f = await add('Owner secret: the safe is behind the painting.', { namespace: 'private' });
    for (const [method, url, payload] of [
      ['GET', `/v1/memory/${f.id}`, undefined],
      ['PATCH', `/v1/memory/${f.id}`, { importance: 1 }],
      ['DELETE', `/v1/memory/${f.id}`, undefined],
      ['GET', `/v1/memory/${f.id}/history`, undefined],
    ] as const) {
      const res = await call(method, url, other, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('FRAGMENT_NOT_FOUND');
    }
    const search = await call('POST', '/v1/memory/search', other, { query: 'safe painting' });
    expect(search.json().results).toEqual([]);
    const list = await call('GET', '/v1/memory?namespace=private', other);
    expect(list.json().items).toEqual([]);
    const mine = await call('GET', `/v1/memory/${f.id}`, reader);
    expect(mine.json()).toMatchObject({ importance: f.importance, version: 1 });
  });
});
