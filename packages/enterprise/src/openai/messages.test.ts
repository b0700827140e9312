import { describe, expect, it } from 'vitest';
import { readConversation } from './messages.js';

describe('an OpenAI messages array as Luna reads it', () => {
  it('splits instructions, turns and the question', () => {
    expect(
      readConversation([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
        { role: 'user', content: 'How tall is the tree?' },
      ]),
    ).toEqual({
      instructions: ['Be brief.', 'Use metric units.'],
      history: [{ question: 'Hi', answer: 'Hello!' }],
      question: 'How tall is the tree?',
      opening: 'Hi',
    });
  });

  it('joins consecutive messages of one side, and keeps a turn the assistant opened', () => {
    const read = readConversation([
      { role: 'assistant', content: 'Welcome back.' },
      { role: 'user', content: 'One.' },
      { role: 'user', content: 'Two.' },
      { role: 'assistant', content: 'A.' },
      { role: 'assistant', content: null, tool_calls: [] },
      { role: 'assistant', content: 'B.' },
      { role: 'user', content: 'Three.' },
      { role: 'user', content: [{ type: 'text', text: 'Four?' }] },
    ]);
    expect(read.history).toEqual([
      { question: '', answer: 'Welcome back.' },
      { question: 'One.\n\nTwo.', answer: 'A.\n\nB.' },
    ]);
    expect(read.question).toBe('Three.\n\nFour?');
    expect(read.opening).toBe('One.');
  });

  it('refuses what it cannot read, naming the field', () => {
    const refusal = (messages: Parameters<typeof readConversation>[0]) => {
      try {
        readConversation(messages);
      } catch (error) {
        return (error as { code: string; details: { param: string } }).details.param;
      }
      return 'accepted';
    };
    expect(refusal([])).toBe('messages');
    expect(refusal([{ role: 'user', content: '   ' }])).toBe('messages[0].content');
    expect(refusal([{ role: 'user' }])).toBe('messages[0].content');
    expect(
      refusal([
        { role: 'user', content: 'q' },
        { role: 'function', content: 'x' },
      ]),
    ).toBe('messages[1].role');
    expect(refusal([{ role: 'system', content: 'only instructions' }])).toBe('messages');
    expect(
      refusal([{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'input_audio' }] }]),
    ).toBe('messages[0].content[1]');
  });
});
