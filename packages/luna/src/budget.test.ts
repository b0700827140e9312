import { testImplementations } from '@aios/utils/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assemblePrompt,
  classifyQuestion,
  MESSAGE_OVERHEAD,
  REPLY_BUDGETS,
  REPLY_PRIMING,
} from './budget.js';
import type { MemoryFragment } from './memory.js';
import { DEFAULT_TRAITS, systemPrompt } from './personality.js';
import { createTokenizer, type Tokenizer } from './tokens/index.js';

describe('classifyQuestion', () => {
  it.each([
    ['What is the capital of France?', 'short-fact'],
    ['When was the backup made?', 'short-fact'],
    ['How many fragments do I have?', 'short-fact'],
    ['Paris?', 'short-fact'],
    ['Why does the sky look blue?', 'explanation'],
    ['How does BM25 ranking work?', 'explanation'],
    ['Explain the difference between TCP and UDP', 'explanation'],
    ['Write a detailed guide to setting up a home backup plan', 'long-form'],
    ['Draft an essay about memory and forgetting', 'long-form'],
    ['Give me a step-by-step plan to learn Rust', 'long-form'],
  ] as const)('%s -> %s', (question, kind) => {
    const needs = classifyQuestion(question);
    expect(needs.kind).toBe(kind);
    expect(needs.replyTokens).toBe(REPLY_BUDGETS[kind]);
    expect(needs.reason).not.toBe('');
  });

  it('gives longer budgets to bigger needs', () => {
    expect(REPLY_BUDGETS['short-fact']).toBeLessThan(REPLY_BUDGETS.explanation);
    expect(REPLY_BUDGETS.explanation).toBeLessThan(REPLY_BUDGETS['long-form']);
  });
});

const fragment = (id: string, score: number, text: string): MemoryFragment => ({ id, score, text });
const filler = (n: number, word: string) =>
  Array.from({ length: n }, (_, i) => `${word}${i}`).join(' ');

describe.each(testImplementations())('assemblePrompt (%s)', (impl) => {
  let tokenizer: Tokenizer;
  const persona = systemPrompt(DEFAULT_TRAITS);
  beforeAll(() => {
    tokenizer = createTokenizer({ native: impl });
  });

  const exact = (messages: { content: string }[]) =>
    REPLY_PRIMING +
    messages.length * MESSAGE_OVERHEAD +
    messages.reduce((sum, m) => sum + tokenizer.count(m.content), 0);

  it('puts everything in when it fits, best fragment first', () => {
    const prompt = assemblePrompt({
      tokenizer,
      contextWindow: 8192,
      replyTokens: 500,
      persona,
      question: 'Where is the cat?',
      fragments: [fragment('b', 1, 'The dog sleeps.'), fragment('a', 3, 'The cat is on the mat.')],
      history: [{ id: 'h1', question: 'Hi', answer: 'Hello!' }],
    });
    expect(prompt.fragments.map((f) => f.id)).toEqual(['a', 'b']);
    expect(prompt.history).toEqual(['h1']);
    expect(prompt.omitted).toEqual([]);
    expect(prompt.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(prompt.messages[0]?.content).toContain(
      '[1] The cat is on the mat.\n[2] The dog sleeps.',
    );
    expect(prompt.messages.at(-1)?.content).toBe('Where is the cat?');
    expect(prompt.promptTokens).toBe(exact(prompt.messages));
    expect(prompt.replyTokens).toBe(500);
  });

  it('drops the least relevant parts first to fit the window and reports them', () => {
    const fragments = Array.from({ length: 12 }, (_, i) =>
      fragment(`f${i}`, 12 - i, `Fragment ${i}: ${filler(120, 'word')}`),
    );
    const history = Array.from({ length: 5 }, (_, i) => ({
      id: `h${i}`,
      question: `Earlier question ${i}?`,
      answer: filler(100, 'answer'),
    }));
    const contextWindow = 2048;
    const prompt = assemblePrompt({
      tokenizer,
      contextWindow,
      replyTokens: 500,
      persona,
      question: 'What do the fragments say?',
      fragments,
      history,
    });
    expect(prompt.promptTokens).toBe(exact(prompt.messages));
    expect(prompt.promptTokens + prompt.replyTokens).toBeLessThanOrEqual(contextWindow);
    expect(prompt.replyTokens).toBeGreaterThanOrEqual(32);
    // Kept fragments are a prefix of the ranking; the omitted ones are the least relevant.
    const kept = prompt.fragments.map((f) => f.id);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(fragments.slice(0, kept.length).map((f) => f.id));
    const omittedFragments = prompt.omitted.filter((p) => p.kind === 'fragment').map((p) => p.id);
    expect(omittedFragments.length).toBeGreaterThan(0);
    expect([...kept, ...omittedFragments].sort()).toEqual(fragments.map((f) => f.id).sort());
    // The newest turns survive before older ones.
    if (prompt.history.length > 0) expect(prompt.history.at(-1)).toBe('h4');
    expect(prompt.omitted.some((p) => p.id === 'h0')).toBe(true);
    for (const part of prompt.omitted) expect(part.tokens).toBeGreaterThan(0);
  });

  it('truncates a fragment that does not fit whole', () => {
    const long = fragment('long', 5, `Start of the long fragment. ${filler(3000, 'token')}`);
    const prompt = assemblePrompt({
      tokenizer,
      contextWindow: 1024,
      replyTokens: 150,
      persona,
      question: 'What is in the long fragment?',
      fragments: [long],
    });
    expect(prompt.fragments).toEqual([expect.objectContaining({ id: 'long', truncated: true })]);
    expect(prompt.truncated[0]).toMatchObject({ id: 'long' });
    expect(prompt.truncated[0]?.toTokens).toBeLessThan(prompt.truncated[0]?.fromTokens ?? 0);
    expect(prompt.messages[0]?.content).toContain('[1] Start of the long fragment.');
    expect(prompt.promptTokens + prompt.replyTokens).toBeLessThanOrEqual(1024);
  });

  it('fails clearly when the window cannot hold the persona, or the question', () => {
    expect(() =>
      assemblePrompt({ tokenizer, contextWindow: 60, replyTokens: 100, persona, question: 'Hi?' }),
    ).toThrow(expect.objectContaining({ code: 'LUNA_CONTEXT_TOO_SMALL' }));
    expect(() =>
      assemblePrompt({
        tokenizer,
        contextWindow: 1024,
        replyTokens: 100,
        persona,
        question: filler(2000, 'q'),
      }),
    ).toThrow(expect.objectContaining({ code: 'LUNA_QUESTION_TOO_LONG' }));
    expect(() =>
      assemblePrompt({ tokenizer, contextWindow: 0, replyTokens: 1, persona, question: 'x' }),
    ).toThrow(/contextWindow/);
  });
});
