import { testImplementations } from '@aios/utils/testing';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient } from './llm/client.js';
import { createLuna, type Luna, MAX_QUESTION_CHARS } from './luna.js';
import { OFFLINE_LABEL } from './offline.js';
import { DEFAULT_TRAITS, LEARNING_BOUNDS } from './personality.js';
import { closedPort } from './testing/chat-server.js';
import { InMemoryConversationStore } from './testing/conversation-store.js';
import { InMemoryMemory } from './testing/memory.js';
import { useChatServer } from './testing/use-chat-server.js';
import { createTokenizer } from './tokens/index.js';

const FACTS = [
  'The Eiffel Tower is in Paris. It was completed in 1889 for the World Fair.',
  'Luna keeps her memories in CARMA. CARMA ranks fragments with hybrid lexical and vector search.',
  'The backup runs every night at 02:00. Snapshots older than 30 days are pruned.',
  'Mount Everest is 8849 metres high. It lies on the border of Nepal and China.',
  'Tea was first drunk in China. Green tea and black tea come from the same plant.',
  'The cat sleeps on the red sofa most afternoons. She ignores the dog.',
];

function memoryWithFacts(): InMemoryMemory {
  const memory = new InMemoryMemory();
  FACTS.forEach((text, i) => {
    memory.add(text, { id: `fact-${i + 1}` });
  });
  return memory;
}

const server = useChatServer();
let deadPort: number;
beforeAll(async () => {
  deadPort = await closedPort();
});

describe.each(testImplementations())('Luna (%s)', (impl) => {
  let memory: InMemoryMemory;
  let store: InMemoryConversationStore;
  let luna: Luna;
  const tokenizer = createTokenizer({ native: impl });
  const llm = () =>
    new ChatClient({
      baseUrl: server.baseUrl,
      model: 'test-model',
      timeoutMs: 1_000,
      maxRetries: 1,
      retryBaseMs: 5,
      retryMaxMs: 10,
      tokenizer,
    });

  beforeEach(() => {
    memory = memoryWithFacts();
    store = new InMemoryConversationStore();
    luna = createLuna({ memory, store, tokenizer, llm: llm(), contextWindow: 4096 });
  });

  it('runs the requested implementation', () => {
    expect(luna.implementation).toBe(impl);
  });

  it('answers through the LLM: retrieve, budget, prompt, generate, store', async () => {
    const answer = await luna.ask('When was the Eiffel Tower completed?');
    expect(answer.mode).toBe('llm');
    expect(answer.answer).toContain('When was the Eiffel Tower completed?');
    expect(answer.sources[0]?.id).toBe('fact-1');
    expect(answer.sources[0]?.score).toBeGreaterThan(0);
    expect(answer.needs.kind).toBe('short-fact');
    expect(answer.usage?.estimated).toBe(false);
    for (const step of ['retrieveMs', 'budgetMs', 'promptMs', 'generateMs', 'storeMs'] as const) {
      expect(answer.timings[step]).toBeGreaterThanOrEqual(0);
    }
    expect(answer.timings.totalMs).toBeGreaterThanOrEqual(answer.timings.generateMs);

    const sent = server.requests.find((r) => r.method === 'POST')?.body;
    expect(sent?.temperature).toBe(answer.settings.temperature);
    expect(sent?.max_tokens).toBe(answer.prompt.replyTokens);
    expect(sent?.messages?.[0]?.content).toContain('[1] The Eiffel Tower is in Paris.');

    const stored = await store.getExchange(answer.id);
    expect(stored).toMatchObject({ question: 'When was the Eiffel Tower completed?', mode: 'llm' });
    expect(stored?.answer).toBe(answer.answer);
    expect(await store.usage()).toEqual([
      expect.objectContaining({ exchangeId: answer.id, model: 'test-model', estimated: false }),
    ]);
    // The exchange became a memory of its own.
    expect(memory.size).toBe(FACTS.length + 1);
    const recalled = await memory.search('Eiffel Tower completed', { k: 10 });
    expect(recalled.find((f) => f.metadata?.exchangeId === answer.id)?.text).toBe(
      `Q: When was the Eiffel Tower completed?\nA: ${answer.answer}`,
    );
  });

  it('with recordExchanges false, answers as ever and stores nothing (a read-only home)', async () => {
    const recorded = await luna.ask('When was the Eiffel Tower completed?');
    const unchanged = memoryWithFacts();
    const empty = new InMemoryConversationStore();
    const readOnly = createLuna({
      memory: unchanged,
      store: empty,
      tokenizer,
      llm: llm(),
      contextWindow: 4096,
      recordExchanges: false,
    });
    const answer = await readOnly.ask('When was the Eiffel Tower completed?');
    expect(answer.mode).toBe('llm');
    expect(answer.answer).toBe(recorded.answer);
    expect(answer.sources.map((s) => s.id)).toEqual(recorded.sources.map((s) => s.id));
    expect(await empty.getExchange(answer.id)).toBeUndefined();
    expect(await empty.usage()).toEqual([]);
    expect(unchanged.size).toBe(FACTS.length); // not remembered either
  });

  it('gives each source its relevance, quote, line, text, snippet, namespace and metadata as retrieved; stores ids, scores and relevance', async () => {
    const note =
      'The garden hose hangs\nin the shed,   behind the door. It is green, 25 metres long, and has a brass nozzle.';
    const where = { source: '/notes/garden.md', line: 3, offset: 120 };
    memory.add(note, { id: 'hose', metadata: where });
    const offline = createLuna({ memory, store, tokenizer });
    for (const l of [luna, offline]) {
      const answer = await l.ask('Where does the garden hose hang?');
      expect(answer.grounded).toBe(true);
      expect(answer.relevance).toBe(1);
      expect(answer.sources[0]).toEqual({
        id: 'hose',
        score: expect.any(Number),
        relevance: 1,
        grounded: true,
        text: note,
        quote: 'The garden hose hangs in the shed, behind the door.',
        line: 3,
        snippet: 'The garden hose hangs in the shed, behind the door.',
        namespace: null,
        metadata: where,
      });
      const stored = await store.getExchange(answer.id);
      // What the answer showed of its source is kept with it.
      expect(stored?.sources[0]).toEqual({
        id: 'hose',
        score: answer.sources[0]?.score,
        relevance: 1,
        excerpt: 'The garden hose hangs in the shed, behind the door.',
        grounded: true,
        source: '/notes/garden.md',
        line: 3,
      });
    }
  });

  it("keeps a PDF fragment's line, its page, whatever sentence of it is quoted", async () => {
    const page = 'The pump was replaced in May.\n\nThe boiler pressure should read 1.5 bar.';
    const where = { source: '/docs/manual.pdf', line: 4, offset: 900, kind: 'pdf' };
    memory.add(page, { id: 'manual-p4', metadata: where });
    const answer = await luna.ask('What should the boiler pressure read?');
    expect(answer.sources[0]).toMatchObject({
      id: 'manual-p4',
      quote: 'The boiler pressure should read 1.5 bar.',
      line: 4,
    });
  });

  it('streams, and carries the conversation into the next prompt', async () => {
    const deltas: string[] = [];
    const first = await luna.ask('Where does the cat sleep?', {
      conversationId: 'c1',
      onDelta: (d) => deltas.push(d),
    });
    expect(deltas.join('')).toBe(first.answer);
    expect(deltas.length).toBeGreaterThan(2);
    const second = await luna.ask('And what does she ignore?', { conversationId: 'c1' });
    expect(second.prompt.history).toEqual([first.id]);
    const sent = server.requests.filter((r) => r.method === 'POST').at(-1)?.body;
    expect(sent?.messages?.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(sent?.messages?.[1]?.content).toBe('Where does the cat sleep?');
    const other = await luna.ask('Where does the cat sleep?', { conversationId: 'c2' });
    expect(other.prompt.history).toEqual([]);
  });

  it('answers offline from memory when no LLM is reachable, grounded and labelled', async () => {
    const offline = createLuna({
      memory,
      store,
      tokenizer,
      llm: new ChatClient({
        baseUrl: `http://127.0.0.1:${deadPort}/v1`,
        model: 'm',
        maxRetries: 0,
      }),
    });
    const answer = await offline.ask('How high is Mount Everest?');
    expect(answer.mode).toBe('offline');
    expect(answer.offlineReason).toMatch(/^LLM_UNREACHABLE/);
    expect(answer.answer.startsWith(OFFLINE_LABEL)).toBe(true);
    expect(answer.answer).toContain('Mount Everest is 8849 metres high. [1]');
    expect(answer.answer).not.toContain('Eiffel');
    expect(answer.sources).toEqual([
      {
        id: 'fact-4',
        score: expect.any(Number),
        relevance: 1,
        grounded: true,
        text: FACTS[3],
        quote: 'Mount Everest is 8849 metres high.',
        line: null,
        snippet: 'Mount Everest is 8849 metres high.',
        namespace: null,
        metadata: {},
      },
    ]);
    expect((await store.getExchange(answer.id))?.mode).toBe('offline');
    expect(await store.usage()).toEqual([]);
    expect(memory.size).toBe(FACTS.length);

    const different = await offline.ask('Which plant do green tea and black tea come from?');
    expect(different.answer).toContain('Green tea and black tea come from the same plant.');
    expect(different.sources[0]?.id).toBe('fact-5');

    const unknown = await offline.ask('What is the airspeed of a swallow?');
    expect(unknown.grounded).toBe(false);
    expect(unknown.sources).toEqual([]);
    expect(unknown.answer).toContain(
      'memory holds nothing that answers "What is the airspeed of a swallow?"',
    );
  });

  it('answers offline without an LLM configured', async () => {
    const bare = createLuna({ memory, store, tokenizer });
    const answer = await bare.ask('What does CARMA rank fragments with?');
    expect(answer.mode).toBe('offline');
    expect(answer.offlineReason).toBe('no language model configured');
    expect(answer.answer).toContain('hybrid lexical and vector search');
    const told = createLuna({ memory, store, tokenizer, offlineNote: 'Asked to stay offline' });
    const stayed = await told.ask('What does CARMA rank fragments with?');
    expect(stayed.answer).toMatch(/^\[offline\] Asked to stay offline; from memory: /);
    // Why it is offline is the reason given, not a model missing from the config.
    expect(stayed.offlineReason).toBe('asked to stay offline');
    expect(() => createLuna({ memory, store, tokenizer, offlineNote: ' ' })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });

  it.each([
    ['times out', { kind: 'hang' as const }, 'LLM_TIMEOUT'],
    ['returns malformed JSON', { kind: 'malformed' as const }, 'LLM_BAD_RESPONSE'],
    ['answers 500', { kind: 'status' as const, status: 500 }, 'LLM_SERVER_ERROR'],
    ['answers 429', { kind: 'status' as const, status: 429 }, 'LLM_RATE_LIMITED'],
  ])('falls back to an offline answer when the LLM %s', async (_, behaviour, code) => {
    for (let i = 0; i < 2; i++) server.queue.push(behaviour);
    const timed = createLuna({
      memory,
      store,
      tokenizer,
      llm: new ChatClient({
        baseUrl: server.baseUrl,
        model: 'test-model',
        timeoutMs: 150,
        maxRetries: 1,
        retryBaseMs: 5,
        retryMaxMs: 10,
      }),
    });
    const answer = await timed.ask('When is the nightly backup?');
    expect(answer.mode).toBe('offline');
    expect(answer.offlineReason?.startsWith(code)).toBe(true);
    expect(answer.answer).toContain('The backup runs every night at 02:00.');
    expect(await store.getExchange(answer.id)).toBeDefined();
  });

  it('falls back offline when the model returns an empty answer', async () => {
    server.queue.push({ kind: 'ok', content: '  ' });
    const answer = await luna.ask('Where is the Eiffel Tower?');
    expect(answer.mode).toBe('offline');
    expect(answer.offlineReason).toMatch(/^LLM_BAD_RESPONSE: the model returned an empty answer/);
    expect(answer.answer).toContain('The Eiffel Tower is in Paris.');
    expect(await store.usage()).toEqual([expect.objectContaining({ exchangeId: answer.id })]);
  });

  it('falls back offline when the stream closes mid-way', async () => {
    server.queue.push({ kind: 'stream-cut', afterChunks: 3 });
    const deltas: string[] = [];
    const answer = await luna.ask('Where is the Eiffel Tower?', { onDelta: (d) => deltas.push(d) });
    expect(deltas.length).toBeGreaterThan(0);
    expect(answer.mode).toBe('offline');
    expect(answer.offlineReason).toMatch(/^LLM_STREAM_INTERRUPTED/);
    expect(answer.answer).toContain('The Eiffel Tower is in Paris.');
  });

  it('rejects bad questions clearly and stores nothing', async () => {
    await expect(luna.ask('')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(luna.ask('   \n ')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(luna.ask(42 as unknown as string)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(luna.ask('x'.repeat(MAX_QUESTION_CHARS + 1))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining(`at most ${MAX_QUESTION_CHARS}`),
    });
    // Fits the character limit but not the context window.
    await expect(luna.ask(`${'word '.repeat(6000)}?`)).rejects.toMatchObject({
      code: 'LUNA_QUESTION_TOO_LONG',
    });
    const tiny = createLuna({ memory, store, tokenizer, llm: llm(), contextWindow: 100 });
    await expect(tiny.ask('Hello?')).rejects.toMatchObject({ code: 'LUNA_CONTEXT_TOO_SMALL' });
    const aborted = new AbortController();
    aborted.abort();
    await expect(luna.ask('Hello?', { signal: aborted.signal })).rejects.toMatchObject({
      code: 'LUNA_ABORTED',
    });
    expect(await store.recentExchanges('default', 100)).toEqual([]);
    expect(server.requests).toEqual([]);
  });

  it('cancels a running question and stores nothing', async () => {
    server.queue.push({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(
      luna.ask('Where is the cat?', { signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'LUNA_ABORTED',
    });
    expect(await store.recentExchanges('default', 10)).toEqual([]);
  });

  it('learns from feedback within bounds, reinforces the sources, and can undo it', async () => {
    const answer = await luna.ask('Tell me about tea in China');
    expect(await luna.traits()).toEqual(DEFAULT_TRAITS);
    const before = await luna.persona();
    const { feedback, traits } = await luna.feedback(answer.id, {
      rating: -1,
      text: 'Far too long, please be brief',
    });
    expect(traits.extraversion).toBeLessThan(DEFAULT_TRAITS.extraversion);
    expect(traits.neuroticism).toBeGreaterThan(DEFAULT_TRAITS.neuroticism);
    expect(feedback.reinforced).toEqual({ ids: answer.sources.map((s) => s.id), weight: -1 });
    const used = answer.sources[0]?.id ?? '';
    expect(memory.reinforcement(used)).toBe(-1);
    expect(await luna.traits()).toEqual(traits);

    // The new personality shapes the next answer: shorter budget.
    const next = await luna.ask('Tell me about tea in China');
    expect(next.settings.maxTokens).toBeLessThan(answer.settings.maxTokens);

    // Persisted: a new Luna on the same store has the learned traits.
    const again = createLuna({ memory, store, tokenizer });
    expect(await again.traits()).toEqual(traits);

    const history = await luna.personalityHistory();
    expect(history).toEqual([
      expect.objectContaining({
        cause: 'feedback',
        feedbackId: feedback.id,
        before: DEFAULT_TRAITS,
      }),
    ]);

    const undone = await luna.undoFeedback(feedback.id);
    expect(undone.traits).toEqual(DEFAULT_TRAITS);
    expect(undone.feedback).toMatchObject({ id: feedback.id, undone: true });
    expect(memory.reinforcement(used)).toBe(0);
    expect(await luna.persona()).toBe(before);
    expect((await store.getFeedback(feedback.id))?.undone).toBe(true);
    expect((await luna.personalityHistory()).map((c) => c.cause)).toEqual(['feedback', 'undo']);
    await expect(luna.undoFeedback(feedback.id)).rejects.toMatchObject({
      code: 'LUNA_ALREADY_UNDONE',
    });
  });

  it('undo without an id takes back the latest feedback in effect, newest first', async () => {
    const first = await luna.ask('Where is the Eiffel Tower?');
    const a = await luna.feedback(first.id, { rating: 1, text: 'more detail' });
    const second = await luna.ask('How high is Mount Everest?');
    const b = await luna.feedback(second.id, { rating: -1, text: 'too long' });
    expect(memory.reinforcement('fact-1')).toBe(1);
    expect(memory.reinforcement('fact-4')).toBe(-1);

    const undoB = await luna.undoFeedback();
    expect(undoB.feedback).toMatchObject({ id: b.feedback.id, rating: -1, undone: true });
    expect(typeof undoB.feedback.undoneAt).toBe('string');
    expect(undoB.traits).toEqual(a.traits);
    expect(await luna.traits()).toEqual(a.traits);
    expect(memory.reinforcement('fact-4')).toBe(0);
    expect(memory.reinforcement('fact-1')).toBe(1);

    const undoA = await luna.undoFeedback();
    expect(undoA.feedback.id).toBe(a.feedback.id);
    expect(undoA.traits).toEqual(DEFAULT_TRAITS);
    expect(memory.reinforcement('fact-1')).toBe(0);

    await expect(luna.undoFeedback()).rejects.toMatchObject({ code: 'LUNA_NOTHING_TO_UNDO' });
    await expect(luna.undoFeedback(a.feedback.id)).rejects.toMatchObject({
      code: 'LUNA_ALREADY_UNDONE',
    });
    await expect(luna.undoFeedback('')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await luna.feedbackHistory()).map((f) => [f.id, f.undone])).toEqual([
      [a.feedback.id, true],
      [b.feedback.id, true],
    ]);
    expect((await luna.personalityHistory()).map((c) => c.cause)).toEqual([
      'feedback',
      'feedback',
      'undo',
      'undo',
    ]);
  });

  it('takes a reinforcement back when a store without transactions fails to record it', async () => {
    const answer = await luna.ask('When does the backup run?');
    const used = answer.sources.map((s) => s.id);
    expect(used.length).toBeGreaterThan(0);
    vi.spyOn(store, 'recordFeedback').mockRejectedValueOnce(new Error('disk full'));
    await expect(luna.feedback(answer.id, { rating: 1 })).rejects.toThrow('disk full');
    for (const id of used) expect(memory.reinforcement(id)).toBe(0);
    expect(await luna.feedbackHistory()).toEqual([]);

    const { feedback } = await luna.feedback(answer.id, { rating: 1 });
    vi.spyOn(store, 'undoFeedback').mockRejectedValueOnce(new Error('disk full'));
    await expect(luna.undoFeedback(feedback.id)).rejects.toThrow('disk full');
    for (const id of used) expect(memory.reinforcement(id)).toBe(1);
    expect((await luna.feedbackHistory()).map((f) => f.undone)).toEqual([false]);
  });

  it('after feedback and its undo, Luna answers exactly as before the feedback', async () => {
    const question = 'When does the backup run?';
    // Each question in its own conversation, and no exchange remembered, so that neither
    // history nor memory differ.
    luna = createLuna({ memory, store, tokenizer, llm: llm(), rememberExchanges: false });
    const before = await luna.ask(question, { conversationId: 'a' });
    const persona = await luna.persona();
    const { feedback } = await luna.feedback(before.id, {
      rating: -1,
      text: 'too long and made up',
    });
    const during = await luna.ask(question, { conversationId: 'b' });
    expect(during.settings).not.toEqual(before.settings);
    expect(during.sources.map((s) => s.score)).not.toEqual(before.sources.map((s) => s.score));

    await luna.undoFeedback(feedback.id);
    const after = await luna.ask(question, { conversationId: 'c' });
    expect(after.settings).toEqual(before.settings);
    expect(after.sources).toEqual(before.sources);
    expect(after.needs).toEqual(before.needs);
    expect(after.prompt.promptTokens).toBe(before.prompt.promptTokens);
    expect(await luna.persona()).toBe(persona);
  });

  it('undoing an older feedback keeps the later ones', async () => {
    const answer = await luna.ask('Tell me about tea in China');
    const a = await luna.feedback(answer.id, { rating: 1, text: 'boring' });
    const b = await luna.feedback(answer.id, { rating: -1, text: 'too long' });
    const { traits } = await luna.undoFeedback(a.feedback.id);
    // a raised openness; b did not touch it: it is back where it started.
    expect(traits.openness).toBeCloseTo(DEFAULT_TRAITS.openness, 4);
    // b lowered extraversion: that stays.
    expect(traits.extraversion).toBeCloseTo(b.traits.extraversion, 4);
    expect((await luna.undoFeedback()).feedback.id).toBe(b.feedback.id);
  });

  it('never drifts to extremes under repeated feedback', async () => {
    const answer = await luna.ask('Where is the Eiffel Tower?');
    for (let i = 0; i < 60; i++) {
      await luna.feedback(answer.id, { rating: 1, text: 'great, but more creative and less cold' });
    }
    const traits = await luna.traits();
    for (const value of Object.values(traits)) {
      expect(value).toBeGreaterThanOrEqual(LEARNING_BOUNDS.min);
      expect(value).toBeLessThanOrEqual(LEARNING_BOUNDS.max);
    }
    expect(memory.reinforcement('fact-1')).toBe(60);
  });

  it('rejects bad feedback and unknown ids', async () => {
    const answer = await luna.ask('Where is the Eiffel Tower?');
    await expect(luna.feedback(answer.id, { rating: 2 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(luna.feedback(answer.id, { rating: Number.NaN })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(luna.feedback('nope', { rating: 1 })).rejects.toMatchObject({
      code: 'LUNA_NOT_FOUND',
    });
    await expect(luna.undoFeedback('nope')).rejects.toMatchObject({ code: 'LUNA_NOT_FOUND' });
    await expect(luna.setTraits({ ...DEFAULT_TRAITS, openness: -0.1 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(await luna.personalityHistory()).toEqual([]);
  });

  it('lets a person set traits explicitly, recorded in the history', async () => {
    const set = { ...DEFAULT_TRAITS, extraversion: 0.05, agreeableness: 0.2 };
    expect(await luna.setTraits(set)).toEqual(set);
    expect(await luna.persona()).toContain('Be brief and reserved');
    expect((await luna.personalityHistory())[0]).toMatchObject({ cause: 'set', after: set });
  });
});
