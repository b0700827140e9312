import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEngine,
  HashingEmbedder,
  type Memory,
  OpenAIEmbedder,
  openMemory,
} from '@aios/carma';
import { type DataStore, openDataStore } from '@aios/data';
import { type AiosConfig, AiosError, loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { carmaMemory } from './carma.js';
import { dataConversationStore } from './data.js';
import { ChatClient, chatClientOptionsFromConfig } from './llm/client.js';
import { OFFLINE_LABEL } from './offline.js';
import { type OpenedLuna, openLuna } from './open.js';
import { DEFAULT_TRAITS, type Traits } from './personality.js';
import { useChatServer } from './testing/use-chat-server.js';
import { carmaOptionsFromConfig, lunaOnCores } from './wire.js';

const FACTS = [
  'The Eiffel Tower is in Paris. It was completed in 1889 for the World Fair.',
  'The backup runs every night at 02:00. Snapshots older than 30 days are pruned.',
  'Mount Everest is 8849 metres high. It lies on the border of Nepal and China.',
  'Tea was first drunk in China. Green tea and black tea come from the same plant.',
  'The cat sleeps on the red sofa most afternoons. She ignores the dog.',
];

const server = useChatServer();

const expectTraitsClose = (actual: Traits, expected: Traits) => {
  for (const [name, value] of Object.entries(expected)) {
    expect(actual[name as keyof Traits]).toBeCloseTo(value, 9);
  }
};

describe.each(testImplementations())('Luna on CARMA and Data (%s)', (impl) => {
  let dir: string;
  let config: AiosConfig;
  const opened: OpenedLuna[] = [];
  const others: Array<DataStore | Memory> = [];

  const open = async () => {
    const luna = await openLuna({ config });
    opened.push(luna);
    return luna;
  };
  const carmaOf = (luna: OpenedLuna) => luna.carma;
  const dataOf = (luna: OpenedLuna) => luna.data;
  /** A Luna on cores a test opened itself. */
  const onCores = (data: DataStore, carma: Memory) =>
    lunaOnCores({
      config,
      data,
      carma,
      llm: new ChatClient(chatClientOptionsFromConfig(config.luna.llm)),
    });

  /** Opens, seeds CARMA with the facts, and returns Luna. */
  const openSeeded = async () => {
    const luna = await open();
    await carmaOf(luna).addMany(FACTS);
    return luna;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'luna-cores-'));
    config = loadConfig({
      cwd: dir,
      env: { AIOS_HOME: dir },
      overrides: {
        native: impl,
        luna: {
          llm: { baseUrl: server.baseUrl, model: 'test-model', timeoutMs: 10_000, maxRetries: 0 },
          contextWindow: 4096,
        },
      },
    }).config;
  });
  afterEach(async () => {
    for (const luna of opened.splice(0)) await luna.close();
    for (const other of others.splice(0).reverse()) await other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens CARMA and the SQLite store from the config', async () => {
    const luna = await open();
    expect(dataOf(luna).path).toBe(config.data.path);
    expect(config.data.path).toBe(join(dir, 'aios.db'));
    expect(carmaOf(luna).stats().location).toContain(join(dir, 'carma'));
    expect(luna.data?.implementation).toBe(impl);
    expect(luna.carma?.implementation).toBe(impl);
    expect(luna.implementation).toBe(impl);
    await luna.close();
    await luna.close(); // a second close does nothing
    await expect(luna.carma?.search('tea', { k: 1 }) as Promise<unknown>).rejects.toMatchObject({
      code: 'MEMORY_CLOSED',
    });
  });

  it('closes the cores it opened when the options are bad', async () => {
    await expect(openLuna({ config, contextWindow: 0 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    // Nothing is left open: the store and the memory open again at once.
    const luna = await open();
    expect(await luna.traits()).toEqual(DEFAULT_TRAITS);
  });

  it('answers with sources that are real CARMA fragment ids, and remembers the exchange', async () => {
    const luna = await openSeeded();
    const carma = carmaOf(luna);
    const answer = await luna.ask('When does the backup run?');
    expect(answer.mode).toBe('llm');
    expect(answer.sources.length).toBeGreaterThan(0);
    for (const source of answer.sources) {
      expect(await carma.get(source.id)).toBeDefined();
      expect(Number.isFinite(source.score)).toBe(true);
    }
    const top = await carma.get(answer.sources[0]?.id as string);
    expect(top?.text).toContain('backup runs every night');
    // The prompt cited the CARMA fragments.
    expect(server.requests[0]?.body.messages?.[0]?.content).toContain('02:00');
    // The exchange became a memory, with its provenance.
    const remembered = await carma.list({ filter: { exchangeId: answer.id } });
    expect(remembered).toHaveLength(1);
    expect(remembered[0]?.namespace).toBe('luna');
    expect(remembered[0]?.metadata).toMatchObject({
      source: 'luna',
      kind: 'exchange',
      conversationId: answer.conversationId,
    });
    expect(remembered[0]?.text).toContain('When does the backup run?');
  });

  it('persists the exchange and its usage in SQLite, across a reopen', async () => {
    let luna = await openSeeded();
    const answer = await luna.ask('When does the backup run?', { conversationId: 'chat-1' });
    const usage = answer.usage;
    expect(usage).toBeDefined();
    await luna.close();

    luna = await open();
    const data = dataOf(luna);
    const messages = await data.messages.list('chat-1');
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[0]?.content).toBe('When does the backup run?');
    expect(messages[1]?.content).toBe(answer.answer);
    expect(messages[1]?.model).toBe('test-model');
    expect(messages[1]?.promptTokens).toBe(usage?.promptTokens);
    expect(messages[1]?.completionTokens).toBe(usage?.completionTokens);
    const conversation = await data.conversations.get('chat-1');
    expect(conversation?.metadata).toEqual({ agent: 'luna' });
    const perModel = await data.analytics.tokensPerModel();
    expect(perModel.filter((row) => row.model !== null)).toEqual([
      expect.objectContaining({
        model: 'test-model',
        promptTokens: usage?.promptTokens,
        completionTokens: usage?.completionTokens,
      }),
    ]);

    const store = dataConversationStore(data);
    const exchange = await store.getExchange(answer.id);
    expect(exchange).toMatchObject({
      id: answer.id,
      conversationId: 'chat-1',
      question: 'When does the backup run?',
      answer: answer.answer,
      mode: 'llm',
      sources: answer.sources.map(({ id, score }) => ({ id, score })),
      model: 'test-model',
      settings: answer.settings,
    });
    expect(await store.usage()).toEqual([
      expect.objectContaining({ exchangeId: answer.id, model: 'test-model', ...usage }),
    ]);

    // The reopened Luna continues the conversation with the stored turn.
    const next = await luna.ask('And how long are snapshots kept?', { conversationId: 'chat-1' });
    expect(next.prompt.history).toEqual([answer.id]);
    expect(await data.messages.list('chat-1')).toHaveLength(4);
    expect((await store.recentExchanges('chat-1', 1)).map((e) => e.id)).toEqual([next.id]);
  });

  it('feedback reinforces the fragments used and nudges the personality; undo restores both, across reopens', async () => {
    let luna = await openSeeded();
    const answer = await luna.ask('When does the backup run?');
    const ids = answer.sources.map((s) => s.id);
    const importance = (l: OpenedLuna) =>
      Promise.all(ids.map(async (id) => (await carmaOf(l).get(id))?.importance));
    const before = await importance(luna);
    expect(before.every((v) => v === 0.5)).toBe(true);

    const { feedback, traits } = await luna.feedback(answer.id, {
      rating: -1,
      text: 'too long, and made up',
    });
    expect(feedback.reinforced.ids).toEqual(ids);
    expect(traits).not.toEqual(DEFAULT_TRAITS);
    expect(traits.extraversion).toBeLessThan(DEFAULT_TRAITS.extraversion);
    for (const v of await importance(luna)) expect(v).toBeCloseTo(0.4, 9);
    for (const id of ids) {
      expect((await carmaOf(luna).history(id)).at(-1)?.kind).toBe('reinforce');
    }
    await luna.close();

    luna = await open();
    expectTraitsClose(await luna.traits(), traits);
    for (const v of await importance(luna)) expect(v).toBeCloseTo(0.4, 9);
    const history = await luna.personalityHistory();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ cause: 'feedback', feedbackId: feedback.id });
    // The versions are the data store's personality states.
    expect(await dataOf(luna).personality.history('luna')).toHaveLength(1);

    const restored = await luna.undoFeedback(feedback.id);
    expectTraitsClose(restored.traits, DEFAULT_TRAITS);
    for (const v of await importance(luna)) expect(v).toBeCloseTo(0.5, 9);
    await expect(luna.undoFeedback(feedback.id)).rejects.toMatchObject({
      code: 'LUNA_ALREADY_UNDONE',
    });
    await luna.close();

    luna = await open();
    expectTraitsClose(await luna.traits(), DEFAULT_TRAITS);
    for (const v of await importance(luna)) expect(v).toBeCloseTo(0.5, 9);
    expect((await luna.personalityHistory()).map((c) => c.cause)).toEqual(['feedback', 'undo']);
    const stored = await dataConversationStore(dataOf(luna)).getFeedback(feedback.id);
    expect(stored).toMatchObject({ id: feedback.id, rating: -1, undone: true });
    await expect(luna.undoFeedback(feedback.id)).rejects.toMatchObject({
      code: 'LUNA_ALREADY_UNDONE',
    });
  });

  it('undo without an id takes back the latest feedback, across reopens: answers as before', async () => {
    // Exchanges are not remembered here, so that memory changes only by the feedback.
    const quiet = async () => {
      const luna = await openLuna({ config, rememberExchanges: false });
      opened.push(luna);
      return luna;
    };
    const question = 'When does the backup run?';
    let luna = await quiet();
    await carmaOf(luna).addMany(FACTS);
    const before = await luna.ask(question, { conversationId: 'a' });
    const { feedback } = await luna.feedback(before.id, { rating: 1, text: 'more detail' });
    const during = await luna.ask(question, { conversationId: 'b' });
    expect(during.sources[0]?.score).toBeGreaterThan(before.sources[0]?.score ?? 0);
    expect(during.settings).not.toEqual(before.settings);
    await luna.close();

    luna = await quiet();
    const undone = await luna.undoFeedback();
    expect(undone.feedback).toMatchObject({ id: feedback.id, undone: true });
    expect(undone.traits).toEqual(DEFAULT_TRAITS);
    for (const s of before.sources)
      expect((await carmaOf(luna).get(s.id))?.importance).toBeCloseTo(0.5, 9);
    const after = await luna.ask(question, { conversationId: 'c' });
    expect(after.settings).toEqual(before.settings);
    expect(after.sources.map((s) => s.id)).toEqual(before.sources.map((s) => s.id));
    after.sources.forEach((s, i) => {
      expect(s.score).toBeCloseTo(before.sources[i]?.score ?? Number.NaN, 9);
    });
    await expect(luna.undoFeedback()).rejects.toMatchObject({ code: 'LUNA_NOTHING_TO_UNDO' });
    await luna.close();

    luna = await quiet();
    expect((await luna.feedbackHistory()).map((f) => [f.id, f.undone])).toEqual([
      [feedback.id, true],
    ]);
    await expect(luna.undoFeedback()).rejects.toMatchObject({ code: 'LUNA_NOTHING_TO_UNDO' });
    await expect(luna.undoFeedback('no-such-feedback')).rejects.toMatchObject({
      code: 'LUNA_NOT_FOUND',
    });
  });

  it('undo takes back exactly what CARMA applied when importance hit its cap', async () => {
    const luna = await openSeeded();
    const carma = carmaOf(luna);
    // Two fragments hold the answer, so the answer uses both.
    const answer = await luna.ask('What is in China?');
    expect(answer.sources).toHaveLength(2);
    const [top, other] = answer.sources.map((s) => s.id) as [string, string];
    await carma.update(top, { importance: 0.95 });
    const { feedback } = await luna.feedback(answer.id, { rating: 1 });
    expect((await carma.get(top))?.importance).toBe(1);
    expect((await carma.get(other))?.importance).toBeCloseTo(0.6, 9);
    expect(feedback.reinforced.applied?.[top]).toBeCloseTo(0.5, 9);
    expect(feedback.reinforced.applied?.[other]).toBeCloseTo(1, 9);
    await luna.undoFeedback(feedback.id);
    expect((await carma.get(top))?.importance).toBeCloseTo(0.95, 9);
    expect((await carma.get(other))?.importance).toBeCloseTo(0.5, 9);
  });

  it('feedback still works when a fragment the answer used was deleted since', async () => {
    const luna = await openSeeded();
    const answer = await luna.ask('When does the backup run?');
    const [gone, ...kept] = answer.sources.map((s) => s.id);
    await carmaOf(luna).delete(gone as string);
    await luna.feedback(answer.id, { rating: 1 });
    for (const id of kept) expect((await carmaOf(luna).get(id))?.importance).toBeCloseTo(0.6, 9);
  });

  it('an LLM failure gives the offline answer from CARMA and stores one whole exchange', async () => {
    const luna = await openSeeded();
    const carma = carmaOf(luna);
    const data = dataOf(luna);
    const size = carma.size;

    server.queue.push({ kind: 'status', status: 500 });
    const failed = await luna.ask('When does the backup run?', { conversationId: 'c' });
    expect(failed.mode).toBe('offline');
    expect(failed.offlineReason).toMatch(/^LLM_SERVER_ERROR/);
    expect(failed.answer.startsWith(OFFLINE_LABEL)).toBe(true);
    expect(failed.answer).toContain('02:00');
    expect(failed.sources.length).toBeGreaterThan(0);
    for (const s of failed.sources) expect(await carma.get(s.id)).toBeDefined();

    // A stream cut mid-way: the partial text is not stored, the offline answer is.
    server.queue.push({ kind: 'stream-cut', afterChunks: 2 });
    const deltas: string[] = [];
    const cut = await luna.ask('How high is Mount Everest?', {
      conversationId: 'c',
      onDelta: (t) => deltas.push(t),
    });
    expect(cut.mode).toBe('offline');
    expect(cut.answer).toContain('8849');

    const messages = await data.messages.list('c');
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'When does the backup run?'],
      ['assistant', failed.answer],
      ['user', 'How high is Mount Everest?'],
      ['assistant', cut.answer],
    ]);
    expect(messages.every((m) => m.promptTokens === 0 && m.completionTokens === 0)).toBe(true);
    expect(await dataConversationStore(data).usage()).toEqual([]);
    expect(carma.size).toBe(size); // offline answers are not remembered
    expect(await data.integrityCheck()).toBe('ok');
  });

  it('an exchange the store refuses leaves neither half of it, nor a memory', async () => {
    const path = join(dir, 'small.db');
    const small = await openDataStore({ path, native: impl, maxRowBytes: 4096 });
    others.push(small);
    const carma = await openMemory({
      ...carmaOptionsFromConfig(config),
      dir: join(dir, 'small-carma'),
      data: small,
    });
    others.push(carma);
    const luna = onCores(small, carma);
    await carma.addMany(FACTS);
    const size = carma.size;

    // The question fits a row, the answer does not: the batch is refused whole.
    server.queue.push({ kind: 'ok', content: 'word '.repeat(2_000) });
    await expect(luna.ask('When does the backup run?')).rejects.toMatchObject({
      code: 'DATA_ROW_TOO_LARGE',
    });
    expect(await small.messages.count()).toBe(0);
    expect(carma.size).toBe(size);

    const ok = await luna.ask('When does the backup run?');
    expect(ok.mode).toBe('llm');
    expect((await small.messages.list(ok.conversationId)).map((m) => m.role)).toEqual([
      'user',
      'assistant',
    ]);
    expect(ok.prompt.history).toEqual([]); // the refused exchange is not history
  });

  it('answers from memory when the LLM and a remote embedder are both down', async () => {
    // A real OpenAIEmbedder whose transport serves the built-in embeddings, then fails as a
    // stopped model server does.
    const hashing = new HashingEmbedder(createEngine({ native: impl }), 64);
    let down = false;
    const embedder = new OpenAIEmbedder({
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'embed',
      retries: 0,
      fetch: (async (_url: string, init: { body: string }) => {
        if (down) throw new TypeError('fetch failed');
        const { input } = JSON.parse(init.body) as { input: string[] };
        const matrix = await hashing.embed(input);
        const data = input.map((_, i) => ({
          index: i,
          embedding: Array.from(matrix.subarray(i * 64, (i + 1) * 64)),
        }));
        return new Response(JSON.stringify({ data }), { status: 200 });
      }) as unknown as typeof fetch,
    });
    const data = await openDataStore({ path: join(dir, 'remote.db'), native: impl });
    others.push(data);
    const memory = await openMemory({ dir: join(dir, 'remote'), data, embedder, native: impl });
    others.push(memory);
    const luna = onCores(data, memory);
    await memory.addMany(FACTS);
    const up = await luna.ask('When does the backup run?', { conversationId: 'c' });
    expect(up.mode).toBe('llm');
    expect(up.rememberError).toBeUndefined();

    down = true;
    server.queue.push({ kind: 'status', status: 500 });
    const offline = await luna.ask('How high is Mount Everest?', { conversationId: 'c' });
    expect(offline.mode).toBe('offline');
    expect(offline.answer).toContain('8849');
    expect(offline.sources.length).toBeGreaterThan(0);

    // The LLM answers but the memory cannot embed the exchange: the answer is kept.
    const kept = await luna.ask('Where is the Eiffel Tower?', { conversationId: 'c' });
    expect(kept.mode).toBe('llm');
    expect(kept.rememberError).toMatch(/^EMBEDDER_FAILED/);
    expect(await data.messages.list('c')).toHaveLength(6);
  });

  it('keeps personality and memory across close and reopen', async () => {
    let luna = await openSeeded();
    const set: Traits = {
      openness: 0.3,
      conscientiousness: 0.8,
      extraversion: 0.2,
      agreeableness: 0.6,
      neuroticism: 0.4,
    };
    await luna.setTraits(set);
    const first = await luna.ask('Where is the Eiffel Tower?');
    const size = carmaOf(luna).size;
    const persona = await luna.persona();
    await luna.close();

    luna = await open();
    expect(await luna.traits()).toEqual(set);
    expect(await luna.persona()).toBe(persona);
    expect(carmaOf(luna).size).toBe(size);
    // The remembered exchange is found again by the reopened memory.
    const again = await luna.ask('What did I ask about the Eiffel Tower?');
    const remembered = (await carmaOf(luna).list({ filter: { exchangeId: first.id } }))[0];
    expect(again.sources.map((s) => s.id)).toContain(remembered?.id);
    // A state saved under the same name by another writer is not taken for Luna's.
    await dataOf(luna).personality.save('luna', { warmth: 0.9 });
    expect(await dataConversationStore(dataOf(luna)).loadPersonality()).toEqual(set);
    expect(await dataConversationStore(dataOf(luna)).personalityHistory()).toHaveLength(1);
  });

  it('carmaMemory checks its input and maps reinforcement onto importance', async () => {
    const luna = await openSeeded();
    const carma = carmaOf(luna);
    expect(() => carmaMemory(carma, { mode: 'fuzzy' as never })).toThrow(/mode/);
    expect(() => carmaMemory(carma, { reinforceStep: 0 })).toThrow(/reinforceStep/);
    const memory = carmaMemory(carma, { mode: 'lexical', reinforceStep: 0.25 });
    const found = await memory.search('Everest metres', { k: 2 });
    expect(found[0]?.text).toContain('Everest');
    await expect(memory.search('tea', { k: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await memory.search('   ', { k: 3 })).toEqual([]);
    const result = await memory.reinforce([found[0]?.id as string, 'no-such-id'], 1);
    expect(Object.keys(result?.applied ?? {})).toEqual([found[0]?.id]);
    expect((await carma.get(found[0]?.id as string))?.importance).toBeCloseTo(0.75, 9);
    await memory.reinforce([found[0]?.id as string], -1);
    expect((await carma.get(found[0]?.id as string))?.importance).toBeCloseTo(0.5, 9);
    const id = await (memory.remember as NonNullable<typeof memory.remember>)('A new note.', {
      nested: { a: 1 },
    });
    expect((await carma.get(id))?.metadata).toMatchObject({ source: 'luna', nested: '{"a":1}' });
  });

  it('a feedback, or an undo, whose second half fails leaves nothing in the database', async () => {
    let luna = await openSeeded();
    const answer = await luna.ask('When does the backup run?');
    const ids = answer.sources.map((s) => s.id);
    /** What a feedback changes in the database. */
    const stored = async (l: OpenedLuna) => ({
      history: await Promise.all(ids.map(async (id) => (await l.carma.history(id)).length)),
      changes: await l.data.fragments.latestChange(),
      feedback: await l.data.feedback.list(),
      versions: (await l.data.personality.history('luna')).length,
    });
    const importance = (l: OpenedLuna) =>
      Promise.all(ids.map(async (id) => (await l.carma.get(id))?.importance));
    /** The personality version, the last write of a feedback and of an undo, fails once. */
    const failNextSave = (l: OpenedLuna) =>
      vi
        .spyOn(l.data.personality, 'save')
        .mockRejectedValueOnce(new AiosError('DATA_SQLITE', 'disk I/O error'));

    const before = { stored: await stored(luna), importance: await importance(luna) };
    failNextSave(luna);
    await expect(luna.feedback(answer.id, { rating: 1, text: 'great' })).rejects.toMatchObject({
      code: 'DATA_SQLITE',
    });
    expect(await stored(luna)).toEqual(before.stored);
    expect(await luna.traits()).toEqual(DEFAULT_TRAITS);
    await luna.close();
    luna = await open();
    expect(await importance(luna)).toEqual(before.importance);

    // The same for an undo, after a feedback that went through.
    const { feedback } = await luna.feedback(answer.id, { rating: 1, text: 'great' });
    const given = { stored: await stored(luna), importance: await importance(luna) };
    expect(given.stored.feedback).toHaveLength(1);
    failNextSave(luna);
    await expect(luna.undoFeedback(feedback.id)).rejects.toMatchObject({ code: 'DATA_SQLITE' });
    expect(await stored(luna)).toEqual(given.stored);
    await luna.close();
    luna = await open();
    expect(await importance(luna)).toEqual(given.importance);
    expect((await luna.undoFeedback()).feedback.id).toBe(feedback.id);
  });

  it('after a feedback rolled back, CARMA holds what the database holds, and builds on it', async () => {
    const luna = await openSeeded();
    const answer = await luna.ask('When does the backup run?');
    const ids = answer.sources.map((s) => s.id);
    vi.spyOn(luna.data.personality, 'save').mockRejectedValueOnce(
      new AiosError('DATA_SQLITE', 'disk I/O error'),
    );
    await expect(luna.feedback(answer.id, { rating: 1 })).rejects.toMatchObject({
      code: 'DATA_SQLITE',
    });
    for (const id of ids) expect((await luna.carma.get(id))?.importance).toBe(0.5);
    // The next feedback starts from 0.5, not from the rolled-back 0.6.
    await luna.feedback(answer.id, { rating: 1 });
    for (const id of ids) expect((await luna.carma.get(id))?.importance).toBeCloseTo(0.6, 9);
    await luna.close();
    const again = await open();
    for (const id of ids) expect((await again.carma.get(id))?.importance).toBeCloseTo(0.6, 9);
  });

  it("keeps feedback in the store's feedback table, on its answer; an undo takes the row back", async () => {
    const luna = await openSeeded();
    const data = dataOf(luna);
    const answer = await luna.ask('When does the backup run?', { conversationId: 'chat-9' });
    const { feedback } = await luna.feedback(answer.id, { rating: -0.5, text: 'too long' });
    const reply = (await data.messages.byExchange(answer.id)).find((m) => m.role === 'assistant');
    expect(await data.feedback.list()).toEqual([
      expect.objectContaining({
        conversationId: 'chat-9',
        messageId: reply?.id,
        rating: 2, // 3 + 2 * -0.5 on the store's 1-5 scale
        comment: 'too long',
        metadata: { luna: { feedbackId: feedback.id, exchangeId: answer.id, rating: -0.5 } },
      }),
    ]);
    expect(await data.analytics.feedbackSummary()).toMatchObject({ count: 1, average: 2 });
    await luna.undoFeedback();
    expect(await data.feedback.list()).toEqual([]);
    expect((await luna.feedbackHistory()).map((f) => f.undone)).toEqual([true]);
  });

  it('finds an exchange another process wrote, with one indexed lookup', async () => {
    const luna = await openSeeded();
    const data = dataOf(luna);
    const template = await luna.ask('When does the backup run?');
    // Luna looked an exchange up before the other writer came.
    await expect(luna.feedback('written-elsewhere', { rating: 1 })).rejects.toMatchObject({
      code: 'LUNA_NOT_FOUND',
    });
    // Another process: a second store on the same file. (The js implementation holds the
    // file alone: there, another adapter of the same store plays the other process.)
    const other = impl === 'native' ? await openDataStore({ path: config.data.path }) : data;
    if (other !== data) others.push(other);
    const fragment = (await carmaOf(luna).list())[0];
    const base = await dataConversationStore(data).getExchange(template.id);
    await dataConversationStore(other).recordExchange({
      ...(base as NonNullable<typeof base>),
      id: 'written-elsewhere',
      conversationId: 'elsewhere',
      sources: [{ id: fragment?.id as string, score: 1 }],
    });

    const scans = [vi.spyOn(data.messages, 'list'), vi.spyOn(data.conversations, 'list')];
    const { feedback } = await luna.feedback('written-elsewhere', { rating: 1 });
    expect(feedback.reinforced.ids).toEqual([fragment?.id]);
    expect((await carmaOf(luna).get(fragment?.id as string))?.importance).toBeCloseTo(0.6, 9);
    for (const scan of scans) expect(scan).not.toHaveBeenCalled();
  });

  it('dataConversationStore reports unknown ids', async () => {
    const luna = await open();
    const store = dataConversationStore(dataOf(luna));
    expect(await store.getExchange('nope')).toBeUndefined();
    expect(await store.getFeedback('nope')).toBeUndefined();
    expect(await store.recentExchanges('nope', 5)).toEqual([]);
    expect(await store.loadPersonality()).toBeUndefined();
    await expect(luna.feedback('nope', { rating: 1 })).rejects.toMatchObject({
      code: 'LUNA_NOT_FOUND',
    });
    await expect(luna.undoFeedback('nope')).rejects.toMatchObject({ code: 'LUNA_NOT_FOUND' });
  });
});
