import { describe, expect, it } from 'vitest';
import { parseSse } from './sse.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const data of parseSse(streamOf(chunks))) out.push(data);
  return out;
}

describe('parseSse', () => {
  it('yields the data of each event, however the bytes are cut', async () => {
    const text =
      'data: {"a":1}\n\n: a comment\nevent: x\ndata: two\ndata: lines\n\ndata:[DONE]\n\n';
    const expected = ['{"a":1}', 'two\nlines', '[DONE]'];
    expect(await collect([text])).toEqual(expected);
    // one byte at a time, and CRLF line ends split between chunks
    expect(await collect([...text])).toEqual(expected);
    const crlf = text.replaceAll('\n', '\r\n');
    expect(await collect([...crlf])).toEqual(expected);
    expect(await collect(['data: ü', '€😀\n\n'])).toEqual(['ü€😀']);
  });

  it('yields a last event without its blank line', async () => {
    expect(await collect(['data: last'])).toEqual(['last']);
    expect(await collect([])).toEqual([]);
  });
});
