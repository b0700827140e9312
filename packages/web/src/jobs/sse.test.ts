import { describe, expect, it } from 'vitest';
import { EventStreamParser } from './sse';

describe('the event-stream parser', () => {
  it('gives whole events only, across chunk boundaries', () => {
    const parser = new EventStreamParser();
    expect(parser.push('event: job\ndata: {"a"')).toEqual([]);
    expect(parser.push(':1}\n\nevent: end\r\ndata: {"b":2}\r\n\r\n')).toEqual([
      { event: 'job', data: '{"a":1}' },
      { event: 'end', data: '{"b":2}' },
    ]);
  });

  it('joins data lines, names unnamed events "message", and skips comments', () => {
    const parser = new EventStreamParser();
    expect(parser.push(': keep-alive\n\ndata: one\ndata: two\n\n')).toEqual([
      { event: 'message', data: 'one\ntwo' },
    ]);
  });
});
