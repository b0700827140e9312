import { join } from 'node:path';
import { startChatServer } from '@aios/luna/testing';
import { percentile, seededHome, serveProcess } from '../serve-process.js';
import type { BenchResult, Suite } from '../types.js';
import { generateCorpus } from './carma.js';

/**
 * Milliseconds from sending a streamed chat completion to the first piece of text, then
 * reads the stream to its end (so the answer is stored before the next request).
 */
async function timeToFirstToken(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<number> {
  const start = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!response.ok || !response.body) {
    throw new Error(`${url}: ${response.status} ${await response.text()}`);
  }
  const decoder = new TextDecoder();
  let text = '';
  let first: number | undefined;
  for await (const chunk of response.body) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    if (first !== undefined) continue;
    for (const event of text.split('\n\n').slice(0, -1)) {
      const data = event.startsWith('data: ') ? event.slice(6) : '';
      if (data === '' || data === '[DONE]') continue;
      const parsed = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }> };
      if (parsed.choices?.[0]?.delta?.content) {
        first = performance.now() - start;
        break;
      }
    }
  }
  if (first === undefined) throw new Error(`${url}: no text in the stream: ${text.slice(0, 300)}`);
  return first;
}

const QUESTIONS = [
  'What do my notes say about the garden?',
  'When is the next appointment?',
  'Who services the car?',
  'Where did I put the spare key?',
];

/**
 * Time to first token of a streamed chat completion through `aios serve` (auth, retrieval
 * over the tenant's memory, budget, prompt, stream) against a loopback model that answers at
 * once, so the figure is AIOS's own overhead; and the same request sent to the loopback model
 * directly, in the same run.
 */
export const serveTtftSuite: Suite = {
  name: 'serve-ttft',
  description:
    'time to first token of a streamed /v1/chat/completions through aios serve vs the loopback model directly',
  async run({ quick, scratch, log }) {
    const results: BenchResult[] = [];
    const size = quick ? 10_000 : 100_000;
    const requests = quick ? 60 : 300;
    const warmup = 20;
    const corpus = generateCorpus(size, 11);
    const llm = await startChatServer();
    const params = { fragments: size, requests, stream: true };
    try {
      const direct: number[] = [];
      const directBody = (question: string) => ({
        model: 'test-model',
        stream: true,
        messages: [{ role: 'user', content: question }],
      });
      for (let i = 0; i < warmup + requests; i++) {
        const ms = await timeToFirstToken(
          `${llm.baseUrl}/chat/completions`,
          directBody(QUESTIONS[i % QUESTIONS.length] as string),
          {},
        );
        if (i >= warmup) direct.push(ms);
      }
      direct.sort((a, b) => a - b);
      results.push(
        {
          suite: 'serve-ttft',
          case: 'loopback model, direct',
          subject: 'loopback-llm',
          metric: 'ttft_p50_ms',
          value: percentile(direct, 50),
          params,
        },
        {
          suite: 'serve-ttft',
          case: 'loopback model, direct',
          subject: 'loopback-llm',
          metric: 'ttft_p99_ms',
          value: percentile(direct, 99),
          params,
        },
      );

      for (const native of ['native', 'js'] as const) {
        const home = join(scratch, `serve-ttft-${native}`);
        const { system, key } = await seededHome(home, native, corpus, ['chat'], (m) =>
          log(`serve-ttft ${m}`),
        );
        await system.close();
        const running = await serveProcess(home, native, {
          env: { AIOS_LUNA__LLM__BASE_URL: llm.baseUrl, AIOS_LUNA__LLM__MODEL: 'test-model' },
        });
        try {
          const via: number[] = [];
          for (let i = 0; i < warmup + requests; i++) {
            const ms = await timeToFirstToken(
              `${running.url}/v1/chat/completions`,
              {
                model: 'luna',
                stream: true,
                messages: [{ role: 'user', content: QUESTIONS[i % QUESTIONS.length] }],
              },
              { authorization: `Bearer ${key}` },
            );
            if (i >= warmup) via.push(ms);
          }
          via.sort((a, b) => a - b);
          const p50 = percentile(via, 50);
          log(
            `serve-ttft (${native}): p50 ${p50.toFixed(2)} ms, direct ${percentile(direct, 50).toFixed(2)} ms`,
          );
          results.push(
            {
              suite: 'serve-ttft',
              case: 'through aios serve',
              subject: native,
              metric: 'ttft_p50_ms',
              value: p50,
              params,
            },
            {
              suite: 'serve-ttft',
              case: 'through aios serve',
              subject: native,
              metric: 'ttft_p99_ms',
              value: percentile(via, 99),
              params,
            },
            {
              suite: 'serve-ttft',
              case: 'AIOS overhead (through - direct)',
              subject: native,
              metric: 'ttft_p50_ms',
              value: Math.max(0, p50 - percentile(direct, 50)),
              params,
            },
          );
        } finally {
          await running.stop();
        }
      }
    } finally {
      await llm.close();
    }
    return results;
  },
};
